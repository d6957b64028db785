"""The refusals of access that are more than a plain 403 or 404."""

from app.errors import ForbiddenError


class FeatureDisabledError(ForbiddenError):
    slug = "feature-disabled"
    title = "Feature disabled"


class OwnAccessError(ForbiddenError):
    """Raising one's own access (competencies, membership, groups, grants) takes another
    admin: a second person for every change that widens what someone may see."""

    slug = "own-access"
    title = "Another admin must do this"
