"""The `parley` command."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import typer
import uvicorn
from rich.progress import Progress, SpinnerColumn, TextColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import __version__, demo
from app.accounts import repository as accounts
from app.auth import service as auth_service
from app.auth.service import AuthContext
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.errors import AppError
from app.fhir import conformance
from app.fhir.factory import EMBEDDED, gateway_for
from app.fhir.protocol import FhirGateway
from app.fhir_directory import service as fhir_directory
from app.logs import configure_logging
from app.messaging import reprojection
from app.messaging.reprojection import ReprojectReport
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


@asynccontextmanager
async def fhir_and_database(
    settings: Settings, *, migrate: bool = True
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], FhirGateway]]:
    """The database (brought up to date unless told not to) and the FHIR gateway the
    settings name, both closed afterwards: what every command that touches FHIR needs."""
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    fhir = gateway_for(settings, sessionmaker)
    try:
        if migrate:
            await upgrade_to_head(engine)
        yield sessionmaker, fhir
    finally:
        await fhir.aclose()
        await engine.dispose()


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


def _require_canonical_base(settings: Settings) -> None:
    """In production, nothing may write Parley's names under the placeholder base: other
    systems would read them there, and Parley would not know them once the base is set."""
    if settings.environment == "production" and settings.uses_development_canonical_url:
        raise fail(
            "PARLEY_FHIR_CANONICAL_URL must be set to a base URL you control in production: "
            "other systems read Parley's identifier systems and extensions under it."
        )


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
    workers: Annotated[
        int, typer.Option(min=1, help="Processes to serve with (share throttling through Redis).")
    ] = 1,
) -> None:
    """Apply migrations, then serve the API."""
    settings = Settings()
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    if settings.environment == "production" and settings.uses_development_secret:
        raise fail("PARLEY_SECRET_KEY must be set to a secret of your own in production.")
    _require_canonical_base(settings)
    asyncio.run(_migrate(settings))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        # The app believes X-Forwarded-For only from PARLEY_TRUSTED_PROXIES (app.main).
        proxy_headers=False,
    )


@cli.command("seed-demo")
def seed_demo(
    if_empty: Annotated[
        bool, typer.Option(help="On a database that has users already, only print the logins.")
    ] = False,
) -> None:
    """Fill an empty database with a demo organisation, staff and patients; print their logins."""
    settings = Settings()
    if settings.environment == "production":
        raise fail("seed-demo refuses to run in production: its passwords are public.")
    try:
        seeded, logins = asyncio.run(demo.seed_database(settings, if_empty=if_empty))
    except AppError as error:
        raise fail(f"Could not seed the demo: {error.detail}") from None
    typer.echo("Seeded the demo organisation." if seeded else "The demo data is already there.")
    typer.echo("Demo logins (username / password):")
    for login in logins:
        typer.echo(f"  {login.username:<10} {login.password:<20} {login.role}")
        if login.totp_secret:
            typer.echo(
                f"  {'':<10} TOTP secret {login.totp_secret} (add it to an authenticator app)"
            )


@cli.command()
def reproject(
    conversation: Annotated[
        UUID | None, typer.Option(help="Only this conversation (its Parley UUID).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only resources changed since this time (ISO 8601, UTC if no zone)."),
    ] = None,
    failed: Annotated[
        bool,
        typer.Option("--failed", help="Only list the resources earlier runs could not project."),
    ] = False,
) -> None:
    """Rebuild the SQL projection of conversations and messages from FHIR; safe to repeat.
    A resource that cannot be projected is skipped, kept, and tried again on every run."""
    settings = Settings()
    if failed:
        asyncio.run(_list_failures(settings))
        return
    since_time = _parse_time(since) if since else None
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=False) as progress:
        counts = {"conversation": 0, "message": 0}
        task = progress.add_task("Reading FHIR...", total=None)

        def tick(kind: str) -> None:
            counts[kind] += 1
            progress.update(
                task,
                description=f"{counts['conversation']} conversations, {counts['message']} messages",
            )

        report = asyncio.run(_reproject(settings, conversation, since_time, tick))
    typer.echo(
        f"Projected {report.conversations_created} new of {report.conversations_seen} "
        f"conversations and {report.messages_created} new of {report.messages_seen} messages."
    )
    for reason in report.failed:
        typer.secho(f"not projected, kept for the next run: {reason}", err=True, fg="yellow")


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(
            f"--since needs an ISO 8601 time like 2026-11-23T10:00:00Z, not {value!r}."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _list_failures(settings: Settings) -> None:
    async with migrated_session(settings) as session:
        failures = await reprojection.failures(session)
    for failure in failures:
        typer.echo(
            f"Communication/{failure.fhir_id}\t{failure.kind}\t{failure.attempts} attempts\t"
            f"last {failure.last_failed_at.isoformat(timespec='seconds')}\t{failure.reason}"
        )
    typer.echo(f"{len(failures)} resources wait to be projected.")


async def _reproject(
    settings: Settings,
    conversation: UUID | None,
    since: datetime | None,
    tick: Callable[[str], None],
) -> ReprojectReport:
    async with fhir_and_database(settings) as (sessionmaker, fhir):
        return await reprojection.reproject(
            sessionmaker, fhir, conversation=conversation, since=since, progress=tick
        )


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
    _require_canonical_base(settings)

    async def create() -> int:
        async with migrated_session(settings) as session:
            user = await auth_service.create_superadmin(
                AuthContext.offline(session, settings, address="cli"),
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
    try:
        asyncio.run(_publish_user(settings, user_id))
    except AppError as error:
        # The account is made; only its FHIR Practitioner waits, and is made on the next try.
        typer.secho(
            f"The FHIR Practitioner waits ({error.detail}): run `parley publish-directory`.",
            err=True,
            fg="yellow",
        )


@cli.command("publish-directory")
def publish_directory() -> None:
    """Create or refresh the FHIR resources behind Parley's people and teams (Practitioner,
    PractitionerRole, Organization, Group), for data made before Parley wrote them; safe
    to repeat. Messages sent afterwards name them as literal references."""
    settings = Settings()
    _require_canonical_base(settings)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=False) as progress:
        task = progress.add_task("Reading the directory...", total=None)

        def tick(kind: str, done: int, total: int) -> None:
            progress.update(task, description=f"{kind}: {done} of {total}")

        try:
            counts = asyncio.run(_publish_directory(settings, tick))
        except AppError as error:
            raise fail(f"Stopped; what was published is kept: {error.detail}") from None
    typer.echo("Published " + ", ".join(f"{count} {kind}" for kind, count in counts.items()) + ".")


async def _publish_directory(
    settings: Settings, tick: Callable[[str, int, int], None]
) -> dict[str, int]:
    async with fhir_and_database(settings) as (sessionmaker, fhir), sessionmaker() as session:
        return await fhir_directory.publish_everything(session, fhir, tick)


async def _publish_user(settings: Settings, user_id: int) -> None:
    """After the account commits: the embedded store writes through a connection of its
    own, which a transaction holding the new row would lock out."""
    async with (
        fhir_and_database(settings, migrate=False) as (sessionmaker, fhir),
        sessionmaker() as session,
    ):
        user = await accounts.get_user(session, user_id)
        if user is not None:
            await fhir_directory.publish_user(fhir, user)
        await session.commit()


@cli.command("load-conformance")
def load_conformance() -> None:
    """Put the definitions of Parley's extensions, profiles and code systems
    (fhir/conformance/) on the FHIR server, under PARLEY_FHIR_CANONICAL_URL, so that its
    validator knows them; safe to repeat."""
    settings = Settings()
    _require_canonical_base(settings)
    if settings.fhir_url == EMBEDDED:
        typer.echo("The embedded store is Parley's alone: it needs no definitions.")
        return
    try:
        count = asyncio.run(_load_conformance(settings))
    except AppError as error:
        raise fail(f"Could not load the definitions: {error.detail}") from None
    typer.echo(f"Loaded {count} definitions under {settings.fhir_canonical_url}.")


async def _load_conformance(settings: Settings) -> int:
    async with fhir_and_database(settings, migrate=False) as (_, fhir):
        return await conformance.load(
            fhir, settings.fhir_canonical_url, progress=lambda name: typer.echo(f"  {name}")
        )
