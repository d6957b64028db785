"""What another system reads of a message: whom it was for, not only who wrote it."""

from typing import Any

import httpx
import pytest
from fhir.resources.R4B.communication import Communication

from app.config import Settings
from app.fhir.resources import GROUP_SYSTEM, USER_SYSTEM
from tests.support.auth import Account
from tests.support.fhir import fhir_gateway
from tests.support.world import build_world, call, ok

pytestmark = pytest.mark.usefixtures("fhir_url")


def named(reference: dict[str, Any]) -> tuple[str, str | None]:
    identifier = reference.get("identifier") or {}
    kind = {USER_SYSTEM: "user", GROUP_SYSTEM: "group"}[identifier["system"]]
    return f"{kind}/{identifier['value']}", reference.get("reference")


async def recipients_in_fhir(settings: Settings, fhir_id: str) -> list[tuple[str, str | None]]:
    async with fhir_gateway(settings) as fhir:
        message = (await fhir.read(Communication, fhir_id)).model_dump(mode="json")
    return sorted(named(reference) for reference in message.get("recipient", []))


async def test_every_message_names_everyone_else_taking_part_as_its_recipients(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
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

    patient = (f"user/{world.patient_1_user.id}", f"Patient/{world.patient_1}")
    assert first == sorted([(f"user/{world.nurse_a.id}", None), patient])
    assert second == sorted(
        [
            (f"user/{world.clinician_a.id}", None),
            (f"user/{world.nurse_a.id}", None),
            (f"group/{team['id']}", None),
        ]
    )
