"""A corpus of hostile requests: never a 5xx, always the one error envelope, never an echo.

Each body carries a unique marker; no response (body or headers) may contain it. Also the
safe-read contract: stored text comes back without live markup, idempotently sanitized,
with Devanagari joiners intact.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.api import create_app
from service.domain.checks import CheckResult
from service.domain.sanitize import safe_html, safe_text, safe_url
from service.usecases.results import record_check
from service.usecases.services import Services, SiteRef
from tests.conftest import auth, new_site

MARKER = f"ECHO{uuid.uuid4().hex}"
EMAIL = f"{MARKER.lower()}@example.com"


def base(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "thread_id": "hostile",
        "author_name": "Asha",
        "author_email": f"h.{uuid.uuid4().hex[:12]}@example.com",
        "text": f"Plain remark {uuid.uuid4().hex}",
    }
    body.update(overrides)
    return body


def j(obj: Any) -> bytes:
    return json.dumps(obj).encode()


# (name, raw body, content type, expected status, expected code or field codes)
CORPUS: list[tuple[str, bytes, str | None, int, Any]] = [
    ("deep array 50k", b"[" * 50_000 + b"]" * 50_000, "application/json", 413, None),
    ("deep object 50k", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json", 413, None),
    ("deep array 40", b"[" * 40 + b"]" * 40, "application/json", 400, "malformed_json"),
    (
        "duplicate keys",
        b'{"text": "a", "text": "' + MARKER.encode() + b'"}',
        "application/json",
        400,
        "malformed_json",
    ),
    ("NaN", b'{"text": NaN, "x": "' + MARKER.encode() + b'"}', "application/json", 400, None),
    ("Infinity", b'{"text": Infinity}', "application/json", 400, "malformed_json"),
    ("-Infinity", b'{"text": -Infinity}', "application/json", 400, "malformed_json"),
    ("1e999", j(base(text=None)).replace(b"null", b"1e999"), "application/json", 422, None),
    ("huge int", b'{"text": ' + b"9" * 5000 + b"}", "application/json", 400, "malformed_json"),
    (
        "invalid utf-8",
        b'{"text": "\xff\xfe' + MARKER.encode() + b'"}',
        "application/json",
        400,
        None,
    ),
    ("overlong utf-8", b'{"text": "\xc0\xaf"}', "application/json", 400, "malformed_json"),
    ("utf-16", '{"text": "x"}'.encode("utf-16"), "application/json", 400, "malformed_json"),
    (
        "lone surrogate",
        j(base(text="a \ud800 b")),
        "application/json",
        422,
        {"text": "invalid_characters"},
    ),
    (
        "NUL in text",
        j(base(text=f"a\x00{MARKER}")),
        "application/json",
        422,
        {"text": "invalid_characters"},
    ),
    (
        "5 MB",
        b'{"text": "' + b"x" * 5_000_000 + b'"}',
        "application/json",
        413,
        "payload_too_large",
    ),
    ("text/plain", j(base()), "text/plain", 415, "unsupported_media_type"),
    ("form", b"text=" + MARKER.encode(), "application/x-www-form-urlencoded", 415, None),
    ("multipart", b"--x\r\n\r\n" + MARKER.encode(), "multipart/form-data; boundary=x", 415, None),
    ("no content type", j(base()), None, 415, "unsupported_media_type"),
    ("xml", b"<a>" + MARKER.encode() + b"</a>", "application/xml", 415, None),
    ("top-level list", j([MARKER]), "application/json", 422, {"body": "must_be_object"}),
    ("top-level string", j(MARKER), "application/json", 422, {"body": "must_be_object"}),
    ("top-level null", b"null", "application/json", 422, {"body": "must_be_object"}),
    (
        "number as name",
        j(base(author_name=12345)),
        "application/json",
        422,
        {"author_name": "must_be_string"},
    ),
    ("list as text", j(base(text=[MARKER])), "application/json", 422, {"text": "must_be_string"}),
    (
        "object as email",
        j(base(author_email={"a": MARKER})),
        "application/json",
        422,
        {"author_email": "must_be_string"},
    ),
    (
        "bool as thread",
        j(base(thread_id=True)),
        "application/json",
        422,
        {"thread_id": "must_be_string"},
    ),
    ("null as text", j(base(text=None)), "application/json", 422, None),
    (
        "bidi override in name",
        j(base(author_name=f"Asha\u202e{MARKER}")),
        "application/json",
        422,
        {"author_name": "invalid_characters"},
    ),
    (
        "bidi isolate in name",
        j(base(author_name="Asha\u2067x\u2069")),
        "application/json",
        422,
        {"author_name": "invalid_characters"},
    ),
    (
        "javascript: url",
        j(base(author_url=f"javascript:alert('{MARKER}')")),
        "application/json",
        422,
        {"author_url": "invalid_url"},
    ),
    (
        "JaVaScRiPt: url",
        j(base(author_url="JaVaScRiPt:alert(1)")),
        "application/json",
        422,
        {"author_url": "invalid_url"},
    ),
    (
        "data: url",
        j(base(author_url="data:text/html,<script>alert(1)</script>")),
        "application/json",
        422,
        {"author_url": "invalid_url"},
    ),
    (
        "user:pass@ url",
        j(base(author_url=f"https://user:{MARKER}@example.com/")),
        "application/json",
        422,
        {"author_url": "url_credentials_not_allowed"},
    ),
    (
        "user@ thread url",
        j(base(thread_url="http://admin@example.com/x")),
        "application/json",
        422,
        {"thread_url": "url_credentials_not_allowed"},
    ),
    (
        "spaces in url",
        j(base(author_url="https://exa mple.com")),
        "application/json",
        422,
        {"author_url": "invalid_url"},
    ),
    (
        "email as field name",
        j(base(**{EMAIL: "x"})),
        "application/json",
        422,
        {"body": "unknown_field"},
    ),
    (
        "markup as field name",
        j(base(**{f"<script>{MARKER}": "x"})),
        "application/json",
        422,
        {"body": "unknown_field"},
    ),
    (
        "invalid email",
        j(base(author_email=f"{MARKER}@@x")),
        "application/json",
        422,
        {"author_email": "invalid_email"},
    ),
    ("invalid ip", j(base(client_ip=MARKER)), "application/json", 422, {"client_ip": "invalid_ip"}),
    (
        "naive datetime",
        j(base(form_started_at="2024-01-01T00:00:00")),
        "application/json",
        422,
        {"form_started_at": "timezone_required"},
    ),
]


def _assert_safe(r: Any, expected_status: int, expected: Any) -> None:
    text = r.get_data(as_text=True) if hasattr(r, "get_data") else r.text
    headers = str(dict(r.headers))
    assert r.status_code < 500, text[:500]
    assert r.status_code == expected_status, text[:500]
    assert MARKER not in text and MARKER not in headers
    assert MARKER.lower() not in text
    if r.status_code >= 400:
        error = json.loads(text)["error"]
        assert set(error) <= {"code", "message", "fields"}
        if isinstance(expected, str):
            assert error["code"] == expected
        elif isinstance(expected, dict):
            assert error["code"] == "invalid_fields"
            for field, code in expected.items():
                assert error["fields"].get(field) == code, error


@pytest.fixture
def hostile_client(services: Services) -> FlaskClient:
    svc = services
    return create_app(
        services=replace(
            svc, settings=svc.settings.model_copy(update={"flood_interval_seconds": 0.0})
        )
    ).test_client()


@pytest.mark.parametrize(
    ("name", "raw", "content_type", "status", "expected"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_hostile_body(
    hostile_client: FlaskClient,
    site: tuple[SiteRef, str],
    name: str,
    raw: bytes,
    content_type: str | None,
    status: int,
    expected: Any,
) -> None:
    headers = auth(site[1])
    if content_type:
        headers["Content-Type"] = content_type
    r = hostile_client.post("/v1/comments", data=raw, headers=headers)
    _assert_safe(r, status, expected)


def test_deep_nesting_is_refused_even_when_the_size_allows_it(
    services: Services, site: tuple[SiteRef, str]
) -> None:
    roomy = create_app(
        services=replace(
            services, settings=services.settings.model_copy(update={"max_body_bytes": 2_000_000})
        )
    ).test_client()
    for raw in (b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        r = roomy.post(
            "/v1/comments", data=raw, headers={**auth(site[1]), "Content-Type": "application/json"}
        )
        _assert_safe(r, 400, "malformed_json")


def test_chunked_5mb_body_is_413_over_real_http(live_url: str, site: tuple[SiteRef, str]) -> None:
    def chunks() -> Any:
        yield b'{"text": "'
        for _ in range(500):
            yield b"x" * 10_000
        yield b'"}'

    r = requests.post(
        f"{live_url}/v1/comments",
        data=chunks(),
        headers={**auth(site[1]), "Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("get", "/v1/sites/{slug}/threads/x/comments?limit=-1", {}),
        ("get", "/v1/sites/{slug}/threads/x/comments?limit=99999999999999999999", {}),
        ("get", "/v1/sites/{slug}/threads/x/comments?limit=1e3", {}),
        ("get", "/v1/sites/{slug}/threads/x/comments?cursor=" + MARKER, {}),
        ("get", "/v1/sites/{slug}/threads/x/comments?cursor=WzEsMl0", {}),  # [1,2]
        ("get", "/v1/sites/{slug}/threads/x/comments?cursor=WyJ4IiwgIngiXQ", {}),  # ["x","x"]
        ("get", "/v1/sites/{slug}/threads/%00" + MARKER + "/comments", {}),
        ("get", "/v1/sites/{slug}/threads/" + "a" * 5000 + "/comments", {}),
        ("get", "/v1/sites/" + MARKER + "/threads/x/comments", {}),
        ("get", "/v1/comments/" + MARKER, {"auth": True}),
        ("get", "/v1/comments/%00%ff" + MARKER, {"auth": True}),
        ("post", "/v1/comments", {"Idempotency-Key": "\x01" + MARKER}),
        ("post", "/v1/comments", {"Idempotency-Key": "k" * 300}),
        ("post", "/v1/comments", {"Authorization": "Bearer " + MARKER}),
        ("post", "/v1/comments", {"Authorization": "Basic " + MARKER}),
        ("post", "/v1/comments", {"Authorization": "Bearer " + "x" * 10_000}),
        ("post", "/v1/privacy/erasure", {"auth": True, "json": {"author_email": EMAIL + ">"}}),
        ("post", "/v1/privacy/erasure", {"auth": True, "json": {EMAIL: 1}}),
        ("post", "/v1/privacy/erasure", {"auth": True, "json": [EMAIL]}),
    ],
)
def test_hostile_query_path_and_headers(
    hostile_client: FlaskClient,
    site: tuple[SiteRef, str],
    method: str,
    path: str,
    headers: dict[str, Any],
) -> None:
    headers = dict(headers)
    payload = headers.pop("json", None)
    if headers.pop("auth", False):
        headers.update(auth(site[1]))
    send: Callable[..., Any] = getattr(hostile_client, method)
    kwargs: dict[str, Any] = {"headers": headers}
    if method == "post":
        kwargs["json"] = payload if payload is not None else base()
    r = send(path.replace("{slug}", site[0].slug), **kwargs)
    text = r.get_data(as_text=True)
    assert r.status_code < 500, text
    assert MARKER not in text and MARKER not in str(dict(r.headers))
    assert EMAIL not in text
    if r.status_code >= 400:
        assert set(json.loads(text)) == {"error"}


# --- safe reads ---------------------------------------------------------------------------

HOSTILE_TEXTS = [
    "<script>alert(1)</script>hello",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="https://example.org" onclick="x()">ok link</a>',
    "<svg><script>alert(1)</script></svg>",
    "<<script>script>alert(1)<</script>/script>",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>text",
    "<b>bold</b> and <i>italic</i> & a < b > c",
]
DEVANAGARI = "क्\u200dष और क्\u200cष — ज़रूर"


def _publish(services: Services, comment_id: str) -> None:
    for check in services.settings.checks:
        record_check(
            services, comment_id, CheckResult(check, "clean", score=0.0, signals={"links": 0.0})
        )


def test_reads_never_return_live_markup(hostile_client: FlaskClient, services: Services) -> None:
    site, key = new_site(services)
    ids = []
    for i, text in enumerate([*HOSTILE_TEXTS, DEVANAGARI]):
        r = hostile_client.post(
            "/v1/comments",
            json=base(
                thread_id="safe",
                text=f"{text} #{i}",
                author_name=f"<b>Mallory</b><script>x</script> {i}",
                author_url='https://example.org/"><script>alert(1)</script>',
            ),
            headers=auth(key),
        )
        assert r.status_code == 202, r.get_data(as_text=True)
        ids.append(r.get_json()["id"])
        _publish(services, ids[-1])
    reads = [hostile_client.get(f"/v1/comments/{cid}", headers=auth(key)).get_json() for cid in ids]
    listing = hostile_client.get(f"/v1/sites/{site.slug}/threads/safe/comments").get_json()
    items = [*reads, *listing["items"]]
    assert len(listing["items"]) == len(ids)
    for item in items:
        assert item.get("status", "published") == "published"
        for field in ("text", "author_name", "author_url"):
            value = (item[field] or "").lower()
            for needle in ("<script", "<svg", "<iframe", "<style", "onerror", "onclick"):
                assert needle not in value, (field, item[field])
            assert "javascript:" not in value or (field == "text" and "href" not in value)
        assert item["author_url"] is None or not set(item["author_url"]) & set("\"'<> `")
        assert safe_html(item["text"]) == item["text"]  # already a fixed point
        assert safe_text(item["author_name"]) == item["author_name"]
    by_id = {item["id"]: item for item in reads}
    assert DEVANAGARI in by_id[ids[-1]]["text"]  # ZWJ / ZWNJ / nukta survive
    assert by_id[ids[-2]]["text"].startswith("<b>bold</b> and <i>italic</i> &amp; a &lt; b &gt; c")
    assert 'rel="nofollow ugc noopener noreferrer"' in by_id[ids[4]]["text"]


def _event_handler_attributes(markup: str) -> list[str]:
    """Attribute names starting with "on" in any tag, as a browser's parser would see them
    (an "onerror=" inside a quoted attribute value is text, not a handler)."""
    found: list[str] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend(name for name, _ in attrs if name.lower().startswith("on"))

    collector = Collector()
    collector.feed(markup)
    collector.close()
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                *"<>&\"'=/ab :;\u200d\u200ck्ष",
                *("<script>", "<a href=", "javascript:", "<b>", "</b>", "&amp;", "<!--"),
                *("-->", "<img src=x onerror=", "&#", "&lt;"),
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_sanitizers_are_idempotent_and_keep_joiners(text: str) -> None:
    once = safe_html(text)
    assert safe_html(once) == once
    assert "<script" not in once.lower()
    assert not _event_handler_attributes(once)
    assert 'href="javascript' not in once.lower()
    name = safe_text(text)
    assert safe_text(name) == name and "<" not in name
    assert once.count("\u200d") == text.count("\u200d") or "<" in text
    url = safe_url("https://example.org/" + text.replace(" ", ""))
    assert url is None or (safe_url(url) == url and '"' not in url and "<" not in url)
