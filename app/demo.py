"""`parley seed-demo`: a small organisation to try Parley with, and the logins to do it.

The passwords are fixed and printed on purpose: this is demo data, refused in
production.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.access.service import actor_of
from app.accounts import repository as auth_repository
from app.accounts.models import SystemPermission, User
from app.auth import totp
from app.auth.keys import decrypt_totp_secret, encrypt_totp_secret
from app.auth.service import AuthContext, Principal, create_superadmin
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.directory.organisations import FeatureKey
from app.errors import ConflictError
from app.fhir.factory import gateway_for
from app.fhir.protocol import FhirGateway
from app.fhir_directory import service as fhir_directory
from app.migrations import upgrade_to_head
from app.organisations import service as organisations_service
from app.organisations.schemas import (
    MembershipUpdate,
    OrganisationCreate,
    OrganisationSettingsUpdate,
    OrganisationUpdate,
)
from app.patients import service as patients_service
from app.patients.schemas import PatientCreate
from app.users import service as users_service
from app.users.schemas import UserCreate

ADMIN = "admin"
ADMIN_PASSWORD = "parley-demo-admin"
ORGANISATION = "Riverside Health Centre"
# What the practice tells its patients (01632 960 is a range kept for drama and examples).
ADVICE = OrganisationSettingsUpdate(
    phone="01632 960 123",
    reply_time_text="We reply within 2 working days.",
    out_of_hours_text="We are open 8am to 6:30pm, Monday to Friday. When we are closed, call 111.",
)


@dataclass(frozen=True)
class DemoStaff:
    username: str
    full_name: str
    profession: str
    password: str
    totp: bool = False


@dataclass(frozen=True)
class DemoPatient:
    given_name: str
    family_name: str
    birth_date: date
    nhs_number: str
    sex: Literal["male", "female", "other", "unknown"]
    username: str | None = None  # a portal login, if any
    password: str | None = None


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    totp_secret: str | None = None


STAFF = (
    DemoStaff("dr_jones", "Dr Morgan Jones", "consultant", "parley-demo-jones", totp=True),
    DemoStaff("dr_patel", "Dr Priya Patel", "gp", "parley-demo-patel"),
    DemoStaff("nurse_kim", "Nurse Jamie Kim", "nurse", "parley-demo-kim"),
)
PATIENTS = (
    DemoPatient(
        "Alex", "Smith", date(1984, 3, 12), "9991112227", "female", "alex", "parley-demo-alex"
    ),
    DemoPatient("Sam", "Taylor", date(1958, 11, 2), "9993334448", "male"),
    # Another Alex Smith: told apart only by birth date and NHS number, as in real life.
    DemoPatient("Alex", "Smith", date(1992, 7, 30), "9992223332", "male"),
)


async def seed_database(settings: Settings, *, if_empty: bool) -> tuple[bool, list[DemoLogin]]:
    """Migrate, then seed the database if it has no users: answers whether it did, and the
    demo logins. A database with users is refused unless `if_empty` (then only listed)."""
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    fhir = gateway_for(settings, sessionmaker)
    try:
        await upgrade_to_head(engine)
        async with sessionmaker() as session:
            empty = await is_empty(session)
        if not empty and not if_empty:
            raise ConflictError("the database already has users; seed-demo fills an empty one.")
        if empty:
            await _seed(sessionmaker, fhir, settings)
        async with sessionmaker() as session:
            return empty, await logins(session, settings)
    finally:
        await fhir.aclose()
        await engine.dispose()


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(User))


async def _seed(
    sessionmaker: async_sessionmaker[AsyncSession], fhir: FhirGateway, settings: Settings
) -> None:
    def context_for(session: AsyncSession) -> AuthContext:
        return AuthContext.offline(session, settings, address="seed-demo")

    # A transaction per step: each FHIR write comes before its SQL writes, and the
    # embedded store writes through a connection of its own that pending rows would block.
    async with sessionmaker() as session, session.begin():
        admin = await create_superadmin(
            context_for(session), username=ADMIN, email="admin@riverside.example.org",
            password=ADMIN_PASSWORD, full_name="Demo Administrator",
        )  # fmt: skip
    async with sessionmaker() as session, session.begin():
        stored = await auth_repository.get_user(session, admin.id)
        assert stored is not None
        await fhir_directory.publish_user(fhir, stored)
    async with sessionmaker() as session, session.begin():
        organisation_id = await _organisation(session, fhir, admin)
    async with sessionmaker() as session, session.begin():
        stored = await auth_repository.get_user(session, admin.id)
        assert stored is not None
        await organisations_service.update(
            session, fhir, actor_of(stored), organisation_id, OrganisationUpdate(settings=ADVICE)
        )
    for staff in STAFF:
        await _staff(sessionmaker, context_for, fhir, admin, organisation_id, staff)
    for patient in PATIENTS:
        # A transaction each: the patient's FHIR write comes before its SQL writes.
        async with sessionmaker() as session, session.begin():
            await _patient(context_for(session), fhir, organisation_id, patient)


async def _organisation(session: AsyncSession, fhir: FhirGateway, admin: User) -> int:
    actor = actor_of(admin)
    organisation = await organisations_service.create(
        session,
        fhir,
        actor,
        OrganisationCreate(name=ORGANISATION, type="gp_practice", location="Riverside"),
    )
    for key in FeatureKey:
        await organisations_service.enable_feature(session, actor, organisation.id, key)
    return organisation.id


async def _staff(
    sessionmaker: async_sessionmaker[AsyncSession],
    context_for: Callable[[AsyncSession], AuthContext],
    fhir: FhirGateway,
    admin: User,
    organisation_id: int,
    staff: DemoStaff,
) -> None:
    async with sessionmaker() as session, session.begin():
        ctx = context_for(session)
        created = await users_service.create_user(
            ctx,
            fhir,
            Principal(user=admin, session_id=0),
            UserCreate(
                username=staff.username, email=f"{staff.username}@riverside.example.org",
                full_name=staff.full_name, password=staff.password,
                system_permissions=SystemPermission.STAFF, base_profession=staff.profession,
            ),
        )  # fmt: skip
    async with sessionmaker() as session, session.begin():
        await organisations_service.put_staff(
            session, fhir, actor_of(admin), organisation_id, created.id,
            MembershipUpdate(is_primary=True),
        )  # fmt: skip
        if staff.totp:
            user = await auth_repository.get_user(session, created.id)
            assert user is not None
            secret = context_for(session).settings.secret_key.get_secret_value()
            user.totp_secret_encrypted = encrypt_totp_secret(secret, totp.new_secret())
            user.totp_enabled = True


async def _patient(
    ctx: AuthContext, fhir: FhirGateway, organisation_id: int, demo: DemoPatient
) -> None:
    admin = await auth_repository.get_user_by_username(ctx.session, ADMIN)
    assert admin is not None
    patient = await patients_service.create_patient(
        ctx.session, fhir, actor_of(admin),
        PatientCreate(
            given_name=demo.given_name, family_name=demo.family_name,
            birth_date=demo.birth_date, nhs_number=demo.nhs_number, sex=demo.sex,
            organisation_id=organisation_id,
        ),
    )  # fmt: skip
    if demo.username and demo.password:
        await users_service.create_user(
            ctx,
            fhir,
            Principal(user=admin, session_id=0),
            UserCreate(
                username=demo.username, email=f"{demo.username}@riverside.example.org",
                full_name=f"{demo.given_name} {demo.family_name}", password=demo.password,
                system_permissions=SystemPermission.PATIENT, base_profession="patient",
                fhir_patient_id=patient.id,
            ),
        )  # fmt: skip


async def logins(session: AsyncSession, settings: Settings) -> list[DemoLogin]:
    """The demo logins, read back from the database (TOTP secrets decrypted for display)."""
    found = [DemoLogin(ADMIN, ADMIN_PASSWORD, "superadmin")]
    for staff in STAFF:
        user = await auth_repository.get_user_by_username(session, staff.username)
        secret = None
        if user is not None and user.totp_enabled and user.totp_secret_encrypted is not None:
            key = settings.secret_key.get_secret_value()
            secret = decrypt_totp_secret(key, user.totp_secret_encrypted)
        role = f"{staff.profession}, {staff.full_name}"
        found.append(DemoLogin(staff.username, staff.password, role, secret))
    for patient in PATIENTS:
        if patient.username and patient.password:
            role = f"patient, {patient.given_name} {patient.family_name}"
            found.append(DemoLogin(patient.username, patient.password, role))
    return found
