from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.models import SystemPermission, User
from app.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password
from app.errors import ConflictError, InvalidInputError

ADMIN_PROFESSION = "admin_staff"


def check_new_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"A password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
            field=("password",),
        )


async def create_superadmin(
    session: AsyncSession,
    hasher: PasswordHasher,
    *,
    username: str,
    email: str,
    password: str,
    full_name: str,
) -> User:
    check_new_password(password)
    existing = await repository.find_user_by_username_or_email(
        session, username=username, email=email
    )
    if existing is not None:
        raise ConflictError("A user with that username or email already exists.")
    user = User(
        username=username,
        email=email,
        full_name=full_name,
        password_hash=hash_password(hasher, password),
        system_permissions=SystemPermission.SUPERADMIN,
        base_profession=ADMIN_PROFESSION,
    )
    return await repository.add_user(session, user)
