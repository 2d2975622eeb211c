"""Moderation request and response schemas (they validate, serialize and feed /openapi.json).

The moderator audience sees the email masked only (``author_email_masked``); no schema has a
clear email or IP field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator
from pydantic_core import PydanticCustomError

from service.api.openapi_parts import (
    errors,
    json_body,
    json_response,
    path_param,
    query_param,
)
from service.api.schemas import OutModel, Status
from service.domain.checks import CHECKS

Action = Literal["approve", "reject", "spam"]
ReasonCode = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Note = Annotated[StrictStr, Field(max_length=2000)]


def _no_controls(value: str | None) -> str | None:
    if value is not None and any(
        (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) < 0xA0 for ch in value
    ):
        raise PydanticCustomError("invalid_characters", "invalid_characters")
    return value


class DecisionIn(BaseModel):
    """``POST /v1/moderation/comments/{id}/decision``."""

    model_config = ConfigDict(extra="forbid", strict=True, title="DecisionIn")

    action: Action
    reason: ReasonCode | None = Field(
        default=None, description="your own snake_case reason code, kept on the comment"
    )
    note: Note | None = Field(default=None, description="free text for the audit trail")
    expected_status: Status | None = Field(
        default=None,
        description="the status you saw; a different current status answers 409 stale_decision",
    )

    _note = field_validator("note")(_no_controls)


class BulkDecisionIn(BaseModel):
    """``POST /v1/moderation/decisions``."""

    model_config = ConfigDict(extra="forbid", strict=True, title="BulkDecisionIn")

    ids: Annotated[list[Annotated[StrictStr, Field(max_length=64)]], Field(min_length=1)]
    action: Action
    reason: ReasonCode | None = None
    note: Note | None = None

    _note = field_validator("note")(_no_controls)


class EvidenceOut(OutModel):
    start: int | None
    end: int | None
    label: str | None


class CheckOut(OutModel):
    check: str
    score: float | None
    verdict: str
    reasons: list[str]
    evidence: list[EvidenceOut]
    model: str = Field(description="name@version")


class ModerationItemOut(OutModel):
    id: str
    site: str
    thread_id: str
    status: Status
    text: str
    author_name: str
    author_url: str | None
    author_email_masked: str | None = Field(description="r***@example.com; null once erased")
    author_key: str | None = Field(description="stable keyed hash grouping one author")
    lang: str | None
    created_at: datetime
    reasons: list[str]
    checks: list[CheckOut]


class QueuePageOut(OutModel):
    items: list[ModerationItemOut]
    next_cursor: str | None


class AuditEventOut(OutModel):
    id: int
    comment_id: str
    site: str
    actor: str = Field(description='"system" or "moderator:<id>"')
    from_status: Status
    to_status: Status
    reasons: list[str]
    note: str | None
    created_at: datetime


class AuditPageOut(OutModel):
    items: list[AuditEventOut]
    next_cursor: str | None


class RecentCommentOut(OutModel):
    id: str
    thread_id: str
    status: Status
    created_at: datetime


class AuthorHistoryOut(OutModel):
    counts: dict[str, int] = Field(description="this author's comments on the site by status")
    is_known_spammer: bool
    recent: list[RecentCommentOut]


class ModerationDetailOut(ModerationItemOut):
    history: list[AuditEventOut]
    author_history: AuthorHistoryOut


class DecisionOut(OutModel):
    id: str
    status: Status
    previous_status: Status


class BulkResultOut(OutModel):
    id: str
    ok: bool
    status: Status | None = None
    previous_status: Status | None = None
    error: str | None = Field(
        default=None,
        description="not_found | stale_decision | comment_pending | already_in_status | "
        "invalid_transition",
    )


class BulkDecisionOut(OutModel):
    results: list[BulkResultOut]


class PolicyVersionOut(OutModel):
    version: int
    actor: str
    created_at: datetime


class PolicyOut(OutModel):
    site: str
    version: int = Field(description="0 = the defaults; each save adds one")
    overrides: dict[str, Any]
    effective: dict[str, Any]
    updated_by: str | None
    updated_at: datetime | None
    history: list[PolicyVersionOut]


# --- OpenAPI ----------------------------------------------------------------------------------

# Request models are documented in their validation form, the rest as serialized.
OPENAPI_REQUESTS: tuple[type[BaseModel], ...] = (DecisionIn, BulkDecisionIn)
OPENAPI_MODELS: tuple[type[BaseModel], ...] = (
    *OPENAPI_REQUESTS,
    QueuePageOut,
    ModerationDetailOut,
    DecisionOut,
    BulkDecisionOut,
    AuditPageOut,
    PolicyOut,
)


QUEUE_ORDERS = ["oldest", "newest", "uncertainty"]
QUEUE_ORDER_DOC = (
    "oldest (default) or newest first by (created_at, id); uncertainty: the model's least"
    " certain first (|score - 0.5| smallest over the comment's scored checks, or `check`'s"
    " only; no score last), ties by (created_at, id). The cursor continues the order it came"
    " from (docs/moderation.md)."
)


def openapi_paths() -> dict[str, Any]:
    """The moderation routes for /openapi.json (security scheme ``moderatorToken``)."""

    ok, query, path, body = json_response, query_param, path_param, json_body
    security: list[dict[str, list[str]]] = [{"moderatorToken": []}]
    text = {"type": "string"}
    statuses = {"type": "string", "enum": ["pending", "published", "held", "rejected", "spam"]}
    page = [
        query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
        query("cursor", text, "next_cursor of the previous page"),
    ]
    policy_doc = {
        "type": "object",
        "description": "the site's policy overrides (docs/moderation.md)",
    }
    return {
        "/v1/moderation/queue": {
            "get": {
                "operationId": "moderationQueue",
                "security": security,
                "parameters": [
                    query("site", text, "a site of the token (default: all of them)"),
                    query("status", statuses, "default held"),
                    query("lang", text),
                    query(
                        "check",
                        {"type": "string", "enum": list(CHECKS)},
                        "comments this check did not find clean",
                    ),
                    query("reason", text, "a reason code the comment carries"),
                    query("author_key", text),
                    query("since", {"type": "string", "format": "date-time"}),
                    query("until", {"type": "string", "format": "date-time"}),
                    query("order", {"type": "string", "enum": QUEUE_ORDERS}, QUEUE_ORDER_DOC),
                    *page,
                ],
                "responses": {
                    "200": ok(QueuePageOut, "in `order` (default oldest first)"),
                    **errors(400, 401, 403, 503),
                },
            }
        },
        "/v1/moderation/comments/{comment_id}": {
            "get": {
                "operationId": "moderationComment",
                "security": security,
                "parameters": [path("comment_id")],
                "responses": {
                    "200": ok(ModerationDetailOut, "checks, audit history, author history"),
                    **errors(401, 403, 404, 503),
                },
            }
        },
        "/v1/moderation/comments/{comment_id}/decision": {
            "post": {
                "operationId": "decideComment",
                "security": security,
                "parameters": [path("comment_id")],
                "requestBody": body(DecisionIn),
                "responses": {
                    "200": ok(DecisionOut, "the new status"),
                    **errors(400, 401, 403, 404, 409, 415, 422, 503),
                },
            }
        },
        "/v1/moderation/decisions": {
            "post": {
                "operationId": "decideComments",
                "security": security,
                "requestBody": body(BulkDecisionIn),
                "responses": {
                    "200": ok(BulkDecisionOut, "one result per id, in order"),
                    **errors(400, 401, 403, 415, 422, 503),
                },
            }
        },
        "/v1/moderation/audit": {
            "get": {
                "operationId": "moderationAudit",
                "security": security,
                "parameters": [query("comment_id", text), query("site", text), *page],
                "responses": {
                    "200": ok(AuditPageOut, "newest first"),
                    **errors(400, 401, 403, 404, 503),
                },
            }
        },
        "/v1/moderation/sites/{site}/policy": {
            "get": {
                "operationId": "getSitePolicy",
                "security": security,
                "parameters": [path("site")],
                "responses": {"200": ok(PolicyOut, "ETag: the version"), **errors(401, 403, 503)},
            },
            "put": {
                "operationId": "putSitePolicy",
                "security": security,
                "parameters": [
                    path("site"),
                    {
                        "name": "If-Match",
                        "in": "header",
                        "schema": text,
                        "description": 'the version you edited, e.g. "3"',
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": policy_doc}},
                },
                "responses": {
                    "200": ok(PolicyOut, "the saved version"),
                    **errors(400, 401, 403, 409, 412, 415, 422, 503),
                },
            },
        },
    }
