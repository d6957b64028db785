"""Keys derived from PARLEY_SECRET_KEY, one per purpose (HKDF), so no key serves twice."""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@lru_cache(maxsize=16)
def derive_key(secret: str, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"parley:{purpose}".encode()
    ).derive(secret.encode())


def token_signing_key(secret: str) -> bytes:
    return derive_key(secret, "access-token-signing")


def _totp_box(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(secret, "totp-secret-encryption")))


def encrypt_totp_secret(secret: str, totp_secret: str) -> bytes:
    return _totp_box(secret).encrypt(totp_secret.encode())


def decrypt_totp_secret(secret: str, encrypted: bytes) -> str | None:
    """None when it cannot be decrypted, e.g. after PARLEY_SECRET_KEY changed."""
    try:
        return _totp_box(secret).decrypt(encrypted).decode()
    except InvalidToken:
        return None
