"""The served OpenAPI document describes the API of API.md, errors included."""

import httpx

PUBLIC = {
    ("get", "/health"),
    ("get", "/ready"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
}
AUTHENTICATED = {
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/auth/password"),
    ("post", "/api/v1/auth/totp/setup"),
    ("post", "/api/v1/auth/totp/enable"),
    ("post", "/api/v1/auth/totp/disable"),
    ("get", "/api/v1/auth/sessions"),
    ("delete", "/api/v1/auth/sessions/{session_id}"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/users/{user_id}"),
    ("patch", "/api/v1/users/{user_id}"),
    ("post", "/api/v1/users/{user_id}/deactivate"),
    ("post", "/api/v1/users/{user_id}/reactivate"),
    ("post", "/api/v1/users/{user_id}/totp/reset"),
    ("post", "/api/v1/organisations"),
    ("get", "/api/v1/organisations"),
    ("get", "/api/v1/organisations/{organisation_id}"),
    ("patch", "/api/v1/organisations/{organisation_id}"),
    ("delete", "/api/v1/organisations/{organisation_id}"),
    ("put", "/api/v1/organisations/{organisation_id}/staff/{user_id}"),
    ("delete", "/api/v1/organisations/{organisation_id}/staff/{user_id}"),
    ("put", "/api/v1/organisations/{organisation_id}/patients/{patient_id}"),
    ("delete", "/api/v1/organisations/{organisation_id}/patients/{patient_id}"),
    ("get", "/api/v1/organisations/{organisation_id}/features"),
    ("put", "/api/v1/organisations/{organisation_id}/features/{key}"),
    ("delete", "/api/v1/organisations/{organisation_id}/features/{key}"),
    ("post", "/api/v1/patients"),
    ("get", "/api/v1/patients"),
    ("get", "/api/v1/patients/{patient_id}"),
    ("post", "/api/v1/patients/{patient_id}/access-grants"),
    ("delete", "/api/v1/patients/{patient_id}/access-grants/{user_id}"),
    ("post", "/api/v1/patients/{patient_id}/deactivate"),
    ("post", "/api/v1/patients/{patient_id}/activate"),
    ("post", "/api/v1/conversations"),
    ("get", "/api/v1/conversations"),
    ("get", "/api/v1/conversations/{conversation_id}"),
    ("patch", "/api/v1/conversations/{conversation_id}"),
    ("get", "/api/v1/conversations/{conversation_id}/messages"),
    ("post", "/api/v1/conversations/{conversation_id}/messages"),
    ("post", "/api/v1/conversations/{conversation_id}/participants"),
    ("post", "/api/v1/conversations/{conversation_id}/join"),
    ("post", "/api/v1/conversations/{conversation_id}/read"),
    ("get", "/api/v1/attachments/{attachment_id}"),
    ("get", "/api/v1/events"),
    ("post", "/api/v1/groups"),
    ("get", "/api/v1/groups/{group_id}"),
    ("patch", "/api/v1/groups/{group_id}"),
    ("put", "/api/v1/groups/{group_id}/members/{user_id}"),
    ("delete", "/api/v1/groups/{group_id}/members/{user_id}"),
    ("get", "/api/v1/audit"),
}


async def test_every_documented_operation_is_served_with_its_security(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    operations = {
        (method, path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }

    assert set(operations) >= PUBLIC | AUTHENTICATED
    for key in AUTHENTICATED:
        assert operations[key].get("security") == [{"HTTPBearer": []}], key
    for key in PUBLIC:
        assert "security" not in operations[key], key


async def test_errors_are_documented_as_problem_json(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    for methods in document["paths"].values():
        for operation in methods.values():
            for status in ("default", *(code for code in operation["responses"] if code >= "4")):
                content = operation["responses"][status]["content"]
                assert list(content) == ["application/problem+json"], operation["operationId"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
