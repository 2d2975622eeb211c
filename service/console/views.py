"""Sign-in and sign-out, the queue, one comment, and decisions (one or many)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, g, jsonify, make_response, redirect, render_template, request
from flask import url_for as flask_url_for
from werkzeug.wrappers import Response as BaseResponse

from service.console import bp, forms, session
from service.console.gateway import (
    CHECKS,
    MAX_BULK,
    InvalidCursor,
    InvalidDecision,
    ModerationDetail,
    ModeratorRef,
    NotFound,
    StaleDecision,
    authenticate_moderator,
    decide_comment,
    decide_many,
    get_for_moderation,
    list_queue,
    session_fingerprint,
    site_slugs,
)
from service.console.highlight import segments

# What a decision's outcome says to the moderator (the API's codes, in words).
MESSAGES = {
    "stale_decision": "Another moderator decided this comment first.",
    "already_in_status": "The comment already has this status.",
    "comment_pending": "The checks have not decided this comment yet.",
    "invalid_transition": "This decision is not allowed from the comment's current status.",
    "not_found": "No such comment on your sites.",
}
DONE = {"published": "Approved", "rejected": "Rejected", "spam": "Marked spam"}
ORDERS = (
    ("oldest", "oldest first"),
    ("newest", "newest first"),
    ("uncertainty", "least certain first"),  # the labels that teach a site model most
)


def moderator() -> ModeratorRef:
    found = session.current_moderator()
    if found is None:  # the blueprint's before_request lets no one through without one
        abort(401)
    return found


def _safe_next(raw: str | None) -> str:
    """Only a console path: never an open redirect."""
    if raw and raw.startswith("/console/") and not urlsplit(raw).netloc and "\\" not in raw:
        return raw
    return flask_url_for("console.queue")


def page_context() -> dict[str, Any]:
    me = moderator()
    return {"me": me, "sites": site_slugs(session.services(), me), "csrf": g.csrf}


# --- sign-in ----------------------------------------------------------------------------------


@bp.get("/signin")
def signin() -> BaseResponse:
    if session.current_moderator() is not None:
        return redirect(_safe_next(request.args.get("next")))
    return _signin_page(None, 200)


def _signin_page(error: str | None, status: int) -> Response:
    token, fresh_nonce = session.signin_token()
    response = make_response(
        render_template(
            "console/signin.html",
            signin_csrf=token,
            error=error,
            next=_safe_next(request.args.get("next") or request.form.get("next")),
        ),
        status,
    )
    if fresh_nonce:
        session.remember_signin_nonce(response, fresh_nonce)
    return response


@bp.post("/signin")
def signin_post() -> BaseResponse:
    if not session.is_signin_csrf_valid():
        return _signin_page("The form expired; please sign in again.", 403)
    token = (request.form.get("token") or "").strip()
    svc = session.services()
    found = authenticate_moderator(svc, token) if token else None
    if found is None:
        return _signin_page("That moderator token is not valid.", 401)
    response = redirect(_safe_next(request.form.get("next")))
    session.open_session(response, found.id, session_fingerprint(svc, token))
    return response


@bp.post("/signout")
def signout() -> BaseResponse:
    response = redirect(flask_url_for("console.signin"))
    session.close_session(response)
    return response


# --- the queue --------------------------------------------------------------------------------


def _view_item(detail: ModerationDetail) -> dict[str, Any]:
    item = detail.item
    evidence = [e for result in item.checks for e in result.evidence]
    return {
        "item": item,
        "segments": segments(item.text, evidence),
        "author": detail.author,
        "history": detail.history,
    }


def _queue_url(args: dict[str, str]) -> str:
    return flask_url_for("console.queue", **args)  # type: ignore[arg-type]


@bp.get("/")
def queue() -> BaseResponse:
    ctx = page_context()
    query = forms.parse_queue_query(request.args, ctx["sites"])
    svc = session.services()
    cursor = request.args.get("cursor") or None
    try:
        page = list_queue(svc, ctx["me"], query.filters, forms.PAGE_SIZE, cursor)
    except InvalidCursor:
        page = list_queue(svc, ctx["me"], query.filters, forms.PAGE_SIZE, None)
    # The author's history per item: the same use case the detail route calls.
    items = []
    for item in page.items:
        try:
            items.append(_view_item(get_for_moderation(svc, ctx["me"], item.id)))
        except NotFound:  # erased or moved between the two reads: leave it out
            continue
    more_url = _queue_url({**query.args, "cursor": page.next_cursor}) if page.next_cursor else None
    template = "console/_items.html" if request.args.get("fragment") else "console/queue.html"
    return make_response(
        render_template(
            template,
            **ctx,
            query=query,
            items=items,
            more_url=more_url,
            here=_queue_url(query.args),
            reasons=forms.REASON_SUGGESTIONS,
            statuses=["held", "published", "rejected", "spam", "pending"],
            checks=list(CHECKS),
            orders=ORDERS,
        )
    )


@bp.get("/comments/<comment_id>")
def detail(comment_id: str) -> BaseResponse:
    ctx = page_context()
    try:
        found = get_for_moderation(session.services(), ctx["me"], comment_id)
    except NotFound:
        abort(404)
    return make_response(
        render_template(
            "console/detail.html",
            **ctx,
            entry=_view_item(found),
            here=request.path,
            reasons=forms.REASON_SUGGESTIONS,
        )
    )


# --- decisions --------------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.headers.get("X-Console-Fetch") == "1"


@bp.post("/comments/<comment_id>/decision")
def decide(comment_id: str) -> BaseResponse:
    me = moderator()
    parsed = forms.parse_decision(request.form)
    svc = session.services()
    if isinstance(parsed, str):
        return _decision_answer(comment_id, 422, error="invalid_fields", message=parsed)
    try:
        done = decide_comment(
            svc,
            me,
            comment_id,
            parsed.action,
            reason=parsed.reason,
            note=parsed.note,
            expected_status=parsed.expected_status,
        )
    except NotFound:
        abort(404)
    except StaleDecision:
        return _decision_answer(comment_id, 409, error="stale_decision")
    except InvalidDecision as exc:
        return _decision_answer(comment_id, 409, error=exc.code)
    message = f"{DONE[done.status]}: now {done.status} (was {done.previous_status})."
    if _wants_json():
        return jsonify(ok=True, id=done.id, status=done.status, message=message)
    return redirect(_safe_next(request.form.get("next")))


def _decision_answer(comment_id: str, status: int, *, error: str, message: str = "") -> Response:
    """A refused decision: the message and the comment's current status, never silence."""
    me = moderator()
    try:
        current = get_for_moderation(session.services(), me, comment_id)
    except NotFound:
        abort(404)
    message = message or MESSAGES.get(error, error)
    if error != "invalid_fields":
        message += f" Its current status is {current.item.status}."
    if _wants_json():
        response = jsonify(
            ok=False, id=comment_id, error=error, status=current.item.status, message=message
        )
        response.status_code = status
        return response
    ctx = page_context()
    page = render_template(
        "console/detail.html",
        **ctx,
        entry=_view_item(current),
        here=flask_url_for("console.detail", comment_id=comment_id),
        reasons=forms.REASON_SUGGESTIONS,
        notice=message,
        notice_kind="error",
    )
    return make_response(page, status)


@bp.post("/decisions")
def bulk() -> BaseResponse:
    me = moderator()
    ids = list(dict.fromkeys(request.form.getlist("ids")))
    parsed = forms.parse_decision(request.form)
    error = None
    if not ids:
        error = "Select at least one comment (x, or the checkboxes)."
    elif len(ids) > MAX_BULK:
        error = f"At most {MAX_BULK} comments at once."
    elif isinstance(parsed, str):
        error = parsed
    results = []
    if error is None and not isinstance(parsed, str):
        results = decide_many(
            session.services(), me, ids, parsed.action, reason=parsed.reason, note=parsed.note
        )
    rows = [
        {
            "id": r.id,
            "ok": r.error is None,
            "text": (
                f"{DONE[r.status]}: now {r.status}."
                if r.error is None and r.status
                else MESSAGES.get(r.error or "", r.error or "")
            ),
        }
        for r in results
    ]
    status = 422 if error else 200
    return make_response(
        render_template(
            "console/bulk.html",
            **page_context(),
            error=error,
            rows=rows,
            back=_safe_next(request.form.get("next")),
        ),
        status,
    )
