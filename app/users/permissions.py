"""Pure rules for administering users."""

from app.access.levels import rank
from app.auth.models import SystemPermission


def can_manage(actor: SystemPermission, target: SystemPermission) -> bool:
    """An admin manages users up to their own level, never above it."""
    return rank(target) <= rank(actor)


def can_grant(actor: SystemPermission, level: SystemPermission) -> bool:
    return rank(level) <= rank(actor)
