"""The OpenAPI document, with every error described as what it is: RFC 9457 problem+json.

FastAPI documents validation errors in its own shape; ours are problems. Each
operation gets the problem schema for 422 and as its `default` response, so
the document matches what the API answers.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from app.errors import PROBLEM_CONTENT_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str | None = None


class Problem(BaseModel):
    """An error, as RFC 9457 describes; `errors` names the fields at fault."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


def install_openapi(app: FastAPI, *, extra_models: tuple[type[BaseModel], ...] = ()) -> None:
    """`extra_models`: schemas that routes reference by hand (a body read by a dependency)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            _add_models(document, (Problem, *extra_models))
            app.openapi_schema = _with_problems(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_models(document: dict[str, Any], models: tuple[type[BaseModel], ...]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    for name, schema in definitions["$defs"].items():
        schemas.setdefault(name, schema)


def _with_problems(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document["components"]["schemas"]
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    problem = {
        "description": "An error, as application/problem+json (RFC 9457)",
        "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}},
    }
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = problem["content"]
            if "422" in responses:
                responses["422"]["description"] = "Invalid input"
            responses["default"] = problem
    return document
