"""What reaches the logs of a database error: its kind and where it was raised, never the
values of its statement or of the row the database refused (message text, names, ids)."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DataError, DBAPIError

from app.db import create_engine
from app.logs import configure_logging
from tests.support.conversations import Thread, send

SECRET = "Alex Smith, NHS 943 476 5919"


async def test_the_engine_hides_statement_parameters(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(DBAPIError) as raised:
            async with engine.begin() as connection:
                await connection.execute(
                    text("INSERT INTO organisations (id, name, type) VALUES (:id, :name, NULL)"),
                    {"id": 1, "name": SECRET},
                )
    finally:
        await engine.dispose()

    assert "parameters hidden" in str(raised.value)


@contextmanager
def refused_rows() -> Iterator[None]:
    """The database refuses the next message row, quoting it as PostgreSQL does."""

    def refuse(_connection: Connection, *args: Any) -> None:
        if "INSERT INTO messages " in args[1]:
            detail = f'new row violates check: Failing row contains ("{SECRET}")'
            raise DataError("INSERT INTO messages", {"body": SECRET}, Exception(detail))

    event.listen(Engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", refuse)


async def test_an_unexpected_database_error_is_logged_by_kind_only(
    client: httpx.AsyncClient, thread: Thread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with refused_rows():
        response = await send(client, thread, thread.world.clinician_a, SECRET)

    assert response.status_code == 500
    assert SECRET not in response.text
    assert "DataError" in caplog.text
    assert SECRET not in caplog.text


def test_a_logged_exception_keeps_its_kind_and_frames_but_not_its_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As uvicorn logs an exception that escaped the app ("Exception in ASGI application")."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(level="INFO", log_format="json")
    try:
        raise DataError("INSERT", {}, Exception(f"Failing row contains ({SECRET})"))
    except DataError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)

    logged = capsys.readouterr().err
    assert "Exception in ASGI application: DataError" in logged
    assert "test_database_errors.py" in logged
    assert SECRET not in logged
