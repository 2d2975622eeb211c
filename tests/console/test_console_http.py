"""The console's HTTP contract through the Flask client on the real test database: headers,
cookie flags, sign-in refusals, expiry, tampering, CSRF and Origin checks, redirects."""

from __future__ import annotations

import dataclasses
import re

from flask.testing import FlaskClient

from service.api import create_app
from service.console import CSP
from service.console.session import SESSION_COOKIE
from service.usecases.services import Services
from tests.conftest import wait_until
from tests.console.conftest import Desk

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def client_for(services: Services, **settings: object) -> FlaskClient:
    svc = dataclasses.replace(services, settings=services.settings.model_copy(update=settings))
    return create_app(services=svc).test_client()


def sign_in(client: FlaskClient, token: str, **kwargs: object) -> object:
    page = client.get("/console/signin", **kwargs)  # type: ignore[arg-type]
    csrf = CSRF.search(page.get_data(as_text=True))
    assert csrf
    return client.post(
        "/console/signin",
        data={"csrf_token": csrf.group(1), "token": token, "next": "/console/"},
        **kwargs,  # type: ignore[arg-type]
    )


def session_csrf(client: FlaskClient) -> str:
    found = CSRF.search(client.get("/console/dashboard").get_data(as_text=True))
    assert found
    return found.group(1)


def test_console_pages_carry_a_strict_csp_and_are_never_cached(client: FlaskClient) -> None:
    for path in ("/console/signin", "/console/static/console.js", "/console/nowhere"):
        with client.get(path) as r:  # closes the static file's stream
            assert r.headers["Content-Security-Policy"] == CSP, path
            assert r.headers["X-Frame-Options"] == "DENY"
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
    assert client.get("/console/signin").headers["Cache-Control"] == "no-store"
    page = client.get("/console/signin").get_data(as_text=True)
    assert "<script>" not in page and " style=" not in page and " on" + "click" not in page


def test_root_and_console_send_a_visitor_to_sign_in(client: FlaskClient) -> None:
    assert client.get("/").headers["Location"] == "/console/"
    r = client.get("/console/?site=x")
    assert r.status_code == 302 and r.headers["Location"].startswith("/console/signin?next=")
    assert client.get("/console/", headers={"X-Console-Fetch": "1"}).status_code == 401


def test_the_session_cookie_is_httponly_strict_and_secure_over_https(
    services: Services, desk: Desk
) -> None:
    plain = sign_in(client_for(services), desk.token)
    cookie = next(c for c in plain.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE))  # type: ignore[attr-defined]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie
    assert desk.token not in cookie
    https = sign_in(client_for(services), desk.token, base_url="https://news.example")
    assert any(
        c.startswith(SESSION_COOKIE) and "Secure" in c
        for c in https.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    )
    forced = sign_in(client_for(services, console_cookie_secure=True), desk.token)
    assert any(
        c.startswith(SESSION_COOKIE) and "Secure" in c
        for c in forced.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    )


def test_sign_in_refuses_a_bad_token_a_missing_form_token_and_open_redirects(
    client: FlaskClient, desk: Desk
) -> None:
    bad = sign_in(client, "cmm_not-a-token")
    assert bad.status_code == 401  # type: ignore[attr-defined]
    assert "That moderator token is not valid." in bad.get_data(as_text=True)  # type: ignore[attr-defined]
    assert sign_in(client, desk.api_key).status_code == 401  # type: ignore[attr-defined]
    fresh = client.application.test_client()  # no sign-in cookie, so no valid form token
    no_form_token = fresh.post("/console/signin", data={"token": desk.token})
    assert no_form_token.status_code == 403
    page = client.get("/console/signin?next=https://evil.example/x").get_data(as_text=True)
    csrf = CSRF.search(page)
    assert csrf
    r = client.post(
        "/console/signin",
        data={"csrf_token": csrf.group(1), "token": desk.token, "next": "//evil.example/x"},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/console/"


def test_posts_need_the_session_csrf_token_and_a_same_origin(
    client: FlaskClient, desk: Desk
) -> None:
    sign_in(client, desk.token)
    csrf = session_csrf(client)
    url = f"/console/sites/{desk.slug}/policy"
    assert client.post(url, data={"max_links": "4"}).status_code == 403
    assert client.post(url, data={"max_links": "4", "csrf_token": csrf + "x"}).status_code == 403
    cross = client.post(
        url,
        data={"max_links": "4", "csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    saved = client.post(url, data={"max_links": "4", "csrf_token": csrf, "version": "0"})
    assert saved.status_code == 302
    # Signing out ends this browser's session; the old form token is refused with it.
    assert client.post("/console/signout", data={"csrf_token": csrf}).status_code == 302
    assert client.post(url, data={"max_links": "5", "csrf_token": csrf}).status_code == 403


def test_a_session_expires_and_a_tampered_cookie_is_refused(services: Services, desk: Desk) -> None:
    client = client_for(services, console_session_minutes=0.02)  # 1.2 seconds
    sign_in(client, desk.token)
    assert client.get("/console/dashboard").status_code == 200

    def signed_out() -> bool:
        return client.get("/console/dashboard").status_code == 302

    wait_until(signed_out, timeout=30, interval=0.3)

    other = client_for(services)
    sign_in(other, desk.token)
    cookie = other.get_cookie(SESSION_COOKIE, path="/console")
    assert cookie is not None
    payload, _, signature = cookie.value.partition(".")
    other.set_cookie(SESSION_COOKIE, payload + "." + signature[::-1], path="/console")
    assert other.get("/console/dashboard").status_code == 302
