"""The one error envelope: ``{"error": {"code", "message", "fields"?}}``.

Messages are fixed strings per code: an error never echoes a submitted value.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from service.domain.privacy import PrivacyConfigError

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


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = {
            404: "no such resource",
            405: "method not allowed on this resource",
            413: "request body too large",
        }.get(status, exc.name)
        response = error_response(status, code, message)
        # Keep protocol headers such as Allow (405) from the original exception.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
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
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return _storage_down(exc)
        # The exception text may contain submitted values: log the type only, plus the trace
        # id; the traceback goes to the log with values redacted by the formatter.
        log.error(
            "unhandled error",
            extra={"error": type(exc).__name__, "request_id": g.get("request_id")},
        )
        return error_response(500, "internal_error", "internal error")
