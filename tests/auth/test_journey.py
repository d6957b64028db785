"""The whole life of a clinician's login, through the HTTP API."""

from dataclasses import replace

import httpx

from tests.support.auth import Account, code_at, create_user, login


async def enrol_totp(client: httpx.AsyncClient, account: Account) -> str:
    setup = await client.post("/api/v1/auth/totp/setup", headers=account.headers)
    assert setup.status_code == 200, setup.text
    secret: str = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/Parley:")
    assert "<svg" in setup.json()["qr_svg"]
    enabled = await client.post(
        "/api/v1/auth/totp/enable", json={"code": code_at(secret)}, headers=account.headers
    )
    assert enabled.status_code == 204, enabled.text
    return secret


async def test_clinician_login_lifecycle(client: httpx.AsyncClient, admin: Account) -> None:
    clinician = await create_user(client, admin, "dr_ada", base_profession="consultant")
    first = await login(client, clinician)
    spare = await login(client, replace(clinician))  # a second device
    me = await client.get("/api/v1/auth/me", headers=first.headers)
    assert me.json()["username"] == "dr_ada"
    assert "message_patients" in me.json()["competencies"]

    secret = await enrol_totp(client, first)
    assert (await client.post("/api/v1/auth/logout", headers=first.headers)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=first.headers)).status_code == 401

    no_code = await client.post(
        "/api/v1/auth/login", json={"username": "dr_ada", "password": clinician.password}
    )
    assert no_code.status_code == 401
    assert no_code.json()["type"].endswith("totp-required")

    next_code = code_at(secret, offset_steps=1)  # the enrolment spent the current step
    with_code = await login(client, replace(clinician), totp_code=next_code)
    replay = await client.post(
        "/api/v1/auth/login",
        json={"username": "dr_ada", "password": clinician.password, "totp_code": next_code},
    )
    assert replay.status_code == 401
    assert replay.json()["type"].endswith("totp-invalid")

    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": with_code.refresh_token}
    )
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != with_code.refresh_token
    reused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": with_code.refresh_token}
    )
    assert reused.status_code == 401
    assert reused.json()["type"].endswith("refresh-token-reused")
    family_member = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
    )
    assert family_member.status_code == 401
    rotated_access = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=rotated_access)).status_code == 401

    assert (await client.get("/api/v1/auth/me", headers=spare.headers)).status_code == 200
    deactivated = await client.post(
        f"/api/v1/users/{clinician.id}/deactivate", headers=admin.headers
    )
    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False
    assert (await client.get("/api/v1/auth/me", headers=spare.headers)).status_code == 401
    spare_refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": spare.refresh_token}
    )
    assert spare_refresh.status_code == 401
