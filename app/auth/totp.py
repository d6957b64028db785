"""TOTP (RFC 6238): 30-second steps, codes accepted within ±1 step, each step once only."""

import hmac
import time

import pyotp
import segno

ISSUER_NAME = "Parley"
STEP_SECONDS = 30
ALLOWED_DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER_NAME)


def qr_code_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_inline(scale=4))


def qr_code_data_uri(uri: str) -> str:
    """The QR code as an SVG `data:` URI, for an <img> under a strict CSP."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=4))


def matching_step(
    secret: str, code: str, *, last_used_step: int | None, now: float | None = None
) -> int | None:
    """The time step the code belongs to, if it is valid now and newer than the last one used.

    Refusing any step at or before the last accepted one stops a replay, also of
    a neighbouring step's code inside the ±1 window.
    """
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - ALLOWED_DRIFT_STEPS, current + ALLOWED_DRIFT_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None
