"""Apply Alembic migrations from code (`parley serve`, `parley migrate`, the tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# The repository's `alembic/` folder, beside the `app` package.
SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "alembic"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if database_url is not None:
        # ConfigParser treats % as interpolation; URLs may contain escaped passwords.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade_to_head(engine: AsyncEngine) -> None:
    await _migrate(engine, "upgrade", "head")


async def downgrade_to(engine: AsyncEngine, revision: str) -> None:
    await _migrate(engine, "downgrade", revision)


async def downgrade_to_base(engine: AsyncEngine) -> None:
    await downgrade_to(engine, "base")


async def _migrate(engine: AsyncEngine, direction: str, revision: str) -> None:
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by rebuilding it, and the rebuild drops the old table:
            # with foreign keys on, that drop would delete (ON DELETE CASCADE) or refuse
            # whatever points at its rows. Off for the migration, checked before commit.
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()
        try:
            async with connection.begin():
                await connection.run_sync(_run, direction, revision)
                if sqlite:
                    await connection.run_sync(_refuse_broken_references)
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()


def _run(connection: Connection, direction: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if direction == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


def _refuse_broken_references(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise RuntimeError(f"The migration would leave broken references in {', '.join(tables)}.")
