"""Moderator routes (``Authorization: Bearer <moderator token>``), scoped to the token's sites.

A site key is refused with 403 (``moderator_token_required``); an unknown or revoked token
with 401. A comment of another site is 404; a ``site`` parameter naming another site is 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from service.api.auth import CHALLENGE, bearer_token
from service.api.body import read_json_body
from service.api.errors import ApiError, field_errors, invalid_fields
from service.api.moderation_schemas import (
    AuditEventOut,
    AuditPageOut,
    AuthorHistoryOut,
    BulkDecisionIn,
    BulkDecisionOut,
    BulkResultOut,
    DecisionIn,
    DecisionOut,
    ModerationDetailOut,
    ModerationItemOut,
    PolicyOut,
    QueuePageOut,
)
from service.domain.checks import CHECKS
from service.domain.statuses import Status
from service.domain.submission import LANG_TAG
from service.usecases.decisions import decide_comment, decide_many
from service.usecases.moderation import (
    AUTHOR_KEY,
    MAX_BULK,
    REASON_CODE,
    AuditView,
    ModerationItem,
    QueueFilter,
    QueueOrder,
    get_for_moderation,
    list_audit,
    list_queue,
)
from service.usecases.policies import PolicyView, get_site_policy, update_site_policy
from service.usecases.services import (
    ModeratorRef,
    Services,
)
from service.usecases.sites import authenticate_moderator, authenticate_site

bp = Blueprint("moderation", __name__)

In = TypeVar("In", bound=BaseModel)


def _services() -> Services:
    svc: Services = current_app.extensions["commentmod"]
    return svc


def require_moderator() -> ModeratorRef:
    svc = _services()
    token = bearer_token()
    moderator = authenticate_moderator(svc, token)
    if moderator is not None:
        return moderator
    if authenticate_site(svc, token) is not None:
        raise ApiError(403, "moderator_token_required", "moderation routes need a moderator token")
    raise ApiError(401, "invalid_credentials", "the token is not valid", headers=CHALLENGE)


def _parse(model: type[In]) -> In:
    payload = read_json_body(_services().settings.max_body_bytes)
    if not isinstance(payload, dict):
        raise invalid_fields({"body": "must_be_object"})
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise field_errors(exc) from None


def _limit() -> int:
    settings = _services().settings
    raw = request.args.get("limit")
    if raw is None:
        return settings.page_size_default
    if not raw.isdigit() or not 1 <= int(raw) <= settings.page_size_max:
        raise ApiError(
            400, "invalid_limit", f"limit must be an integer from 1 to {settings.page_size_max}"
        )
    return int(raw)


def _moment(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "invalid_datetime", f"{name} must be an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ApiError(400, "invalid_datetime", f"{name} must carry a time zone")
    return moment


_ORDERS = frozenset(o.value for o in QueueOrder)
_ORDER_HELP = "order must be one of: " + ", ".join(o.value for o in QueueOrder)


def _arg(name: str, pattern: Any, code: str, message: str) -> str | None:
    raw = request.args.get(name)
    if not raw:
        return None
    if not (pattern(raw) if callable(pattern) else pattern.match(raw)):
        raise ApiError(400, code, message)
    return raw


def _item_out(item: ModerationItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "site": item.site,
        "thread_id": item.thread_id,
        "status": item.status,
        "text": item.text,
        "author_name": item.author_name,
        "author_url": item.author_url,
        "author_email_masked": item.author_email_masked,
        "author_key": item.author_key,
        "lang": item.lang,
        "created_at": item.created_at,
        "reasons": item.reasons,
        "checks": [
            {
                "check": c.check,
                "score": c.score,
                "verdict": c.verdict,
                "reasons": list(c.reasons),
                "evidence": [
                    {"start": e.start, "end": e.end, "label": e.label} for e in c.evidence
                ],
                "model": c.model,
            }
            for c in item.checks
        ],
    }


def _audit_out(view: AuditView) -> AuditEventOut:
    return AuditEventOut(
        id=view.id,
        comment_id=view.comment_id,
        site=view.site,
        actor=view.actor,
        from_status=view.from_status,  # type: ignore[arg-type]
        to_status=view.to_status,  # type: ignore[arg-type]
        reasons=view.reasons,
        note=view.note,
        created_at=view.created_at,
    )


def _policy_out(view: PolicyView) -> Response:
    out = PolicyOut(
        site=view.site,
        version=view.version,
        overrides=view.overrides,
        effective=view.effective,
        updated_by=view.updated_by,
        updated_at=view.updated_at,
        history=[
            {"version": v.version, "actor": v.actor, "created_at": v.created_at}  # type: ignore[misc]
            for v in view.history
        ],
    )
    response = jsonify(out.model_dump(mode="json"))
    response.headers["ETag"] = f'"{view.version}"'
    return response


# --- routes ---------------------------------------------------------------------------------


@bp.get("/v1/moderation/queue")
def queue() -> Response:
    moderator = require_moderator()
    raw_status = request.args.get("status") or Status.HELD.value
    if raw_status not in {s.value for s in Status}:
        raise ApiError(400, "invalid_status", "status must be one of the comment statuses")
    filters = QueueFilter(
        site=request.args.get("site") or None,
        status=Status(raw_status),
        lang=_arg("lang", LANG_TAG, "invalid_lang", "lang must be a language tag"),
        check=_arg("check", lambda v: v in CHECKS, "invalid_check", "check: spam or toxicity"),
        reason=_arg("reason", REASON_CODE, "invalid_reason", "reason must be a reason code"),
        author_key=_arg("author_key", AUTHOR_KEY, "invalid_author_key", "not an author key"),
        since=_moment("since"),
        until=_moment("until"),
        order=QueueOrder(
            _arg("order", _ORDERS.__contains__, "invalid_order", _ORDER_HELP) or "oldest"
        ),
    )
    page = list_queue(_services(), moderator, filters, _limit(), request.args.get("cursor") or None)
    out = QueuePageOut(
        items=[ModerationItemOut.model_validate(_item_out(i)) for i in page.items],
        next_cursor=page.next_cursor,
    )
    return jsonify(out.model_dump(mode="json"))


@bp.get("/v1/moderation/comments/<comment_id>")
def detail(comment_id: str) -> Response:
    moderator = require_moderator()
    found = get_for_moderation(_services(), moderator, comment_id)
    out = ModerationDetailOut.model_validate(
        {
            **_item_out(found.item),
            "history": [_audit_out(v) for v in found.history],
            "author_history": AuthorHistoryOut.model_validate(
                {
                    "counts": found.author.counts,
                    "is_known_spammer": found.author.is_known_spammer,
                    "recent": found.author.recent,
                }
            ),
        }
    )
    return jsonify(out.model_dump(mode="json"))


@bp.post("/v1/moderation/comments/<comment_id>/decision")
def decision(comment_id: str) -> Response:
    moderator = require_moderator()
    body = _parse(DecisionIn)
    done = decide_comment(
        _services(),
        moderator,
        comment_id,
        body.action,
        reason=body.reason,
        note=body.note,
        expected_status=Status(body.expected_status) if body.expected_status else None,
    )
    out = DecisionOut(id=done.id, status=done.status, previous_status=done.previous_status)  # type: ignore[arg-type]
    return jsonify(out.model_dump(mode="json"))


@bp.post("/v1/moderation/decisions")
def bulk_decision() -> Response:
    moderator = require_moderator()
    body = _parse(BulkDecisionIn)
    if len(body.ids) > MAX_BULK:
        raise invalid_fields({"ids": "too_many"})
    results = decide_many(
        _services(), moderator, body.ids, body.action, reason=body.reason, note=body.note
    )
    out = BulkDecisionOut(
        results=[
            BulkResultOut(
                id=r.id,
                ok=r.error is None,
                status=r.status,  # type: ignore[arg-type]
                previous_status=r.previous_status,  # type: ignore[arg-type]
                error=r.error,
            )
            for r in results
        ]
    )
    return jsonify(out.model_dump(mode="json"))


@bp.get("/v1/moderation/audit")
def audit() -> Response:
    moderator = require_moderator()
    comment_id = request.args.get("comment_id") or None
    site = request.args.get("site") or None
    page = list_audit(
        _services(),
        moderator,
        comment_id=comment_id,
        site=site,
        limit=_limit(),
        cursor=request.args.get("cursor") or None,
    )
    out = AuditPageOut(items=[_audit_out(v) for v in page.items], next_cursor=page.next_cursor)
    return jsonify(out.model_dump(mode="json"))


@bp.get("/v1/moderation/sites/<site>/policy")
def read_policy(site: str) -> Response:
    moderator = require_moderator()
    return _policy_out(get_site_policy(_services(), moderator, site))


@bp.put("/v1/moderation/sites/<site>/policy")
def write_policy(site: str) -> Response:
    moderator = require_moderator()
    expected: int | None = None
    if_match = request.headers.get("If-Match")
    if if_match is not None:
        tag = if_match.strip().strip('"')
        if not tag.isdigit():
            raise ApiError(400, "invalid_if_match", 'If-Match must be a policy version: "3"')
        expected = int(tag)
    payload = read_json_body(_services().settings.max_body_bytes)
    view = update_site_policy(
        _services(),
        moderator,
        site,
        payload,
        actor=moderator.actor,
        expected_version=expected,
    )
    return _policy_out(view)
