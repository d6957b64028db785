"""What a new password must be (NIST SP 800-63B): 8 to 128 characters as typed, no
composition rules, and not one of the most common passwords."""

import unicodedata
from functools import lru_cache
from importlib.resources import files

from app.errors import InvalidInputError

MIN_LENGTH = 8
MAX_LENGTH = 128


@lru_cache
def common_passwords() -> frozenset[str]:
    text = files("app.auth").joinpath("data/common_passwords.txt").read_text()
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def normalise(password: str) -> str:
    """NFKC, so the same password typed on different keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


def check_new_password(password: str, *, field: str = "password") -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInputError(
            f"A password has {MIN_LENGTH} to {MAX_LENGTH} characters.", field=("body", field)
        )
    if normalise(password).lower() in common_passwords():
        raise InvalidInputError(
            "This password is one of the most commonly used; choose another.",
            field=("body", field),
        )
