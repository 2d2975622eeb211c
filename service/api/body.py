"""Strict JSON request bodies: content type, size (before parsing), UTF-8, no duplicate keys,
no NaN/Infinity, bounded nesting. Every failure is an :class:`ApiError`, never a 500."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from service.api.errors import ApiError

MAX_DEPTH = 32


class _Malformed(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Malformed("duplicate key")
        result[key] = value
    return result


def _no_constants(_: str) -> Any:
    raise _Malformed("NaN and Infinity are not JSON")


def _depth_ok(text: str) -> bool:
    """Reject deep nesting before json.loads recurses into it (cheap bracket count;
    brackets inside strings only make this stricter, never let a deep body through)."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def read_json_body(max_bytes: int) -> Any:
    if not request.mimetype or not (
        request.mimetype == "application/json" or request.mimetype.endswith("+json")
    ):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, "payload_too_large", "request body too large")
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge as exc:
        raise ApiError(413, "payload_too_large", "request body too large") from exc
    # A streamed (chunked) body is cut at MAX_CONTENT_LENGTH without an error: a body that
    # filled the limit was (or may have been) larger, and parsing its prefix would be a 400.
    if len(raw) > max_bytes or (request.content_length is None and len(raw) >= max_bytes):
        raise ApiError(413, "payload_too_large", "request body too large")
    try:
        text = raw.decode("utf-8")
        if not _depth_ok(text):
            raise _Malformed("too deep")
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", "the body is not a valid JSON document") from exc
