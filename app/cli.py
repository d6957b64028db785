"""The `parley` command."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from app import __version__
from app.auth import service as auth_service
from app.auth.passwords import password_hasher
from app.auth.service import AuthContext, ClientInfo
from app.auth.throttle import LoginThrottle, create_storage
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.errors import AppError
from app.logs import configure_logging
from app.migrations import upgrade_to_head

cli = typer.Typer(help="Parley: FHIR-backed clinical messaging.", no_args_is_help=True)


def main() -> None:
    cli()


@asynccontextmanager
async def migrated_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on an up-to-date schema, committed when the block succeeds."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        async with create_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


def fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


@cli.command()
def version() -> None:
    """Print Parley's version."""
    typer.echo(__version__)


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = Settings()
    asyncio.run(_migrate(settings))
    typer.echo("Database schema is up to date.")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Apply migrations, then serve the API."""
    settings = Settings()
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    if settings.environment == "production" and settings.uses_development_secret:
        raise fail("PARLEY_SECRET_KEY must be set to a secret of your own in production.")
    asyncio.run(_migrate(settings))
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, log_config=None)


@cli.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Login name of the new superadmin.")],
    email: Annotated[str, typer.Option(help="Email address of the new superadmin.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Password (asked for when not given).",
        ),
    ],
    full_name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a superadmin: the first account, from which every other is made."""
    settings = Settings()

    async def create() -> int:
        async with migrated_session(settings) as session:
            ctx = AuthContext(
                session=session,
                settings=settings,
                hasher=password_hasher(settings),
                throttle=LoginThrottle(create_storage(None), settings),
                client=ClientInfo(address="cli", user_agent=None),
            )
            user = await auth_service.create_superadmin(
                ctx,
                username=username,
                email=email,
                password=password,
                full_name=full_name or username,
            )
            return user.id

    try:
        user_id = asyncio.run(create())
    except AppError as error:
        raise fail(f"Could not create the admin: {error.detail}") from None
    typer.echo(f"Created superadmin {username!r} (id {user_id}).")
