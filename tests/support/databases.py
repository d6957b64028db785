"""A fresh, migrated database for every test, on SQLite or PostgreSQL.

The schema is made once per run by `alembic upgrade head` into a template; each
test then gets its own copy (a file copy on SQLite, `CREATE DATABASE ...
TEMPLATE` on PostgreSQL). Copies are cheap, and unlike a rolled-back
transaction they let tests commit, run concurrent sessions, start subprocesses
and use LISTEN/NOTIFY like the real service does.
"""

import asyncio
import itertools
import shutil
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import create_engine
from app.migrations import upgrade_to_head


class DatabaseFactory(Protocol):
    async def prepare(self) -> None: ...
    async def create(self) -> str: ...
    async def create_empty(self) -> str: ...
    async def drop(self, url: str) -> None: ...
    async def close(self) -> None: ...


async def migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


class SqliteDatabases:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"
        self.counter = itertools.count(1)

    def _url(self, path: Path) -> str:
        return f"sqlite+aiosqlite:///{path}"

    async def prepare(self) -> None:
        await migrate(self._url(self.template))

    async def create(self) -> str:
        path = self.directory / f"test-{next(self.counter)}.db"
        shutil.copyfile(self.template, path)
        return self._url(path)

    async def create_empty(self) -> str:
        return self._url(self.directory / f"empty-{next(self.counter)}.db")

    async def drop(self, url: str) -> None:
        database = make_url(url).database
        assert database is not None
        for suffix in ("", "-wal", "-shm"):
            await asyncio.to_thread(Path(database + suffix).unlink, missing_ok=True)

    async def close(self) -> None:
        pass


class PostgresDatabases:
    """Databases named after the one in PARLEY_TEST_DATABASE_URL, which is the maintenance db."""

    def __init__(self, url: str) -> None:
        self.base_url = make_url(url)
        self.prefix = self.base_url.database or "parley_test"
        self.template_name = f"{self.prefix}_template"
        self.admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
        self.counter = itertools.count(1)

    def _url(self, name: str) -> str:
        return self.base_url.set(database=name).render_as_string(hide_password=False)

    async def _execute(self, statement: str) -> None:
        async with self.admin.connect() as connection:
            await connection.execute(text(statement))

    async def prepare(self) -> None:
        await self._drop_leftovers()
        await self._execute(f'CREATE DATABASE "{self.template_name}"')
        await migrate(self._url(self.template_name))

    async def _drop_leftovers(self) -> None:
        async with self.admin.connect() as connection:
            names = await connection.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": f"{self.prefix}\\_%"},
            )
            for name in list(names):
                await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))

    async def create(self) -> str:
        name = f"{self.prefix}_{next(self.counter)}"
        await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"')
        return self._url(name)

    async def create_empty(self) -> str:
        name = f"{self.prefix}_empty_{next(self.counter)}"
        await self._execute(f'CREATE DATABASE "{name}"')
        return self._url(name)

    async def drop(self, url: str) -> None:
        await self._execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    async def close(self) -> None:
        await self._execute(f'DROP DATABASE IF EXISTS "{self.template_name}" WITH (FORCE)')
        await self.admin.dispose()
