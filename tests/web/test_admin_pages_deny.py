"""The administration pages over HTTP: whoever is not an admin is refused, even with a valid
session and CSRF token; bad input is shown next to its field; neither writes anything."""

import re

import httpx
from fastapi.routing import APIRoute
from sqlalchemy import text

from app.config import Settings
from app.db import create_engine
from app.web.site import PAGE_ROUTERS
from tests.support.auth import Account
from tests.support.world import World, call, ok
from tests.web.pages import browser_sign_in


def _admin_routes() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for router in PAGE_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/admin")
        for method in route.methods or ()
    )


async def test_a_clinician_is_refused_every_administration_page(
    client: httpx.AsyncClient, world: World
) -> None:
    csrf = await browser_sign_in(client, world.clinician_a)
    values = {
        "organisation_id": str(world.org_a),
        "patient_id": world.patient_1,
        "user_id": str(world.nurse_a.id),
        "group_id": "1",
        "key": "patient_messaging",
        "change": "deactivate",
    }
    form = {
        "csrf_token": csrf, "name": "Taken over", "type": "gp_practice", "on": "false",
        "user_id": str(world.clinician_a.id), "patient_id": world.patient_2, "active": "false",
        "given_name": "Mal", "family_name": "Icious",
    }  # fmt: skip
    answers = {}
    for method, path in _admin_routes():
        concrete = re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)
        response = await client.request(method, concrete, data=form if method == "POST" else None)
        answers[(method, path)] = response.status_code

    assert len(answers) >= 20
    assert {route: status for route, status in answers.items() if status not in (403, 404)} == {}
    organisation = await ok(
        await call(client, "GET", f"/api/v1/organisations/{world.org_a}", world.admin)
    )
    features = await ok(
        await call(client, "GET", f"/api/v1/organisations/{world.org_a}/features", world.admin)
    )
    patient = await ok(
        await call(client, "GET", f"/api/v1/patients/{world.patient_1}", world.admin)
    )
    nurse = await ok(await call(client, "GET", f"/api/v1/users/{world.nurse_a.id}", world.admin))
    assert organisation["name"] == "Riverside Practice"
    assert "patient_messaging" in {feature["key"] for feature in features}
    assert patient["is_active"] is True
    assert world.org_a in patient["organisation_ids"]
    assert nurse["is_active"] is True


async def test_a_bad_patient_registration_shows_its_errors_and_writes_nothing(
    client: httpx.AsyncClient, settings: Settings, world: World, admin: Account
) -> None:
    csrf = await browser_sign_in(client, admin)
    patients_before = await ok(await call(client, "GET", "/api/v1/patients", admin))
    fhir_before = await _fhir_patients(settings)

    response = await client.post(
        f"/admin/organisations/{world.org_a}/patients/new",
        data={"csrf_token": csrf, "given_name": "", "family_name": "Reyes", "birth_date": "soon"},
    )

    assert response.status_code == 422
    assert 'id="given_name-error"' in response.text
    assert 'id="birth_date-error"' in response.text
    assert 'value="Reyes"' in response.text
    assert await ok(await call(client, "GET", "/api/v1/patients", admin)) == patients_before
    assert await _fhir_patients(settings) == fhir_before


async def _fhir_patients(settings: Settings) -> int:
    """Patients in the embedded FHIR store, which keeps its resources in the app's database."""
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            query = "SELECT count(*) FROM fhir_resources WHERE resource_type = 'Patient'"
            return int((await connection.execute(text(query))).scalar_one())
    finally:
        await engine.dispose()
