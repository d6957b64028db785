"""What another system finds on the FHIR server: every kind of resource Parley writes
validates against Parley's published definitions (loaded from fhir/conformance/) with no
error and no warning, and names nothing by a private `urn:parley:` name."""

import json
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.fhir import conformance
from app.fhir.canonical import CanonicalNames
from tests.support.auth import Account
from tests.support.fhir import fhir_gateway
from tests.support.media import png, wav
from tests.support.processes import parley_environment, run_parley
from tests.support.world import build_world, call, ok

# HAPI only: the embedded store is Parley's alone and keeps Parley's internal names.
on_hapi = pytest.mark.parametrize(
    "fhir_url", [pytest.param("hapi", marks=pytest.mark.hapi)], indirect=True
)
PROBLEMS = ("fatal", "error", "warning")


async def raw(settings: Settings, path: str) -> dict[str, Any]:
    """The resource as any FHIR client reads it, with no Parley code in between."""
    async with httpx.AsyncClient(base_url=settings.fhir_url + "/") as server:
        response = await server.get(
            path, headers={"Cache-Control": "no-cache", "Accept": "application/fhir+json"}
        )
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    if document["resourceType"] == "Bundle":
        return dict(document["entry"][0]["resource"])
    return document


async def problems(settings: Settings, resource: dict[str, Any]) -> list[str]:
    async with httpx.AsyncClient(base_url=settings.fhir_url + "/", timeout=60) as server:
        response = await server.post(
            f"{resource['resourceType']}/$validate",
            json=resource,
            headers={"Content-Type": "application/fhir+json"},
        )
    outcome = response.json()
    return [
        f"{resource['resourceType']}: {issue['severity']}: {issue.get('diagnostics')}"
        for issue in outcome.get("issue", [])
        if issue["severity"] in PROBLEMS
    ]


@on_hapi
async def test_every_kind_of_resource_parley_writes_validates_with_no_warning(
    fhir_url: str, client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    async with fhir_gateway(settings) as fhir:
        await conformance.load(fhir, settings.fhir_canonical_url)
    world = await build_world(client, admin)
    team = await ok(
        await call(
            client, "POST", "/api/v1/groups", admin,
            json={"name": "Renal team", "organisation_id": world.org_a,
                  "member_ids": [world.nurse_a.id]},
        )
    )  # fmt: skip
    started = await ok(
        await call(
            client, "POST", "/api/v1/conversations", world.clinician_a,
            json={"patient_id": world.patient_1, "subject": "Bloods", "include_patient": True,
                  "participant_ids": [world.nurse_a.id], "message": {"text": "Take 5 mg"}},
        )
    )  # fmt: skip
    url = f"/api/v1/conversations/{started['id']}"
    await ok(await call(client, "POST", f"{url}/participants", world.clinician_a,
                        json={"group_id": team["id"]}))  # fmt: skip
    thread = await ok(await call(client, "GET", f"{url}/messages", world.clinician_a))
    original = thread["items"][0]
    correction = await ok(
        await call(client, "POST", f"{url}/messages", world.clinician_a,
                   json={"text": "Take 50 mg", "amends_id": original["id"]})
    )  # fmt: skip
    sent = {}
    for name, data, kind in (("photo.png", png(), "image/png"), ("note.wav", wav(), "audio/wav")):
        response = await client.post(
            f"{url}/messages", files={"file": (name, data, kind)},
            headers=world.patient_1_user.headers,
        )  # fmt: skip
        sent[kind] = await ok(response)
    await ok(await call(client, "PATCH", url, world.clinician_a, json={"status": "closed"}))

    message = await raw(settings, f"Communication/{original['fhir_id']}")
    image = await raw(settings, f"Communication/{sent['image/png']['fhir_id']}")
    voice = await raw(settings, f"Communication/{sent['audio/wav']['fhir_id']}")
    header = await raw(settings, message["partOf"][0]["reference"])
    sender = message["sender"]["reference"]
    resources = [
        header,
        message,
        image,
        voice,
        await raw(settings, f"Communication/{correction['fhir_id']}"),
        await raw(settings, f"Provenance?target=Communication/{correction['fhir_id']}"),
        await raw(settings, image["payload"][0]["contentAttachment"]["url"]),
        await raw(settings, message["subject"]["reference"]),
        await raw(settings, sender),
        await raw(settings, f"PractitionerRole?practitioner={sender}"),
        await raw(settings, _recipient(header, "Group/")),
    ]
    resources.append(await raw(settings, resources[-2]["organization"]["reference"]))

    kinds = sorted({resource["resourceType"] for resource in resources})
    assert kinds == [
        "Binary", "Communication", "Group", "Organization", "Patient", "Practitioner",
        "PractitionerRole", "Provenance",
    ]  # fmt: skip
    found = [problem for resource in resources for problem in await problems(settings, resource)]
    assert found == []
    assert "urn:parley" not in json.dumps(resources)
    base = settings.fhir_canonical_url
    assert header["meta"]["profile"] == [f"{base}/StructureDefinition/parley-thread-header"]
    assert message["meta"]["profile"] == [f"{base}/StructureDefinition/parley-message"]
    assert header["status"] == "completed"


def _recipient(header: dict[str, Any], kind: str) -> str:
    return next(
        str(recipient["reference"])
        for recipient in header["recipient"]
        if recipient["reference"].startswith(kind)
    )


@on_hapi
async def test_a_profile_is_enforced_by_the_validator(fhir_url: str, settings: Settings) -> None:
    """The check above can fail: a thread header with a payload breaks its profile."""
    async with fhir_gateway(settings) as fhir:
        await conformance.load(fhir, settings.fhir_canonical_url)
    base = settings.fhir_canonical_url
    broken = {
        "resourceType": "Communication",
        "meta": {"profile": [f"{base}/StructureDefinition/parley-thread-header"]},
        "status": "in-progress",
        "payload": [{"contentString": "a header carries no message"}],
        "extension": [{"url": f"{base}/StructureDefinition/parley-joined", "valueString": "x"}],
    }
    found = await problems(settings, broken)
    assert any("payload" in problem for problem in found)
    assert any("parley-joined" in problem for problem in found)


def test_every_name_parley_defines_ships_with_its_definition() -> None:
    base = "https://fhir.example.org/parley"
    shipped = conformance.conformance_resources(base)
    assert {str(resource.url) for resource in shipped} == CanonicalNames(base).defined()  # type: ignore[attr-defined]
    assert "parley.invalid" not in json.dumps(
        [resource.model_dump(mode="json") for resource in shipped]
    )


@on_hapi
async def test_load_conformance_puts_every_definition_on_the_server(
    fhir_url: str, settings: Settings
) -> None:
    base = "https://fhir.example.org/parley-cli-test"
    env = parley_environment(
        PARLEY_DATABASE_URL=settings.database_url,
        PARLEY_FHIR_URL=fhir_url,
        PARLEY_FHIR_CANONICAL_URL=base,
    )

    first = await run_parley("load-conformance", env=env)
    again = await run_parley("load-conformance", env=env)
    async with httpx.AsyncClient(base_url=settings.fhir_url + "/") as server:
        bundle = (
            await server.get(
                "StructureDefinition",
                params={"url": f"{base}/StructureDefinition/parley-message"},
                headers={"Cache-Control": "no-cache", "Accept": "application/fhir+json"},
            )
        ).json()

    assert first.code == 0, first.stderr
    assert again.code == 0, again.stderr
    shipped = len(conformance.conformance_resources(base))
    assert f"Loaded {shipped} definitions under {base}." in first.stdout
    # Loaded twice, found once: the second run replaced what the first made.
    assert [entry["resource"]["url"] for entry in bundle.get("entry", [])] == [
        f"{base}/StructureDefinition/parley-message"
    ]
