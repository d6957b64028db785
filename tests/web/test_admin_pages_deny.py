"""The administration pages refuse whoever is not an admin, even with a valid session and
CSRF token; the organisation is unchanged afterwards."""

import re

import httpx
from fastapi.routing import APIRoute

from app.web.site import PAGE_ROUTERS
from tests.support.auth import Account
from tests.support.world import World, call, ok


async def _browser_sign_in(client: httpx.AsyncClient, account: Account) -> str:
    """Signs in as a browser does; answers the session's CSRF token from a page's form."""
    await client.get("/login")
    signed_in = await client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "login_csrf": client.cookies["parley_login_csrf"],
        },
    )
    assert signed_in.status_code == 303
    account_page = await client.get("/account")
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', account_page.text)
    assert found is not None
    return found.group(1)


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
    csrf = await _browser_sign_in(client, world.clinician_a)
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
