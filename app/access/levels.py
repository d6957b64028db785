"""System permission levels, lowest first: a level may do what the ones below it may."""

from app.accounts.models import SystemPermission

ORDER = (
    SystemPermission.PATIENT,
    SystemPermission.STAFF,
    SystemPermission.ADMIN,
    SystemPermission.SUPERADMIN,
)


def rank(level: SystemPermission) -> int:
    return ORDER.index(level)


def at_least(level: SystemPermission, minimum: SystemPermission) -> bool:
    return rank(level) >= rank(minimum)
