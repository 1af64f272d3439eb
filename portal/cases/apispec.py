"""Declared API routes and schemas, and the OpenAPI 3 document generated from them.

Each route of the case API is registered with ``api_route`` together with its summary, request
and response schemas and required scope; the same declarations validate request bodies and
produce ``/api/v1/openapi.json``, so the document cannot drift from the code.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


class ApiInputError(ValueError):
    """A request body that does not match its schema (``problems`` lists what is wrong)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string | integer | boolean | date | date-time | object | array
    description: str = ""
    required: bool = False
    enum: tuple[str, ...] = ()
    max_length: int | None = None
    nullable: bool = False
    items: str | None = None  # for arrays: the name of a schema


@dataclass(frozen=True)
class Schema:
    name: str
    fields: tuple[Field, ...]
    description: str = ""


@dataclass(frozen=True)
class RouteDoc:
    method: str
    path: str  # OpenAPI style: /cases/{case_id}
    operation_id: str
    summary: str
    scope: str | None
    request: Schema | None = None
    response: Schema | None = None
    response_is_list: bool = False
    status: int = 200
    query: tuple[Field, ...] = ()


@dataclass
class ApiSpec:
    title: str
    version: str
    routes: list[RouteDoc] = field(default_factory=list)
    schemas: dict[str, Schema] = field(default_factory=dict)

    def schema(self, schema: Schema) -> Schema:
        """Declare a schema (components/schemas)."""
        self.schemas[schema.name] = schema
        return schema

    def route(self, doc: RouteDoc) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Record ``doc`` for the decorated view."""

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            self.routes.append(doc)
            view.api_doc = doc  # type: ignore[attr-defined]
            return view

        return decorator

    def document(self, server_url: str) -> dict[str, Any]:
        """The OpenAPI 3.0 document of every declared route."""
        paths: dict[str, dict[str, Any]] = {}
        for r in self.routes:
            operation: dict[str, Any] = {
                "operationId": r.operation_id, "summary": r.summary,
                "responses": {
                    str(r.status): {"description": "OK", "content": {"application/json": {
                        "schema": _ref_or_list(r.response, r.response_is_list)}}}
                    if r.response else {"description": "OK"},
                    "400": {"$ref": "#/components/responses/Error"},
                    "401": {"$ref": "#/components/responses/Error"},
                    "403": {"$ref": "#/components/responses/Error"},
                    "404": {"$ref": "#/components/responses/Error"},
                    "409": {"$ref": "#/components/responses/Error"},
                },
            }
            if r.scope:
                operation["security"] = [{"bearerToken": [r.scope]}]
                operation["description"] = f"Requires a service token with scope `{r.scope}`."
            else:
                operation["security"] = []
            params = [{"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer"}} for name in _path_params(r.path)]
            params += [{"name": f.name, "in": "query", "required": f.required,
                        "description": f.description, "schema": _field_schema(f)}
                       for f in r.query]
            if params:
                operation["parameters"] = params
            if r.request is not None:
                operation["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{r.request.name}"}}}}
            paths.setdefault(r.path, {})[r.method.lower()] = operation
        schemas = {name: to_json_schema(s) for name, s in sorted(self.schemas.items())}
        schemas["Error"] = {"type": "object", "required": ["error", "status"], "properties": {
            "error": {"type": "string"}, "status": {"type": "integer"},
            "problems": {"type": "array", "items": {"type": "string"}}}}
        return {
            "openapi": "3.0.3",
            "info": {"title": self.title, "version": self.version},
            "servers": [{"url": server_url}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "responses": {"Error": {"description": "Refused", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
                "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer",
                                                    "description": "Service token"}},
            },
        }


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _ref_or_list(schema: Schema | None, is_list: bool) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema.name}"} if schema else {}
    return {"type": "array", "items": ref} if is_list else ref


def _field_schema(f: Field) -> dict[str, Any]:
    if f.type in ("date", "date-time"):
        out: dict[str, Any] = {"type": "string", "format": f.type}
    elif f.type == "array":
        out = {"type": "array", "items": {"$ref": f"#/components/schemas/{f.items}"}}
    else:
        out = {"type": f.type}
    if f.enum:
        out["enum"] = list(f.enum)
    if f.max_length:
        out["maxLength"] = f.max_length
    if f.nullable:
        out["nullable"] = True
    if f.description:
        out["description"] = f.description
    return out


def to_json_schema(schema: Schema) -> dict[str, Any]:
    """The JSON schema (OpenAPI 3.0 dialect) of ``schema``."""
    out: dict[str, Any] = {"type": "object", "properties": {
        f.name: _field_schema(f) for f in schema.fields}, "additionalProperties": False}
    required = [f.name for f in schema.fields if f.required]
    if required:
        out["required"] = required
    if schema.description:
        out["description"] = schema.description
    return out


def validate(schema: Schema, data: Any) -> dict[str, Any]:
    """Check ``data`` against ``schema`` and convert dates.

    Raises:
        ApiInputError: not an object, unknown fields, missing or ill-typed values.
    """
    if not isinstance(data, dict):
        raise ApiInputError(["the body must be a JSON object"])
    problems = [f"unknown field: {k}" for k in data if k not in {f.name for f in schema.fields}]
    clean: dict[str, Any] = {}
    for f in schema.fields:
        if f.name not in data or data[f.name] is None:
            if f.required:
                problems.append(f"{f.name}: required")
            continue
        value = data[f.name]
        try:
            clean[f.name] = _convert(f, value)
        except (TypeError, ValueError) as err:
            problems.append(f"{f.name}: {err}")
    if problems:
        raise ApiInputError(problems)
    return clean


def _convert(f: Field, value: Any) -> Any:
    if f.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("must be an integer")
        return value
    if f.type == "boolean":
        if not isinstance(value, bool):
            raise TypeError("must be true or false")
        return value
    if not isinstance(value, str):
        raise TypeError("must be a string")
    if f.max_length is not None and len(value) > f.max_length:
        raise ValueError(f"longer than {f.max_length} characters")
    if f.enum and value not in f.enum:
        raise ValueError(f"must be one of {', '.join(f.enum)}")
    if f.type == "date":
        return date.fromisoformat(value)
    if f.type == "date-time":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("needs a time zone")
        return parsed
    return value
