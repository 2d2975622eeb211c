"""The one error envelope: ``{"error": {"code", "message", "fields"?}}``.

Messages are fixed strings per code: an error never echoes a submitted value.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from service.db.errors import is_storage_outage
from service.domain.policy import PolicyInvalid
from service.domain.privacy import PrivacyConfigError
from service.usecases.privacy import InvalidEmail
from service.usecases.services import (
    DuplicateComment,
    Flooded,
    Forbidden,
    IdempotencyKeyReused,
    InvalidCursor,
    InvalidDecision,
    NotFound,
    ParentNotFound,
    PolicyConflict,
    StaleDecision,
    UseCaseError,
)

log = logging.getLogger(__name__)

STORAGE_RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, object] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# The one table of error codes: HTTP-level errors raised by Flask/werkzeug.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
_HTTP_MESSAGES = {
    404: "no such resource",
    405: "method not allowed on this resource",
    413: "request body too large",
}
INVALID_FIELDS = "some fields are invalid"
# The use cases' refusals with a fixed answer: status, stable code, message.
_REFUSALS: dict[type[UseCaseError], tuple[int, str, str]] = {
    Forbidden: (403, "forbidden_site", "this token may not moderate that site"),
    InvalidCursor: (400, "invalid_cursor", "the cursor is not valid"),
    StaleDecision: (
        409,
        "stale_decision",
        "the comment's status changed; reload it and decide again",
    ),
    DuplicateComment: (
        409,
        "duplicate_comment",
        "this author already posted this text in this thread",
    ),
    IdempotencyKeyReused: (
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was used with another body",
    ),
}
_DECISION_MESSAGES = {
    "comment_pending": "the checks have not decided this comment yet",
    "already_in_status": "the comment already has this status",
    "invalid_transition": "this decision is not allowed from the comment's current status",
}
# pydantic error types → the field codes of a 422 ``invalid_fields``.
FIELD_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "string_type": "must_be_string",
    "list_type": "must_be_list",
    "literal_error": "invalid_choice",
    "string_pattern_mismatch": "invalid_reason_code",
    "string_too_long": "too_long",
    "string_too_short": "blank",
    "too_short": "empty",
    "model_type": "must_be_object",
}


def invalid_fields(fields: dict[str, str], message: str = INVALID_FIELDS) -> ApiError:
    return ApiError(422, "invalid_fields", message, fields=fields)


def field_errors(
    exc: ValidationError, known: frozenset[str] | None = None, fallback: str | None = None
) -> ApiError:
    """A pydantic validation error as a 422 naming each field once. With ``known``, a field
    outside it is reported as ``body`` (any other key is input, never echoed); an unmapped
    error type is reported as ``fallback`` (its own type name when None)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        name = str(error["loc"][0])[:64] if error["loc"] else "body"
        if known is not None and name not in known:
            name = "body"
        fields.setdefault(name, FIELD_CODES.get(error["type"], fallback or error["type"]))
    return invalid_fields(fields)


def refusal(exc: UseCaseError) -> ApiError:
    """The API's answer to a use case's refusal: every mapping lives here."""
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", f"no such {exc.resource}")
    if isinstance(exc, Flooded):
        return ApiError(
            429,
            "too_many_requests",
            "comments are coming too fast; retry later",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, ParentNotFound):
        return invalid_fields({"parent_id": "parent_not_found"})
    if isinstance(exc, InvalidEmail):
        return invalid_fields({"author_email": "invalid_email"})
    if isinstance(exc, InvalidDecision):
        return ApiError(409, exc.code, _DECISION_MESSAGES[exc.code])
    if isinstance(exc, PolicyConflict):
        return ApiError(
            412 if exc.was_expected else 409,
            "policy_version_conflict",
            "the policy changed meanwhile; reload it and save again",
        )
    status, code, message = _REFUSALS.get(type(exc), (500, "internal_error", "internal error"))
    return ApiError(status, code, message)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = _HTTP_MESSAGES.get(status, exc.name)
        response = error_response(status, code, message)
        # Keep protocol headers such as Allow (405) from the original exception.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(UseCaseError)
    def _refused(exc: UseCaseError) -> Response:
        return _api_error(refusal(exc))

    @app.errorhandler(PolicyInvalid)
    def _invalid_policy(exc: PolicyInvalid) -> Response:
        return _api_error(invalid_fields(exc.fields, "some policy keys are invalid"))

    def _storage_down(exc: Exception) -> Response:
        log.error("storage unavailable", extra={"error": type(exc).__name__})
        return error_response(
            503,
            "storage_unavailable",
            "storage is unavailable; retry later",
            headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
        )

    @app.errorhandler(PrivacyConfigError)
    def _misconfigured(exc: PrivacyConfigError) -> Response:
        log.error("privacy configuration error", extra={"error": str(exc)})
        return error_response(503, "service_misconfigured", "the service is not configured")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if is_storage_outage(exc):
            return _storage_down(exc)
        # The exception text may contain submitted values: log the type only, plus the trace
        # id; the traceback goes to the log with values redacted by the formatter.
        log.error(
            "unhandled error",
            extra={"error": type(exc).__name__, "request_id": g.get("request_id")},
        )
        return error_response(500, "internal_error", "internal error")
