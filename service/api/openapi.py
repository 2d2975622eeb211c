"""/openapi.json, built from the same pydantic models that validate and serialize."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service.api.moderation_schemas import OPENAPI_MODELS, OPENAPI_REQUESTS, openapi_paths
from service.api.openapi_parts import errors, json_response, path_param, ref
from service.api.schemas import (
    AcceptedOut,
    ErasureIn,
    ErasureOut,
    ErrorOut,
    HealthOut,
    SiteCommentOut,
    ThreadPageOut,
)
from service.domain.submission import CommentSubmission

_MODELS: tuple[type[BaseModel], ...] = (
    CommentSubmission,
    AcceptedOut,
    SiteCommentOut,
    ThreadPageOut,
    ErrorOut,
    HealthOut,
    ErasureIn,
    ErasureOut,
    *OPENAPI_MODELS,
)
_REQUEST_MODELS: tuple[type[BaseModel], ...] = (CommentSubmission, ErasureIn, *OPENAPI_REQUESTS)


def build_openapi(version: str) -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation" if m in _REQUEST_MODELS else "serialization") for m in _MODELS],
        ref_template="#/components/schemas/{model}",
    )
    site_auth: list[dict[str, list[str]]] = [{"siteKey": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "commentmod", "version": version},
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {
                "siteKey": {"type": "http", "scheme": "bearer"},
                "moderatorToken": {"type": "http", "scheme": "bearer"},
            },
        },
        "paths": {
            "/v1/comments": {
                "post": {
                    "operationId": "submitComment",
                    "security": site_auth,
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ref(CommentSubmission)}},
                    },
                    "responses": {
                        "202": json_response(AcceptedOut, "accepted; checks queued"),
                        **errors(400, 401, 409, 413, 415, 422, 429, 503),
                    },
                }
            },
            "/v1/comments/{comment_id}": {
                "get": {
                    "operationId": "getComment",
                    "security": site_auth,
                    "parameters": [path_param("comment_id")],
                    "responses": {
                        "200": json_response(SiteCommentOut, "the comment"),
                        **errors(401, 404, 503),
                    },
                }
            },
            "/v1/sites/{site}/threads/{thread_id}/comments": {
                "get": {
                    "operationId": "listThreadComments",
                    "security": [],
                    "parameters": [
                        path_param("site"),
                        path_param("thread_id"),
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                        },
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": json_response(ThreadPageOut, "published comments, oldest first"),
                        "304": {"description": "not modified (If-None-Match)"},
                        **errors(400, 404, 503),
                    },
                }
            },
            "/v1/privacy/erasure": {
                "post": {
                    "operationId": "eraseAuthor",
                    "security": site_auth,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ref(ErasureIn)}},
                    },
                    "responses": {
                        "200": json_response(ErasureOut, "the author's personal data is erased"),
                        **errors(400, 401, 413, 415, 422, 503),
                    },
                }
            },
            **openapi_paths(),
            "/healthz": {"get": _ops("healthz", "the process is up")},
            "/readyz": {"get": _ops("readyz", "database and broker reachable")},
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
    }


def _ops(operation_id: str, description: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "security": [],
        "responses": {
            "200": json_response(HealthOut, description),
            "503": json_response(HealthOut, "not ready"),
        },
    }
