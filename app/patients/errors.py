"""The refusals of registering a patient that a client can act on by their kind."""

from app.errors import ConflictError, InvalidInputError


class InvalidNhsNumberError(InvalidInputError):
    slug = "invalid-nhs-number"
    title = "Not a valid NHS number"


class DuplicatePatientError(ConflictError):
    """Another patient already holds the identifier; `existing_patient_id` names them
    when the caller may see them."""

    slug = "duplicate-patient"
    title = "The patient is already registered"

    def __init__(self, detail: str, *, existing_patient_id: str | None) -> None:
        super().__init__(detail)
        if existing_patient_id is not None:
            self.extensions = {"existing_patient_id": existing_patient_id}
