"""Every SQL model, imported once so that `Base.metadata` describes the whole schema.

Alembic's autogenerate and the schema tests read the metadata from here.
"""

from app.accounts import models as accounts_models
from app.audit import models as audit_models
from app.conversations import models as conversations_models
from app.db import Base
from app.directory import groups as groups_models
from app.directory import organisations as organisations_models
from app.directory import patients as patients_models
from app.events import models as events_models
from app.fhir import models as fhir_models
from app.idempotency import models as idempotency_models
from app.messaging import models as messaging_models

__all__ = [
    "Base",
    "accounts_models",
    "audit_models",
    "conversations_models",
    "events_models",
    "fhir_models",
    "groups_models",
    "idempotency_models",
    "messaging_models",
    "organisations_models",
    "patients_models",
]
