"""Patients: FHIR first, then Parley's record; visibility and external access grants."""

import httpx
import pytest
from fhir.resources.R4B.patient import Patient

from app.config import Settings
from app.fhir.resources import PATIENT_SYSTEM
from app.main import create_app
from tests.support.app import running_client
from tests.support.auth import Account, create_user, login
from tests.support.faults import FaultyFhir
from tests.support.fhir import fhir_gateway
from tests.support.live import live_server
from tests.support.world import add_staff, build_world, call, create_organisation


async def read_fhir_patient(settings: Settings, patient_id: str) -> Patient:
    async with fhir_gateway(settings) as gateway:
        return await gateway.read(Patient, patient_id)


@pytest.mark.usefixtures("fhir_url")
async def test_creating_a_patient_writes_a_fhir_patient_then_the_record(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    organisation_id = await create_organisation(client, admin, "Registry")

    created = await call(
        client, "POST", "/api/v1/patients", admin,
        json={"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1955-12-10",
              "organisation_id": organisation_id},
    )  # fmt: skip

    assert created.status_code == 201
    body = created.json()
    assert body["organisation_ids"] == [organisation_id]
    assert body["is_active"] is True
    fhir_patient = await read_fhir_patient(settings, body["id"])
    assert fhir_patient.name is not None
    assert fhir_patient.name[0].family == "Lovelace"
    assert str(fhir_patient.birthDate) == "1955-12-10"
    read = await call(client, "GET", f"/api/v1/patients/{body['id']}", admin)
    assert read.json() == body


async def test_bad_patient_input_writes_nothing(client: httpx.AsyncClient, admin: Account) -> None:
    organisation_id = await create_organisation(client, admin, "Strict")

    no_name = await call(
        client, "POST", "/api/v1/patients", admin,
        json={"given_name": "", "family_name": "X", "organisation_id": organisation_id},
    )  # fmt: skip
    bad_date = await call(
        client, "POST", "/api/v1/patients", admin,
        json={"given_name": "A", "family_name": "X", "birth_date": "yesterday",
              "organisation_id": organisation_id},
    )  # fmt: skip
    no_such_organisation = await call(
        client, "POST", "/api/v1/patients", admin,
        json={"given_name": "A", "family_name": "X", "organisation_id": 9999},
    )  # fmt: skip

    assert no_name.status_code == 422
    assert no_name.json()["errors"][0]["loc"] == ["body", "given_name"]
    assert bad_date.json()["errors"][0]["loc"] == ["body", "birth_date"]
    assert no_such_organisation.status_code == 404
    assert (await call(client, "GET", "/api/v1/patients", admin)).json()["items"] == []


async def test_a_deactivated_patient_leaves_clinical_lists_but_not_the_admins(
    client: httpx.AsyncClient, admin: Account
) -> None:
    world = await build_world(client, admin)

    await call(client, "POST", f"/api/v1/patients/{world.patient_1}/deactivate", admin)
    clinical = await call(client, "GET", "/api/v1/patients", world.clinician_a)
    managed = await call(client, "GET", "/api/v1/patients", admin)
    direct = await call(client, "GET", f"/api/v1/patients/{world.patient_1}", world.clinician_a)

    assert world.patient_1 not in [p["id"] for p in clinical.json()["items"]]
    assert {p["id"]: p["is_active"] for p in managed.json()["items"]}[world.patient_1] is False
    assert direct.json()["is_active"] is False


async def test_access_grant_rules(client: httpx.AsyncClient, admin: Account) -> None:
    world = await build_world(client, admin)
    url = f"/api/v1/patients/{world.patient_1}/access-grants"

    duplicate = await call(client, "POST", url, admin, json={"user_id": world.external_granted.id})
    to_patient = await call(client, "POST", url, admin, json={"user_id": world.patient_2_user.id})
    to_nobody = await call(client, "POST", url, admin, json={"user_id": 9999})
    by_patient = await call(
        client, "POST", url, world.patient_1_user, json={"user_id": world.external_none.id}
    )
    now_visible = await call(
        client, "GET", f"/api/v1/patients/{world.patient_1}", world.external_none
    )

    assert duplicate.status_code == 409
    assert to_patient.status_code == 422
    assert to_nobody.status_code == 422
    assert by_patient.status_code == 201
    assert by_patient.json()["granted_by_id"] == world.patient_1_user.id
    assert now_visible.status_code == 200


async def test_the_patient_list_pages_by_name(client: httpx.AsyncClient, admin: Account) -> None:
    organisation_id = await create_organisation(client, admin, "Alphabet")
    clerk = await create_user(client, admin, "clerk", base_profession="nurse")
    await add_staff(client, admin, organisation_id, clerk)
    await login(client, clerk)
    for family in ("Delta", "Alpha", "Charlie", "Bravo"):
        await call(
            client, "POST", "/api/v1/patients", clerk,
            json={"given_name": "P", "family_name": family, "organisation_id": organisation_id},
        )  # fmt: skip

    first = await call(client, "GET", "/api/v1/patients", clerk, params={"limit": 3})
    second = await call(
        client, "GET", "/api/v1/patients", clerk,
        params={"limit": 3, "cursor": first.json()["next_cursor"]},
    )  # fmt: skip

    names = [p["family_name"] for p in first.json()["items"] + second.json()["items"]]
    assert names == ["Alpha", "Bravo", "Charlie", "Delta"]
    assert second.json()["next_cursor"] is None


@pytest.mark.hapi
async def test_a_patient_whose_fhir_answer_was_lost_is_created_once(
    client: httpx.AsyncClient, admin: Account, settings: Settings, hapi_url: str
) -> None:
    """The server made the Patient but its answer never came back: the retry finds that
    Patient by its identifier instead of making a second one."""
    organisation_id = await create_organisation(client, admin, "Registry")
    proxy = FaultyFhir(hapi_url)
    proxy.mode = "lost-answer"
    async with live_server(proxy.app) as proxy_url:
        faulty = settings.model_copy(update={"fhir_url": f"{proxy_url}/fhir"})
        async with running_client(create_app(faulty)) as faulty_client:
            created = await faulty_client.post(
                "/api/v1/patients", headers=admin.headers,
                json={"given_name": "Grace", "family_name": "Hopper", "birth_date": "1906-12-09",
                      "organisation_id": organisation_id},
            )  # fmt: skip
    assert created.status_code == 201, created.text
    patient = await read_fhir_patient(
        settings.model_copy(update={"fhir_url": hapi_url}), created.json()["id"]
    )
    identifier = next(item for item in patient.identifier or [] if item.system == PATIENT_SYSTEM)
    async with fhir_gateway(settings.model_copy(update={"fhir_url": hapi_url})) as gateway:
        same = [
            found
            async for found in gateway.search(
                Patient, [("identifier", f"{PATIENT_SYSTEM}|{identifier.value}")]
            )
        ]

    assert [found.id for found in same] == [patient.id]


async def test_registering_a_patient_with_an_idempotency_key_is_safe_to_repeat(
    client: httpx.AsyncClient, admin: Account
) -> None:
    organisation_id = await create_organisation(client, admin, "Registry")
    body = {"given_name": "Mary", "family_name": "Seacole", "birth_date": "1945-11-23",
            "organisation_id": organisation_id}  # fmt: skip
    keyed = {**admin.headers, "Idempotency-Key": "register-mary-1"}

    first = await client.post("/api/v1/patients", json=body, headers=keyed)
    again = await client.post("/api/v1/patients", json=body, headers=keyed)
    other = await client.post(
        "/api/v1/patients", json={**body, "given_name": "Maria"}, headers=keyed
    )
    listed = await call(client, "GET", "/api/v1/patients", admin)

    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.json() == first.json()
    assert other.status_code == 422
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert [item["family_name"] for item in listed.json()["items"]].count("Seacole") == 1
