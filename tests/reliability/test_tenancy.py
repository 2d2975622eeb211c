"""Tenancy, route by route, straight from /openapi.json: a new route is covered the day it
is documented (and this test fails until it knows how to fill the route's parameters).

Site A owns a held comment. For every operation and every credential (none, site A's key,
site B's key, a moderator of A, a moderator of B) the answer must be the expected class and
a stranger's request must neither reveal anything of A's comment nor change it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service.api import create_app
from service.api.openapi import build_openapi
from service.db.models import Comment
from service.domain.checks import CheckResult
from service.usecases.results import record_check
from service.usecases.services import Services, build_services
from service.usecases.sites import create_moderator, create_site
from tests.conftest import auth

OPERATIONS = [
    (method.upper(), path, op)
    for path, ops in build_openapi("test")["paths"].items()
    for method, op in ops.items()
]

# Every path/query parameter a documented route may name, filled with site A's values.
PARAMS = {"comment_id": "comment_id", "site": "slug", "thread_id": "thread_id"}


def _body(operation_id: str, a: dict[str, Any]) -> Any:
    bodies: dict[str, Any] = {
        "submitComment": {
            "thread_id": a["thread_id"],
            "author_name": "Stranger",
            "author_email": f"s.{uuid.uuid4().hex[:10]}@example.com",
            "text": f"Another view {uuid.uuid4().hex}",
        },
        "eraseAuthor": {"author_email": a["email"]},
        "decideComment": {"action": "approve"},
        "decideComments": {"ids": [a["comment_id"]], "action": "approve"},
        "putSitePolicy": {"max_links": 9},
    }
    if operation_id not in bodies:
        pytest.fail(f"add a tenancy body for {operation_id} in tests/reliability/test_tenancy.py")
    return bodies[operation_id]


@pytest.fixture(scope="module")
def world(services: Services) -> Any:
    svc = build_services(services.settings.model_copy(update={"flood_interval_seconds": 0.0}))
    site_a, key_a = create_site(svc, f"ten-a-{uuid.uuid4().hex[:8]}")
    site_b, key_b = create_site(svc, f"ten-b-{uuid.uuid4().hex[:8]}")
    _, mod_a = create_moderator(svc, "mod-a", [site_a.slug])
    _, mod_b = create_moderator(svc, "mod-b", [site_b.slug])
    client = create_app(services=svc).test_client()
    marker = f"tenancy{uuid.uuid4().hex}"
    email = f"{marker}@example.com"
    r = client.post(
        "/v1/comments",
        json={
            "thread_id": "t-a",
            "author_name": f"Owner {marker}",
            "author_email": email,
            "text": f"Site A text {marker}",
        },
        headers=auth(key_a),
    )
    assert r.status_code == 202
    comment_id = r.get_json()["id"]
    for check in svc.settings.checks:
        record_check(svc, comment_id, CheckResult(check, "suspect", score=0.6))
    a = {
        "slug": site_a.slug,
        "thread_id": "t-a",
        "comment_id": comment_id,
        "email": email,
        "marker": marker,
    }
    creds = {
        "none": {},
        "site_a": auth(key_a),
        "site_b": auth(key_b),
        "moderator_a": auth(mod_a),
        "moderator_b": auth(mod_b),
    }
    yield svc, client, a, creds
    svc.close()


def _snapshot(svc: Services, comment_id: str) -> tuple[Any, ...]:
    with svc.storage.sessions() as s:
        c = s.scalar(select(Comment).where(Comment.id == comment_id))
        assert c is not None
        return (c.status, c.author_name, c.author_email_encrypted, c.author_hash, c.text)


def _request(
    client: FlaskClient,
    method: str,
    path: str,
    op: dict[str, Any],
    a: dict[str, Any],
    headers: dict[str, str],
) -> Any:
    query: dict[str, str] = {}
    for param in op.get("parameters", []):
        name = param["name"]
        if param["in"] == "path":
            if name not in PARAMS:
                pytest.fail(f"add path parameter {name!r} to PARAMS in test_tenancy.py")
            path = path.replace("{" + name + "}", a[PARAMS[name]])
        elif param["in"] == "query" and name in PARAMS:
            query[name] = a[PARAMS[name]]
    kwargs: dict[str, Any] = {"headers": dict(headers), "query_string": query}
    if "requestBody" in op:
        kwargs["data"] = json.dumps(_body(op["operationId"], a))
        kwargs["headers"]["Content-Type"] = "application/json"
    return client.open(path, method=method, **kwargs)


# credential -> allowed statuses, per security scheme of the operation
EXPECTED = {
    "siteKey": {
        "none": {401},
        "site_a": {200, 202},
        "site_b": {200, 202, 404},  # own-site actions succeed; A's resources are not found
        "moderator_a": {401},
        "moderator_b": {401},
    },
    "moderatorToken": {
        "none": {401},
        "site_a": {401, 403},
        "site_b": {401, 403},
        "moderator_a": {200, 409},  # 409: a decision that lost a race / stale version
        "moderator_b": {403, 404, 200},  # 200 only for bulk with per-id refusals
    },
    "public": {c: {200} for c in ("none", "site_a", "site_b", "moderator_a", "moderator_b")},
}
STRANGERS = ("none", "site_b", "moderator_b")


@pytest.mark.parametrize(
    ("method", "path", "op"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_every_documented_route_keeps_sites_apart(
    world: Any, method: str, path: str, op: dict[str, Any]
) -> None:
    svc, client, a, creds = world
    schemes = [name for requirement in op.get("security", []) for name in requirement]
    scheme = schemes[0] if schemes else "public"
    # A's own credential last: it may change the comment (a moderator's approval).
    order = [c for c in EXPECTED[scheme] if c not in ("site_a", "moderator_a")]
    order += ["site_a", "moderator_a"]
    for credential in order:
        before = _snapshot(svc, a["comment_id"])
        r = _request(client, method, path, op, a, creds[credential])
        text = r.get_data(as_text=True)
        assert r.status_code in EXPECTED[scheme][credential], (credential, r.status_code, text)
        assert a["email"] not in text and a["email"] not in str(dict(r.headers))
        if credential in STRANGERS or (scheme == "public" and "/sites/" in path):
            is_own_public_read = scheme == "public" and before[0] == "published"
            if not is_own_public_read:
                assert a["marker"] not in text, (credential, text[:300])
            assert _snapshot(svc, a["comment_id"]) == before, credential
        if scheme == "siteKey" and credential == "site_b" and r.status_code == 200:
            assert r.get_json() == {"erased": 0}  # B cannot erase A's author
