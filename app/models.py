"""Every SQL model, imported once so that `Base.metadata` describes the whole schema.

Alembic's autogenerate and the schema tests read the metadata from here.
"""

from app.audit import models as audit_models
from app.auth import models as auth_models
from app.db import Base
from app.events import models as events_models
from app.fhir import models as fhir_models
from app.messaging import models as messaging_models
from app.organisations import models as organisations_models
from app.patients import models as patients_models

__all__ = [
    "Base",
    "audit_models",
    "auth_models",
    "events_models",
    "fhir_models",
    "messaging_models",
    "organisations_models",
    "patients_models",
]
