"""Password hashing with argon2id; each hash carries its own parameters."""

import anyio.to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from app.auth.password_policy import normalise
from app.config import Settings


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        memory_cost=settings.password_hash_memory_kib,
        time_cost=settings.password_hash_iterations,
        parallelism=settings.password_hash_parallelism,
        type=Type.ID,
    )


async def hash_password(hasher: PasswordHasher, password: str) -> str:
    # argon2 takes tens of milliseconds of CPU and releases the GIL: a worker
    # thread keeps the event loop answering other requests meanwhile.
    return await anyio.to_thread.run_sync(hasher.hash, normalise(password))


async def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    return await anyio.to_thread.run_sync(_verify, hasher, password_hash, normalise(password))


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hasher: PasswordHasher, password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)
