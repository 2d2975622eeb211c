"""Public routes (no credentials, CORS): the published comments of a thread."""

from __future__ import annotations

import functools
import hashlib
import time
from typing import Any, cast

from flask import Blueprint, Response, current_app, request

from service.api.errors import ApiError
from service.api.schemas import PublicCommentOut
from service.domain.sanitize import safe_html, safe_text, safe_url
from service.usecases.reads import CommentView, list_thread
from service.usecases.services import InvalidCursor, NotFound, Services

bp = Blueprint("public", __name__)


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.route("/v1/sites/<site>/threads/<path:thread_id>/comments", methods=["GET", "OPTIONS"])
def thread_comments(site: str, thread_id: str) -> Response:
    if request.method == "OPTIONS":
        return Response(status=204)
    svc: Services = current_app.extensions["commentmod"]
    limit = _limit(svc)
    cursor = request.args.get("cursor") or None
    key = (site, thread_id, limit, cursor)
    now = time.monotonic()
    cached = _PAGES.get(key)
    if cached is not None and cached[0] > now:
        body, etag = cached[1], cached[2]
    else:
        try:
            page = list_thread(svc, site, thread_id, limit, cursor)
        except NotFound:
            raise ApiError(404, "not_found", "no such site") from None
        except InvalidCursor:
            raise ApiError(400, "invalid_cursor", "the cursor is not valid") from None
        rendered = cast(  # exactly what jsonify sends
            Response,
            current_app.json.response(
                {"items": [_public_item(v) for v in page.items], "next_cursor": page.next_cursor}
            ),
        )
        body = rendered.get_data()
        etag = hashlib.sha1(body, usedforsecurity=False).hexdigest()
        ttl = svc.settings.public_page_cache_seconds
        if ttl > 0:
            _remember_page(key, (now + ttl, body, etag), now)
    response = Response(body, mimetype="application/json")
    # Readers poll threads: a conditional GET costs them no body when nothing changed.
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(etag)
    response.make_conditional(request)
    return response


# Rendered pages of this process: (site, thread, limit, cursor) -> (expires at, body, ETag).
# See public_page_cache_seconds in config/commentmod.toml. Bounded by the bodies' total size.
_PageKey = tuple[str, str, int, str | None]
_PAGES: dict[_PageKey, tuple[float, bytes, str]] = {}
PAGE_CACHE_MAX_BYTES = 16 * 1024 * 1024
_page_bytes = 0


def _remember_page(key: _PageKey, entry: tuple[float, bytes, str], now: float) -> None:
    global _page_bytes
    old = _PAGES.pop(key, None)
    if old is not None:
        _page_bytes -= len(old[1])
    if _page_bytes + len(entry[1]) > PAGE_CACHE_MAX_BYTES:
        # Drop what has expired; if that is not enough, start over (bounded, and cheap).
        for k in [k for k, v in _PAGES.items() if v[0] <= now]:
            _page_bytes -= len(_PAGES.pop(k)[1])
        if _page_bytes + len(entry[1]) > PAGE_CACHE_MAX_BYTES:
            _PAGES.clear()
            _page_bytes = 0
    _PAGES[key] = entry
    _page_bytes += len(entry[1])


@functools.lru_cache(maxsize=10_000)
def _public_item(view: CommentView) -> dict[str, Any]:
    """One published comment as the page shows it (ThreadPageOut's item), sanitized once per
    process: readers poll the same threads, and sanitizing and validating 20 comments cost
    more than the query. The key is the whole row, so a changed row (erasure) is a new entry.
    The dict is shared: callers must not modify it."""
    return PublicCommentOut(
        id=view.id,
        thread_id=view.thread_id,
        parent_id=view.parent_id,
        author_name=safe_text(view.author_name),
        author_url=safe_url(view.author_url),
        text=safe_html(view.text),
        created_at=view.created_at,
        published_at=view.published_at,
    ).model_dump(mode="json")


def _limit(svc: Services) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return svc.settings.page_size_default
    if not raw.isdigit() or not 1 <= int(raw) <= svc.settings.page_size_max:
        raise ApiError(
            400, "invalid_limit", f"limit must be an integer from 1 to {svc.settings.page_size_max}"
        )
    return int(raw)
