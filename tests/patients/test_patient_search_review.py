"""Finding the right patient however the name was typed (other scripts, letters NFKD keeps
whole, apostrophes or none, names that grow when folded), and the NHS number as one
number whichever way its system is spelt, with a refused second registration audited."""

from typing import Any

import httpx
import pytest

from tests.support.auth import Account
from tests.support.world import World, call, ok

NUMBER = "9434765919"  # passes the Modulus 11 check
WRONG_CHECK_DIGIT = "9434765918"
OTHER_NUMBER = "4010232137"


async def register(client: httpx.AsyncClient, world: World, **fields: Any) -> httpx.Response:
    body = {"given_name": "Alex", "family_name": "Smith", "organisation_id": world.org_a}
    return await call(client, "POST", "/api/v1/patients", world.clinician_a, json=body | fields)


async def registered(client: httpx.AsyncClient, world: World, given: str, family: str) -> str:
    patient = await ok(await register(client, world, given_name=given, family_name=family))
    patient_id: str = patient["id"]
    return patient_id


async def found(client: httpx.AsyncClient, who: Account, q: str) -> list[str]:
    answer = await call(client, "GET", "/api/v1/patients", who, params={"q": q})
    return [item["id"] for item in (await ok(answer))["items"]]


async def duplicates(
    client: httpx.AsyncClient, who: Account, given: str, family: str, born: str
) -> list[str]:
    params = {"given_name": given, "family_name": family, "birth_date": born}
    answer = await call(client, "GET", "/api/v1/patients/duplicates", who, params=params)
    return [item["id"] for item in await ok(answer)]


async def test_search_folds_nordic_letters_and_finds_cyrillic_names(
    client: httpx.AsyncClient, world: World
) -> None:
    soren = await registered(client, world, "Søren", "Ærø")
    dmitry = await registered(client, world, "Дмитрий", "Ёлкин")

    for q in ("soren", "aero"):
        assert await found(client, world.clinician_a, q) == [soren], q
    for q in ("дмит", "ЁЛК"):
        assert await found(client, world.clinician_a, q) == [dmitry], q


async def test_search_with_or_without_an_apostrophe_finds_both_spellings(
    client: httpx.AsyncClient, world: World
) -> None:
    both = sorted(
        [
            await registered(client, world, "Niamh", "O'Brien"),
            await registered(client, world, "Sean", "OBrien"),
        ]
    )

    for q in ("o'brien", "o\u2019brien", "obrien"):
        assert sorted(await found(client, world.clinician_a, q)) == both, q


async def test_a_name_longer_once_case_folded_registers_and_is_found(
    client: httpx.AsyncClient, world: World
) -> None:
    """100 ß (the longest family name allowed) fold to 200 letters, wider than a search word."""
    created = await register(client, world, family_name="ß" * 100)

    assert created.status_code == 201, created.text
    assert await found(client, world.clinician_a, "ss" * 5) == [created.json()["id"]]


async def test_a_second_registration_of_an_nhs_number_is_refused_and_audited(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    existing = await ok(await register(client, world, nhs_number=NUMBER))

    stranger = {"given_name": "Sam", "family_name": "Jones", "organisation_id": world.org_b}
    refused = await call(
        client,
        "POST",
        "/api/v1/patients",
        world.clinician_b,
        json=stranger | {"nhs_number": NUMBER},
    )

    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("duplicate-patient")
    trail = await ok(
        await call(
            client, "GET", "/api/v1/audit", admin,
            params={"patient_id": existing["id"], "outcome": "denied"},
        )
    )  # fmt: skip
    assert [(row["action"], row["actor_id"], row["reason"]) for row in trail["items"]] == [
        ("patients.create", world.clinician_b.id, "duplicate-patient")
    ]


@pytest.mark.parametrize(
    "system", ["http://fhir.nhs.uk/Id/nhs-number", "https://FHIR.nhs.uk/Id/nhs-number/"]
)
async def test_an_nhs_number_system_spelt_another_way_is_still_the_nhs_number(
    client: httpx.AsyncClient, world: World, system: str
) -> None:
    await ok(await register(client, world, nhs_number=NUMBER))

    failing_check = await register(
        client,
        world,
        given_name="Kim",
        identifiers=[{"system": system, "value": WRONG_CHECK_DIGIT}],
    )
    already_held = await register(
        client, world, given_name="Kim", identifiers=[{"system": system, "value": NUMBER}]
    )

    assert failing_check.status_code == 422, failing_check.text
    assert failing_check.json()["type"].endswith("invalid-nhs-number")
    assert already_held.status_code == 409, already_held.text
    assert already_held.json()["type"].endswith("duplicate-patient")
    assert await found(client, world.clinician_a, "kim") == []
    new = await ok(
        await register(client, world, identifiers=[{"system": system, "value": OTHER_NUMBER}])
    )
    assert (new["nhs_number"], new["identifiers"]) == (OTHER_NUMBER, [])


async def test_a_deactivated_patient_is_still_a_possible_duplicate(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    patient = await ok(await register(client, world, birth_date="1975-05-05"))
    await ok(await call(client, "POST", f"/api/v1/patients/{patient['id']}/deactivate", admin))

    seen_by_clinician = await duplicates(client, world.clinician_a, "Alex", "Smith", "1975-05-05")
    seen_by_admin = await duplicates(client, admin, "Alex", "Smith", "1975-05-05")

    assert seen_by_clinician == seen_by_admin == [patient["id"]]


async def test_a_possible_duplicate_is_found_with_or_without_an_apostrophe(
    client: httpx.AsyncClient, world: World
) -> None:
    patient = await ok(
        await register(
            client, world, given_name="Niamh", family_name="OBrien", birth_date="1980-02-03"
        )
    )

    assert await duplicates(client, world.clinician_a, "Niamh", "O'Brien", "1980-02-03") == [
        patient["id"]
    ]
