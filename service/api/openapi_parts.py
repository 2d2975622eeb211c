"""The building blocks of /openapi.json, shared by every route table that describes itself."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

ERROR_SCHEMA = "ErrorOut"


def ref(model: type[BaseModel] | str) -> dict[str, str]:
    name = model if isinstance(model, str) else model.__name__
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(model: type[BaseModel] | str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(model)}}}


def errors(*statuses: int) -> dict[str, Any]:
    """The error envelope for each of ``statuses``."""
    return {str(status): json_response(ERROR_SCHEMA, "error") for status in statuses}


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def query_param(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(model)}}}
