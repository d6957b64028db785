from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.auth import Account
from tests.support.world import World, build_world, call, ok


@dataclass
class Thread:
    world: World
    id: int
    url: str


async def start_conversation(
    client: httpx.AsyncClient, world: World, creator: Account, **fields: Any
) -> dict[str, Any]:
    body = {"patient_id": world.patient_1, "message": {"text": "Hello"}} | fields
    result: dict[str, Any] = await ok(
        await call(client, "POST", "/api/v1/conversations", creator, json=body)
    )
    return result


@pytest.fixture
async def world(client: httpx.AsyncClient, admin: Account) -> World:
    return await build_world(client, admin)


@pytest.fixture
async def thread(client: httpx.AsyncClient, world: World) -> Thread:
    """A conversation by clinician A about patient 1, who takes part."""
    started = await start_conversation(client, world, world.clinician_a, include_patient=True)
    return Thread(world, started["id"], f"/api/v1/conversations/{started['id']}")


async def send(
    client: httpx.AsyncClient, thread: Thread, sender: Account, text: str, **fields: Any
) -> httpx.Response:
    return await call(
        client, "POST", f"{thread.url}/messages", sender, json={"text": text} | fields
    )
