"""A cursor that was not handed out is refused with a 422 naming it, whatever it holds."""

import httpx
import pytest

from app.pagination import encode_cursor
from tests.support.auth import Account
from tests.support.conversations import Thread
from tests.support.world import call

FORGED = [
    pytest.param("garbage", id="not-base64-json"),
    pytest.param(encode_cursor("x"), id="text-for-an-id"),
    pytest.param(encode_cursor(None), id="null"),
    pytest.param(encode_cursor(True), id="boolean-for-an-id"),
    pytest.param(encode_cursor(1, 2, 3, 4), id="too-many-values"),
    pytest.param(encode_cursor([1], {"a": 1}, 3), id="nested-values"),
    pytest.param(encode_cursor("2026-11-23T10:00:00", 1), id="time-without-zone"),
    pytest.param(encode_cursor("2026-11-23T10:00:00+00:00", "1"), id="text-for-a-message-id"),
]


@pytest.mark.parametrize("cursor", FORGED)
async def test_a_forged_cursor_is_a_422_on_every_paged_list(
    client: httpx.AsyncClient, admin: Account, thread: Thread, cursor: str
) -> None:
    clinician = thread.world.clinician_a
    lists = [
        ("/api/v1/users", admin, "cursor"),
        ("/api/v1/organisations", admin, "cursor"),
        ("/api/v1/audit", admin, "cursor"),
        ("/api/v1/patients", clinician, "cursor"),
        ("/api/v1/conversations", clinician, "cursor"),
        (f"{thread.url}/messages", clinician, "before"),
    ]
    answers = {}
    for url, account, parameter in lists:
        response = await call(client, "GET", url, account, params={parameter: cursor})
        located = [error["loc"] for error in response.json().get("errors", [])]
        answers[url] = (response.status_code, located)

    assert answers == {url: (422, [["query", parameter]]) for url, _, parameter in lists}
