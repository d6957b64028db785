"""The right patient: NHS numbers and other identifiers (each held by one patient),
search by name, NHS number or birth date within what the caller may see, and a warning
of duplicates before registering."""

from typing import Any

import httpx
import pytest
from fhir.resources.R4B.patient import Patient

from app.config import Settings
from tests.support.auth import Account
from tests.support.fhir import fhir_gateway
from tests.support.world import World, build_world, call, ok

NHS = "https://fhir.nhs.uk/Id/nhs-number"
HOSPITAL = "https://hospital.example.org/id/mrn"


def nhs_number(first_nine: str) -> str:
    """A valid NHS number from nine digits, checked as NHS Digital describes (the nine
    chosen here never give the impossible check digit 10)."""
    check = 11 - sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True)) % 11
    return first_nine + str(0 if check == 11 else check)


async def register(
    client: httpx.AsyncClient, who: Account, organisation: int, **fields: Any
) -> httpx.Response:
    body = {"given_name": "Alex", "family_name": "Smith", "organisation_id": organisation}
    return await call(client, "POST", "/api/v1/patients", who, json=body | fields)


async def search(client: httpx.AsyncClient, who: Account, q: str) -> httpx.Response:
    return await call(client, "GET", "/api/v1/patients", who, params={"q": q})


def names(found: httpx.Response) -> list[str]:
    assert found.status_code == 200, found.text
    return sorted(f"{item['given_name']} {item['family_name']}" for item in found.json()["items"])


@pytest.mark.usefixtures("fhir_url")
async def test_a_patient_is_registered_with_identifiers_sex_and_phone_in_fhir_and_sql(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    world = await build_world(client, admin)

    created = await register(
        client, world.clinician_a, world.org_a, birth_date="1980-02-29", sex="female",
        nhs_number="943 476 5919", phone="+44 20 7946 0000",
        identifiers=[{"system": HOSPITAL, "value": "RVS-0042"}],
    )  # fmt: skip

    assert created.status_code == 201, created.text
    patient = created.json()
    assert patient["nhs_number"] == "9434765919"
    assert patient["sex"] == "female"
    assert patient["identifiers"] == [{"system": HOSPITAL, "value": "RVS-0042"}]
    assert isinstance(patient["age"], int)
    assert patient["age"] >= 46
    read = await ok(
        await call(client, "GET", f"/api/v1/patients/{patient['id']}", world.clinician_a)
    )
    assert read == patient
    async with fhir_gateway(settings) as fhir:
        stored = (await fhir.read(Patient, patient["id"])).model_dump(mode="json")
    assert {"system": NHS, "value": "9434765919"} in stored["identifier"]
    assert {"system": HOSPITAL, "value": "RVS-0042"} in stored["identifier"]
    assert stored["gender"] == "female"
    assert stored["telecom"] == [{"system": "phone", "value": "+44 20 7946 0000"}]


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("943 476 5918", "Modulus 11"),  # one digit wrong
        ("943 476 591", "10 digits"),
        ("94347659190", "10 digits"),
        ("943-476-591X", "10 digits"),
        ("\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19", "10 digits"),  # wide
    ],
)
async def test_an_invalid_nhs_number_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, admin: Account, given: str, why: str
) -> None:
    world = await build_world(client, admin)

    refused = await register(client, world.clinician_a, world.org_a, nhs_number=given)

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("invalid-nhs-number")
    assert why in refused.json()["detail"]
    assert names(await search(client, admin, "alex smith")) == []


async def test_a_second_patient_with_an_identifier_already_held_is_refused(
    client: httpx.AsyncClient, admin: Account
) -> None:
    world = await build_world(client, admin)
    number = nhs_number("401023213")
    first = await ok(await register(client, world.clinician_a, world.org_a, nhs_number=number))
    await ok(
        await register(
            client, world.clinician_a, world.org_a, given_name="Sam",
            nhs_number=nhs_number("485777345"), identifiers=[{"system": HOSPITAL, "value": "X1"}],
        )
    )  # fmt: skip

    seen = await register(
        client, world.clinician_a, world.org_a, nhs_number=number[:3] + " " + number[3:]
    )
    unseen = await register(client, world.clinician_b, world.org_b, nhs_number=number)
    same_hospital_number = await register(
        client, world.clinician_a, world.org_a, given_name="Kim",
        identifiers=[{"system": HOSPITAL, "value": "X1"}],
    )  # fmt: skip
    as_identifier = await register(
        client, world.clinician_a, world.org_a, identifiers=[{"system": NHS, "value": number}]
    )

    for refused in (seen, unseen, same_hospital_number, as_identifier):
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("duplicate-patient")
    assert seen.json()["existing_patient_id"] == first["id"]
    assert "existing_patient_id" not in unseen.json(), "never tell who exists to a stranger"
    assert names(await search(client, admin, "kim")) == []


@pytest.mark.parametrize("birth_date", ["1899-12-31", "2999-01-01"])
async def test_an_implausible_birth_date_is_refused(
    client: httpx.AsyncClient, admin: Account, birth_date: str
) -> None:
    world = await build_world(client, admin)

    refused = await register(client, world.clinician_a, world.org_a, birth_date=birth_date)

    assert refused.status_code == 422, refused.text
    assert names(await search(client, admin, "alex smith")) == []


async def registered(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    people = [
        ("Zoë", "O'Brien", "1980-02-03", nhs_number("943476591")),
        ("Alex", "Smith", "1970-01-01", None),
        ("Alexandra", "Smithson", "1985-06-07", None),
        ("Alex", "Jones", "1970-01-01", None),
    ]
    ids = {}
    for given, family, born, number in people:
        extra = {"nhs_number": number} if number else {}
        patient = await ok(
            await register(
                client, world.clinician_a, world.org_a,
                given_name=given, family_name=family, birth_date=born, **extra,
            )
        )  # fmt: skip
        ids[f"{given} {family}"] = patient["id"]
    return ids


async def test_search_by_name_words_nhs_number_or_birth_date(
    client: httpx.AsyncClient, admin: Account
) -> None:
    world = await build_world(client, admin)
    await registered(client, world)
    who = world.clinician_a

    assert names(await search(client, who, "obr zo")) == ["Zoë O'Brien"]
    assert names(await search(client, who, "ZOE")) == ["Zoë O'Brien"]
    assert names(await search(client, who, "smith alex")) == ["Alex Smith", "Alexandra Smithson"]
    assert names(await search(client, who, "Alex  Jo")) == ["Alex Jones"]
    assert names(await search(client, who, "9434765919")) == ["Zoë O'Brien"]
    assert names(await search(client, who, " 943 476 5919 ")) == ["Zoë O'Brien"]
    assert names(await search(client, who, "1970-01-01")) == ["Alex Jones", "Alex Smith"]
    assert names(await search(client, who, "nobody")) == []


async def test_search_finds_only_what_the_caller_may_see(
    client: httpx.AsyncClient, admin: Account
) -> None:
    world = await build_world(client, admin)
    await registered(client, world)

    assert names(await search(client, world.clinician_b, "zoe")) == []
    assert names(await search(client, world.clinician_b, "9434765919")) == []
    assert names(await search(client, world.clinician_b, "bravo")) != []
    assert names(await search(client, world.patient_1_user, "alex")) == []


@pytest.mark.parametrize("q", ["a", " a ", "1970-13-01", "--", ""])
async def test_a_search_too_short_or_malformed_is_refused(
    client: httpx.AsyncClient, admin: Account, q: str
) -> None:
    world = await build_world(client, admin)

    refused = await search(client, world.clinician_a, q)

    assert refused.status_code == 422, refused.text


async def test_possible_duplicates_are_found_before_registering(
    client: httpx.AsyncClient, admin: Account
) -> None:
    world = await build_world(client, admin)
    ids = await registered(client, world)
    path = "/api/v1/patients/duplicates"

    same = await call(
        client, "GET", path, world.clinician_a,
        params={"given_name": "zoe", "family_name": "O BRIEN", "birth_date": "1980-02-03"},
    )  # fmt: skip
    other_day = await call(
        client, "GET", path, world.clinician_a,
        params={"given_name": "Zoë", "family_name": "O'Brien", "birth_date": "1980-02-04"},
    )  # fmt: skip
    stranger = await call(
        client, "GET", path, world.clinician_b,
        params={"given_name": "Zoë", "family_name": "O'Brien", "birth_date": "1980-02-03"},
    )  # fmt: skip

    assert [item["id"] for item in await ok(same)] == [ids["Zoë O'Brien"]]
    assert await ok(other_day) == []
    assert await ok(stranger) == []


async def test_conversations_show_who_their_patient_is_beyond_a_name(
    client: httpx.AsyncClient, admin: Account
) -> None:
    """Two patients called Alex Smith are told apart in the inbox and on the conversation."""
    world = await build_world(client, admin)
    twins = [
        await ok(
            await register(
                client, world.clinician_a, world.org_a, birth_date=born, nhs_number=number
            )
        )
        for born, number in (("1970-01-01", nhs_number("401023213")), ("1990-05-05", None))
    ]
    for twin in twins:
        await ok(
            await call(
                client, "POST", "/api/v1/conversations", world.clinician_a,
                json={"patient_id": twin["id"], "message": {"text": "Results are back"}},
            )
        )  # fmt: skip

    inbox = await ok(await call(client, "GET", "/api/v1/conversations", world.clinician_a))
    shown = sorted(
        (item["patient"]["name"], item["patient"]["birth_date"], item["patient"]["nhs_number"])
        for item in inbox["items"]
    )
    detail = await ok(
        await call(
            client, "GET", f"/api/v1/conversations/{inbox['items'][0]['id']}", world.clinician_a
        )
    )

    assert shown == [
        ("Alex Smith", "1970-01-01", nhs_number("401023213")),
        ("Alex Smith", "1990-05-05", None),
    ]
    assert detail["patient"] == inbox["items"][0]["patient"]
    assert detail["patient"]["id"] == detail["patient_id"]
