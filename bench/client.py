"""HTTP helpers the benchmarks share: call the API, log in, build a small organisation."""

from typing import Any

import httpx

PASSWORD = "a benchmark passphrase"


async def api(client: httpx.AsyncClient, method: str, url: str, token: str, **kwargs: Any) -> Any:
    response = await client.request(
        method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs
    )
    response.raise_for_status()
    return response.json() if response.content else None


async def login(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def organisation(client: httpx.AsyncClient, root: str, *features: str) -> int:
    created = await api(
        client, "POST", "/api/v1/organisations", root, json={"name": "Bench", "type": "clinic"}
    )
    for key in features:
        await api(client, "PUT", f"/api/v1/organisations/{created['id']}/features/{key}", root)
    return int(created["id"])


async def staff(
    client: httpx.AsyncClient, root: str, organisation_id: int, username: str, profession: str
) -> dict[str, Any]:
    user: dict[str, Any] = await api(
        client, "POST", "/api/v1/users", root,
        json={"username": username, "email": f"{username}@example.org",
              "full_name": username.replace("_", " ").title(), "password": PASSWORD,
              "system_permissions": "staff", "base_profession": profession},
    )  # fmt: skip
    await api(
        client, "PUT", f"/api/v1/organisations/{organisation_id}/staff/{user['id']}", root, json={}
    )
    return user


async def patient_with_login(
    client: httpx.AsyncClient, root: str, organisation_id: int, username: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    patient: dict[str, Any] = await api(
        client, "POST", "/api/v1/patients", root,
        json={"given_name": "Bench", "family_name": username.title(),
              "organisation_id": organisation_id},
    )  # fmt: skip
    portal: dict[str, Any] = await api(
        client, "POST", "/api/v1/users", root,
        json={"username": username, "email": f"{username}@example.org",
              "full_name": f"Patient {username}", "password": PASSWORD,
              "system_permissions": "patient", "base_profession": "patient",
              "fhir_patient_id": patient["id"]},
    )  # fmt: skip
    return patient, portal
