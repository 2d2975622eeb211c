"""Site-facing routes: submit a comment, read one of the site's own comments."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, jsonify, request

from service.api.auth import require_site
from service.api.body import read_json_body
from service.api.errors import ApiError, invalid_fields
from service.api.schemas import AcceptedOut, SiteCommentOut
from service.domain.sanitize import safe_html, safe_text, safe_url
from service.domain.submission import SubmissionInvalid, parse_submission
from service.usecases.reads import get_comment
from service.usecases.services import (
    DuplicateComment,
    Flooded,
    ParentNotFound,
    Services,
    UseCaseError,
)
from service.usecases.submission import (
    client_key,
    ip_limit_key,
    request_fingerprint,
    submit_comment,
)

bp = Blueprint("comments", __name__)
# The submissions counter's outcome for each refusal (the idempotency refusal had none).
_REFUSED: dict[type[UseCaseError], str] = {
    DuplicateComment: "duplicate",
    Flooded: "flood",
    ParentNotFound: "invalid",
}
MAX_IDEMPOTENCY_KEY = 255
# An unknown field is named in the 422 only when its name looks like a field name: a key
# such as "reader@example.com" or "<script>" is input, and input is never echoed.
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _reportable(fields: dict[str, str]) -> dict[str, str]:
    return {(k if _FIELD_NAME.fullmatch(k) else "body"): v for k, v in fields.items()}


def _rate_limit(scope: str, key: str, limit: int) -> None:
    """429 ``rate_limited`` past ``limit`` requests per window (service/ratelimit.py)."""
    verdict = current_app.extensions["commentmod.ratelimit"].hit(scope, key, limit)
    if not verdict.is_allowed:
        _count("rate_limited")
        raise ApiError(
            429,
            "rate_limited",
            "too many requests; retry later",
            headers={"Retry-After": str(verdict.retry_after)},
        )


def _services() -> Services:
    svc: Services = current_app.extensions["commentmod"]
    return svc


def _count(outcome: str) -> None:
    current_app.extensions["commentmod.metrics"].submissions.labels(outcome).inc()


@bp.post("/v1/comments")
def submit() -> tuple[Response, int, dict[str, str]]:
    svc = _services()
    site = require_site()
    _rate_limit("site", str(site.id), svc.settings.rate_limit_site_requests)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
        raise ApiError(
            400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 printable characters"
        )
    payload = read_json_body(svc.settings.max_body_bytes)
    try:
        submission = parse_submission(
            payload,
            max_text_chars=svc.settings.max_text_chars,
            check_deliverability=svc.settings.check_email_deliverability,
        )
    except SubmissionInvalid as exc:
        _count("invalid")
        raise invalid_fields(_reportable(exc.fields)) from None
    if submission.client_ip:
        _rate_limit(
            "ip",
            ip_limit_key(site.id, client_key(svc, submission.client_ip)),
            svc.settings.rate_limit_ip_requests,
        )
    try:
        accepted = submit_comment(
            svc,
            site,
            submission,
            idempotency_key=key,
            request_hash=request_fingerprint(payload) if key else None,
        )
    except UseCaseError as exc:
        outcome = _REFUSED.get(type(exc))
        if outcome is not None:
            _count(outcome)
        raise  # answered by the one error mapping (service/api/errors.py)
    _count("replayed" if accepted.is_replay else "accepted")
    body = AcceptedOut(id=accepted.id, thread_id=accepted.thread_id, created_at=accepted.created_at)
    headers = {"Location": f"/v1/comments/{accepted.id}"}
    if accepted.is_replay:
        headers["Idempotent-Replayed"] = "true"
    return jsonify(body.model_dump(mode="json")), 202, headers


@bp.get("/v1/comments/<comment_id>")
def read(comment_id: str) -> Response:
    site = require_site()
    view = get_comment(_services(), site, comment_id)
    out = SiteCommentOut(
        id=view.id,
        thread_id=view.thread_id,
        parent_id=view.parent_id,
        status=view.status,  # type: ignore[arg-type]
        author_name=safe_text(view.author_name),
        author_url=safe_url(view.author_url),
        text=safe_html(view.text),
        created_at=view.created_at,
        published_at=view.published_at,
        reasons=list(view.reasons),
    )
    return jsonify(out.model_dump(mode="json"))
