"""What another system reads of a message: whom it was for, and what corrected it."""

from typing import Any, cast

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.resource import Resource

from app.config import Settings
from app.fhir.protocol import FhirGateway
from app.fhir.resources import GROUP_SYSTEM, USER_SYSTEM
from tests.support.auth import Account
from tests.support.fhir import fhir_gateway
from tests.support.world import build_world, call, ok

pytestmark = pytest.mark.usefixtures("fhir_url")


async def recipients_in_fhir(settings: Settings, fhir_id: str) -> list[tuple[str, str]]:
    """(Parley's name for each recipient, what its literal reference leads to)."""
    async with fhir_gateway(settings) as fhir:
        message = (await fhir.read(Communication, fhir_id)).model_dump(mode="json")
        return sorted(
            [(named(reference), await followed(fhir, reference["reference"]))
             for reference in message.get("recipient", [])]
        )  # fmt: skip


def named(reference: dict[str, Any]) -> str:
    identifier = reference.get("identifier") or {}
    kind = {USER_SYSTEM: "user", GROUP_SYSTEM: "group"}[identifier["system"]]
    return f"{kind}/{identifier['value']}"


async def followed(fhir: FhirGateway, reference: str) -> str:
    """What any FHIR client finds at a reference: the resource's kind and name."""
    kind, resource_id = reference.split("/")
    if kind == "Patient":  # the patient's own record: its reference says enough
        return reference
    found = (
        await fhir.read(cast(type[Resource], get_fhir_model_class(kind)), resource_id)
    ).model_dump(mode="json")
    name = found["name"]
    shown = name if isinstance(name, str) else name[0].get("text") or name[0]["family"]
    return f"{kind}: {shown}"


async def full_name(client: httpx.AsyncClient, admin: Account, user: Account) -> str:
    return str(
        (await ok(await call(client, "GET", f"/api/v1/users/{user.id}", admin)))["full_name"]
    )


async def test_every_message_names_everyone_else_taking_part_as_its_recipients(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    """Each recipient is a literal reference to a Practitioner, Group or Patient that any
    FHIR client can read, with Parley's identifier beside it."""
    world = await build_world(client, admin)
    team = await ok(
        await call(
            client, "POST", "/api/v1/groups", admin,
            json={"name": "Renal team", "organisation_id": world.org_a, "member_ids": []},
        )
    )  # fmt: skip
    started = await ok(
        await call(
            client, "POST", "/api/v1/conversations", world.clinician_a,
            json={"patient_id": world.patient_1, "include_patient": True,
                  "participant_ids": [world.nurse_a.id], "message": {"text": "Bloods due"}},
        )
    )  # fmt: skip
    path = f"/api/v1/conversations/{started['id']}"
    await ok(await call(client, "POST", f"{path}/participants", world.clinician_a,
                        json={"group_id": team["id"]}))  # fmt: skip
    reply = await ok(
        await call(client, "POST", f"{path}/messages", world.patient_1_user, json={"text": "OK"})
    )
    thread = await ok(await call(client, "GET", f"{path}/messages", world.clinician_a))

    first = await recipients_in_fhir(settings, thread["items"][0]["fhir_id"])
    second = await recipients_in_fhir(settings, reply["fhir_id"])

    nurse = (
        f"user/{world.nurse_a.id}",
        f"Practitioner: {await full_name(client, admin, world.nurse_a)}",
    )
    clinician = (
        f"user/{world.clinician_a.id}",
        f"Practitioner: {await full_name(client, admin, world.clinician_a)}",
    )
    patient = (f"user/{world.patient_1_user.id}", f"Patient/{world.patient_1}")
    assert first == sorted([nurse, patient])
    assert second == sorted([clinician, nurse, (f"group/{team['id']}", "Group: Renal team")])


async def test_a_correction_is_found_from_its_original_with_standard_searches(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    """Another system finds what corrected a message (Provenance `entity` with the role
    `revision`) and what a correction corrects (`inResponseTo`), with no Parley extension."""
    world = await build_world(client, admin)
    started = await ok(
        await call(
            client, "POST", "/api/v1/conversations", world.clinician_a,
            json={"patient_id": world.patient_1, "message": {"text": "Take 5 mg"}},
        )
    )  # fmt: skip
    path = f"/api/v1/conversations/{started['id']}/messages"
    original = (await ok(await call(client, "GET", path, world.clinician_a)))["items"][0]
    correction = await ok(
        await call(
            client, "POST", path, world.clinician_a,
            json={"text": "Take 50 mg", "amends_id": original["id"]},
        )
    )  # fmt: skip

    async with fhir_gateway(settings) as fhir:
        found = [
            provenance.model_dump(mode="json")
            async for provenance in fhir.search(
                Provenance, [("entity", f"Communication/{original['fhir_id']}")]
            )
        ]
        corrected = await fhir.read(Communication, correction["fhir_id"])
        untouched = await fhir.read(Communication, original["fhir_id"])

    assert len(found) == 1
    assert found[0]["target"] == [{"reference": f"Communication/{correction['fhir_id']}"}]
    assert found[0]["entity"][0]["role"] == "revision"
    assert found[0]["activity"]["coding"][0]["code"] == "UPDATE"
    assert corrected.inResponseTo is not None
    assert corrected.inResponseTo[0].reference == f"Communication/{original['fhir_id']}"
    assert untouched.meta is not None
    assert untouched.meta.versionId == "1"


async def test_every_resource_parley_writes_has_a_narrative_that_shows_text_as_text(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    world = await build_world(client, admin)
    started = await ok(
        await call(
            client, "POST", "/api/v1/conversations", world.clinician_a,
            json={"patient_id": world.patient_1, "subject": "Dose <b>check</b>",
                  "message": {"text": "Take 5 mg <script>alert(1)</script>"}},
        )
    )  # fmt: skip
    path = f"/api/v1/conversations/{started['id']}"
    original = (await ok(await call(client, "GET", f"{path}/messages", world.clinician_a)))[
        "items"
    ][0]
    correction = await ok(
        await call(
            client, "POST", f"{path}/messages", world.clinician_a,
            json={"text": "Take 50 mg", "amends_id": original["id"]},
        )
    )  # fmt: skip
    await ok(await call(client, "PATCH", path, world.clinician_a, json={"status": "closed"}))

    async with fhir_gateway(settings) as fhir:
        written = {
            "header": await fhir.read(Communication, started["fhir_id"]),
            "message": await fhir.read(Communication, original["fhir_id"]),
            "correction": await fhir.read(Communication, correction["fhir_id"]),
            "patient": await fhir.read(Patient, world.patient_1),
        }
        async for provenance in fhir.search(
            Provenance, [("target", f"Communication/{correction['fhir_id']}")]
        ):
            written["provenance"] = provenance
    narratives = {kind: resource.text for kind, resource in written.items()}
    divs = {kind: str(text.div) for kind, text in narratives.items() if text is not None}

    assert set(written) == {"header", "message", "correction", "patient", "provenance"}
    assert all(text is not None and text.status == "generated" for text in narratives.values())
    assert set(divs) == set(written)
    assert "Subject: Dose &lt;b&gt;check&lt;/b&gt;" in divs["header"]
    assert "(closed)" in divs["header"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in divs["message"]
    assert "<script>" not in divs["message"]
    assert "correction" in divs["correction"]
