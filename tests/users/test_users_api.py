"""User administration: who may do what to whom, and bad input."""

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.main import create_app
from tests.support.app import running_client
from tests.support.auth import PASSWORD, Account, create_user, login


def new_user(username: str, **fields: Any) -> dict[str, Any]:
    return {
        "username": username,
        "email": f"{username}@example.org",
        "full_name": "Some One",
        "password": PASSWORD,
        "system_permissions": "staff",
        "base_profession": "nurse",
    } | fields


@pytest.fixture
async def plain_admin(client: httpx.AsyncClient, admin: Account) -> Account:
    account = await create_user(
        client, admin, "ward_admin", system_permissions="admin", base_profession="admin_staff"
    )
    return await login(client, account)


async def test_a_created_user_reads_back_with_final_competencies(
    client: httpx.AsyncClient, admin: Account
) -> None:
    response = await client.post(
        "/api/v1/users",
        json=new_user(
            "Nurse_Cara",
            email="Cara@Example.org",
            additional_competencies=["prescribe"],
            removed_competencies=["register_patients"],
        ),
        headers=admin.headers,
    )

    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "nurse_cara"
    assert body["email"] == "cara@example.org"
    assert body["competencies"] == ["message_patients", "prescribe", "view_patient_record"]
    assert "password" not in body
    assert "password_hash" not in body
    read = await client.get(f"/api/v1/users/{body['id']}", headers=admin.headers)
    assert read.json() == body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "iloveyou123"}, "password"),
        ({"base_profession": "wizard"}, "base_profession"),
        ({"additional_competencies": ["fly"]}, "additional_competencies"),
        ({"email": "not-an-email"}, "email"),
        ({"username": "x"}, "username"),
        ({"system_permissions": "god"}, "system_permissions"),
        ({"is_active": False}, "is_active"),
        ({"system_permissions": "patient"}, "fhir_patient_id"),
        ({"fhir_patient_id": "p1"}, "fhir_patient_id"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, admin: Account, changes: dict[str, Any], field: str
) -> None:
    response = await client.post(
        "/api/v1/users", json=new_user("someone") | changes, headers=admin.headers
    )

    assert response.status_code == 422
    assert field in [error["loc"][-1] for error in response.json()["errors"]]
    listed = await client.get("/api/v1/users", headers=admin.headers)
    assert "someone" not in [user["username"] for user in listed.json()["items"]]


async def test_a_missing_field_is_named(client: httpx.AsyncClient, admin: Account) -> None:
    body = new_user("someone")
    del body["email"]

    response = await client.post("/api/v1/users", json=body, headers=admin.headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "email"]


async def test_a_duplicate_username_or_email_is_a_conflict(
    client: httpx.AsyncClient, admin: Account
) -> None:
    await create_user(client, admin, "taken")

    same_name = await client.post("/api/v1/users", json=new_user("TAKEN"), headers=admin.headers)
    same_email = await client.post(
        "/api/v1/users", json=new_user("other", email="taken@example.org"), headers=admin.headers
    )

    assert same_name.status_code == 409
    assert same_email.status_code == 409


async def test_an_admin_cannot_raise_anyone_above_their_own_level(
    client: httpx.AsyncClient, plain_admin: Account, admin: Account
) -> None:
    create_super = await client.post(
        "/api/v1/users", json=new_user("climber", system_permissions="superadmin"),
        headers=plain_admin.headers,
    )  # fmt: skip
    nurse = await create_user(client, plain_admin, "promoted")
    promote = await client.patch(
        f"/api/v1/users/{nurse.id}", json={"system_permissions": "superadmin"},
        headers=plain_admin.headers,
    )  # fmt: skip
    make_admin = await client.patch(
        f"/api/v1/users/{nurse.id}", json={"system_permissions": "admin"},
        headers=plain_admin.headers,
    )  # fmt: skip
    touch_superadmin = await client.post(
        f"/api/v1/users/{admin.id}/deactivate", headers=plain_admin.headers
    )

    assert create_super.status_code == 403
    assert promote.status_code == 403
    assert make_admin.status_code == 200
    assert touch_superadmin.status_code == 403
    assert (await client.get("/api/v1/auth/me", headers=admin.headers)).status_code == 200


async def test_staff_cannot_administer_users_and_see_only_themselves(
    client: httpx.AsyncClient, admin: Account
) -> None:
    staff = await login(client, await create_user(client, admin, "just_staff"))

    create = await client.post("/api/v1/users", json=new_user("sneaky"), headers=staff.headers)
    listing = await client.get("/api/v1/users", headers=staff.headers)
    other = await client.get(f"/api/v1/users/{admin.id}", headers=staff.headers)
    self_read = await client.get(f"/api/v1/users/{staff.id}", headers=staff.headers)
    patch_self = await client.patch(
        f"/api/v1/users/{staff.id}", json={"system_permissions": "admin"}, headers=staff.headers
    )

    assert create.status_code == 403
    assert listing.status_code == 403
    assert other.status_code == 404
    assert self_read.status_code == 200
    assert patch_self.status_code == 403


async def test_an_admin_cannot_deactivate_themself(
    client: httpx.AsyncClient, admin: Account
) -> None:
    response = await client.post(f"/api/v1/users/{admin.id}/deactivate", headers=admin.headers)

    assert response.status_code == 409


async def test_a_reactivated_user_can_log_in_again(
    client: httpx.AsyncClient, admin: Account
) -> None:
    user = await create_user(client, admin, "returner")
    await client.post(f"/api/v1/users/{user.id}/deactivate", headers=admin.headers)

    reactivated = await client.post(f"/api/v1/users/{user.id}/reactivate", headers=admin.headers)

    assert reactivated.json()["is_active"] is True
    await login(client, user)


async def test_the_user_list_pages_with_a_cursor(client: httpx.AsyncClient, admin: Account) -> None:
    for number in range(4):
        await create_user(client, admin, f"paged_{number}")

    first = await client.get("/api/v1/users", params={"limit": 3}, headers=admin.headers)
    second = await client.get(
        "/api/v1/users", params={"limit": 3, "cursor": first.json()["next_cursor"]},
        headers=admin.headers,
    )  # fmt: skip
    bad_cursor = await client.get(
        "/api/v1/users", params={"cursor": "garbage"}, headers=admin.headers
    )
    too_many = await client.get("/api/v1/users", params={"limit": 500}, headers=admin.headers)

    names = [user["username"] for user in first.json()["items"] + second.json()["items"]]
    assert names == ["root", "paged_0", "paged_1", "paged_2", "paged_3"]
    assert second.json()["next_cursor"] is None
    assert bad_cursor.status_code == 422
    assert too_many.status_code == 422


async def audit_rows(settings: Settings) -> list[AuditEvent]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    finally:
        await engine.dispose()


async def test_logins_and_user_changes_are_audited_without_secrets(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    user = await create_user(client, admin, "audited")
    await client.post(
        "/api/v1/auth/login", json={"username": "audited", "password": "wrong guess!"}
    )
    await client.patch(
        f"/api/v1/users/{user.id}", json={"full_name": "New Name"}, headers=admin.headers
    )

    rows = await audit_rows(settings)

    actions = [(row.action, row.outcome) for row in rows]
    assert ("auth.login", "allowed") in actions
    assert ("users.create", "allowed") in actions
    assert ("auth.failure", "denied") in actions
    assert ("users.update", "allowed") in actions
    failure = next(row for row in rows if row.action == "auth.failure")
    assert failure.reason == "invalid-credentials"
    assert failure.target_user_id == user.id
    assert failure.client_address
    assert failure.occurred_at.tzinfo is not None
    assert "wrong guess!" not in str([row.details for row in rows])
    assert PASSWORD not in str([row.details for row in rows])


async def test_a_login_rehashes_a_password_made_with_old_parameters(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    user = await create_user(client, admin, "old_hash")
    stronger = settings.model_copy(update={"password_hash_iterations": 3})

    async with running_client(create_app(stronger)) as stronger_client:
        await login(stronger_client, user)

    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == user.id))
    await engine.dispose()
    assert stored is not None
    assert ",t=3," in stored
