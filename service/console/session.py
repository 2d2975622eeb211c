"""Console sessions: a signed cookie naming the moderator, a fingerprint of the token it was
opened with, and the session's CSRF secret.

The token is checked on every request (``moderator_for_session``): revoking or rotating it
ends every session opened with it. The cookie is HttpOnly, SameSite=Strict, Secure over HTTPS
(or always, with ``console_cookie_secure``), and expires after ``console_session_minutes``
(the signature carries its time, so an old cookie is refused even if a browser keeps it).
Sign-out deletes the cookie; a copied cookie stays valid until it expires or the token is
revoked (there is no server-side session table).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from service.console.gateway import ModeratorRef, Services, moderator_for_session

SESSION_COOKIE = "commentmod_console"
SIGNIN_COOKIE = "commentmod_console_signin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SIGNIN_MAX_AGE = 3600


def services() -> Services:
    svc: Services = current_app.extensions["commentmod"]
    return svc


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # The signing key is derived from the service's hash key: no new secret to manage.
    key = services().vault.keyed_hash("console-cookie-key", purpose)
    return URLSafeTimedSerializer(key, salt=f"commentmod-console-{purpose}")


def _max_age() -> int:
    return int(services().settings.console_session_minutes * 60)


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="Strict",
        secure=request.is_secure or services().settings.console_cookie_secure,
    )


def open_session(response: Response, moderator_id: int, fingerprint: str) -> None:
    """Give the browser a fresh session (a new CSRF secret each time: no fixation)."""
    payload = {"m": moderator_id, "f": fingerprint, "c": secrets.token_urlsafe(32)}
    _set_cookie(response, SESSION_COOKIE, _serializer("session").dumps(payload), _max_age())
    response.delete_cookie(SIGNIN_COOKIE, path="/console")


def close_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/console")


def load_session() -> None:
    """Set ``g.moderator`` and ``g.csrf`` from a valid cookie whose token is still valid."""
    g.moderator = None
    g.csrf = None
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return
    try:
        payload: dict[str, Any] = _serializer("session").loads(raw, max_age=_max_age())
        moderator_id, fingerprint, csrf = int(payload["m"]), str(payload["f"]), str(payload["c"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return
    moderator = moderator_for_session(services(), moderator_id, fingerprint)
    if moderator is not None:
        g.moderator = moderator
        g.csrf = csrf


def current_moderator() -> ModeratorRef | None:
    moderator: ModeratorRef | None = g.get("moderator")
    return moderator


# --- CSRF -------------------------------------------------------------------------------------


def signin_token() -> tuple[str, str | None]:
    """The sign-in form's CSRF token, tied to a random nonce in a short-lived cookie (signed
    double submit: a cross-site page cannot sign a browser in). Returns the token and the new
    nonce to store with :func:`remember_signin_nonce`, or None when the cookie has one."""
    nonce = request.cookies.get(SIGNIN_COOKIE)
    fresh = None if nonce else secrets.token_urlsafe(24)
    return _serializer("signin").dumps(nonce or fresh), fresh


def remember_signin_nonce(response: Response, nonce: str) -> None:
    _set_cookie(response, SIGNIN_COOKIE, nonce, SIGNIN_MAX_AGE)


def is_signin_csrf_valid() -> bool:
    nonce = request.cookies.get(SIGNIN_COOKIE)
    sent = request.form.get(CSRF_FIELD, "")
    if not nonce or not sent:
        return False
    try:
        signed = _serializer("signin").loads(sent, max_age=SIGNIN_MAX_AGE)
    except BadSignature:
        return False
    return hmac.compare_digest(str(signed), nonce)


def is_csrf_valid() -> bool:
    """A state-changing request carries the session's CSRF secret (form field or header)."""
    expected = g.get("csrf")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return bool(expected) and hmac.compare_digest(sent, expected)


def is_same_origin() -> bool:
    """Browsers send Origin on POST; when present it must be this host (defence in depth)."""
    origin = request.headers.get("Origin")
    return origin is None or origin == request.host_url.rstrip("/")
