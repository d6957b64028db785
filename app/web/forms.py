"""Forms: their values, and errors put next to the field they belong to."""

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.errors import AppError


async def form_values(request: Request) -> dict[str, Any]:
    """Single fields as strings, repeated ones (checkboxes) as lists; never the CSRF token."""
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        items = [item for item in form.getlist(key) if isinstance(item, str)]
        many = len(items) > 1 or key.endswith(("_ids", "competencies"))
        values[key] = items if many else (items[0] if items else "")
    return values


ModelT = TypeVar("ModelT", bound=BaseModel)


class FormInvalid(AppError):
    status = 422
    slug = "validation-error"
    title = "Invalid input"

    def __init__(self, error: ValidationError) -> None:
        located = [{"loc": list(item["loc"]), "msg": item["msg"]} for item in error.errors()]
        super().__init__("Some of what was entered is not valid.", extensions={"errors": located})


def parse(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """The form as a schema of the API's, or FormInvalid naming the fields at fault."""
    try:
        return model.model_validate({key: value for key, value in data.items() if value != ""})
    except ValidationError as error:
        raise FormInvalid(error) from None


def field_errors(error: Exception) -> dict[str, str]:
    """`{field: message}`, or `{"_form": message}` when no field is to blame."""
    if isinstance(error, ValidationError):
        return {
            str(item["loc"][-1]) if item["loc"] else "_form": item["msg"] for item in error.errors()
        }
    if isinstance(error, AppError):
        located = error.extensions.get("errors") or []
        if located:
            return {_field(item["loc"]): item["msg"] for item in located}
        return {"_form": error.detail}
    return {"_form": "Something went wrong."}


def _field(location: list[Any]) -> str:
    """The form field a location names: `["message", "text"]` is the field `text`."""
    names = [str(part) for part in location if isinstance(part, str) and part != "body"]
    return names[-1] if names else "_form"
