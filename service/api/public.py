"""Public routes (no credentials, CORS): the published comments of a thread."""

from __future__ import annotations

import functools
import hashlib
import time
from typing import Any, cast

from flask import Blueprint, Response, current_app, request

from service.api.errors import ApiError
from service.api.page_cache import PageCache
from service.api.schemas import PublicCommentOut
from service.domain.sanitize import safe_html, safe_text, safe_url
from service.usecases.reads import CommentView, list_thread
from service.usecases.services import Services

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
    pages: PageCache = current_app.extensions["commentmod.pages"]
    cached = pages.get(key, now)
    if cached is not None:
        body, etag = cached[1], cached[2]
    else:
        page = list_thread(svc, site, thread_id, limit, cursor)
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
            pages.put(key, (now + ttl, body, etag), now)
    response = Response(body, mimetype="application/json")
    # Readers poll threads: a conditional GET costs them no body when nothing changed.
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(etag)
    response.make_conditional(request)
    return response


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
