"""Conversations for tests: start one, send into it."""

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.auth import Account
from tests.support.world import World, call, ok


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


async def send(
    client: httpx.AsyncClient, thread: Thread, sender: Account, text: str, **fields: Any
) -> httpx.Response:
    return await call(
        client, "POST", f"{thread.url}/messages", sender, json={"text": text} | fields
    )
