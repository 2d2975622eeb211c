"""The submission API through the Flask client, on the run's real database."""

from __future__ import annotations

import json
import threading
import time
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from service.usecases.services import Services, SiteRef
from tests.conftest import auth, comment_body, new_site, unique_email, wait_until
from tests.support.metrics import metric_value

Site = tuple[SiteRef, str]


def post(client: FlaskClient, key: str, body: object, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/comments",
        data=json.dumps(body) if not isinstance(body, bytes | str) else body,
        headers={**auth(key), "Content-Type": "application/json", **headers},
    )


def assert_envelope(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    return body["error"]


def test_accepted_shape_and_location(client: FlaskClient, site: Site) -> None:
    r = post(client, site[1], comment_body(thread_id="story-1"))
    assert r.status_code == 202
    body = r.get_json()
    assert set(body) == {"id", "status", "thread_id", "created_at"}
    assert body["status"] == "pending" and body["thread_id"] == "story-1"
    assert body["created_at"].endswith("Z")
    assert r.headers["Location"] == f"/v1/comments/{body['id']}"
    got = client.get(r.headers["Location"], headers=auth(site[1])).get_json()
    assert got["status"] == "pending" and "author_email" not in got


def test_credentials(client: FlaskClient) -> None:
    r = client.post("/v1/comments", json=comment_body())
    assert_envelope(r, 401, "missing_credentials")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert_envelope(post(client, "cmk_wrong", comment_body()), 401, "invalid_credentials")


def test_content_type_size_and_malformed_json(client: FlaskClient, site: Site) -> None:
    key = site[1]
    r = client.post(
        "/v1/comments",
        data="text=hi",
        headers={**auth(key), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_envelope(r, 415, "unsupported_media_type")
    assert_envelope(post(client, key, "{not json"), 400, "malformed_json")
    assert_envelope(post(client, key, b'{"text": "\xff\xfe"}'), 400, "malformed_json")
    assert_envelope(post(client, key, '{"text": NaN}'), 400, "malformed_json")
    assert_envelope(post(client, key, '{"text": "a", "text": "b"}'), 400, "malformed_json")
    assert_envelope(post(client, key, "[" * 20_000 + "]" * 20_000), 400, "malformed_json")
    assert_envelope(post(client, key, "[" * 50_000 + "]" * 50_000), 413, "payload_too_large")
    big = json.dumps(comment_body(text="x" * 70_000))
    assert_envelope(post(client, key, big), 413, "payload_too_large")


def test_invalid_fields_are_named_and_never_echoed(client: FlaskClient, site: Site) -> None:
    marker = f"echo-{uuid.uuid4().hex}"
    r = post(
        client,
        site[1],
        comment_body(
            author_email=f"{marker}@@bad", author_url=f"javascript:{marker}", favourite=marker
        ),
    )
    err = assert_envelope(r, 422, "invalid_fields")
    assert err["fields"] == {
        "author_email": "invalid_email",
        "author_url": "invalid_url",
        "favourite": "unknown_field",
    }
    assert marker not in r.get_data(as_text=True)


def test_duplicate_is_409(client: FlaskClient, site: Site) -> None:
    body = comment_body()
    assert post(client, site[1], body).status_code == 202
    assert_envelope(post(client, site[1], body), 409, "duplicate_comment")
    # Another thread is not a duplicate (flood control is per author, so another author).
    other = dict(body, thread_id="another", author_email=unique_email())
    assert post(client, site[1], other).status_code == 202


def test_flood_by_email_or_ip_is_429_with_retry_after(client: FlaskClient, site: Site) -> None:
    email = unique_email()
    assert post(client, site[1], comment_body(author_email=email, text="first")).status_code == 202
    r = post(client, site[1], comment_body(author_email=email, text="second"))
    assert_envelope(r, 429, "too_many_requests")
    assert 1 <= int(r.headers["Retry-After"]) <= 15
    ip = "198.51.100.23"
    assert post(client, site[1], comment_body(client_ip=ip, text="one")).status_code == 202
    assert post(client, site[1], comment_body(client_ip=ip, text="two")).status_code == 429


def test_flood_is_per_site(client: FlaskClient, site: Site, services: Services) -> None:
    email = unique_email()
    assert post(client, site[1], comment_body(author_email=email)).status_code == 202
    _, other_key = new_site(services)
    assert post(client, other_key, comment_body(author_email=email)).status_code == 202


def test_idempotency_key(client: FlaskClient, site: Site) -> None:
    key = f"idem-{uuid.uuid4().hex}"
    body = comment_body()
    first = post(client, site[1], body, **{"Idempotency-Key": key})
    again = post(client, site[1], body, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = post(client, site[1], comment_body(), **{"Idempotency-Key": key})
    assert_envelope(other, 422, "idempotency_key_reused")


def test_reply_needs_a_published_parent(client: FlaskClient, site: Site) -> None:
    r = post(client, site[1], comment_body(parent_id=str(uuid.uuid4())))
    err = assert_envelope(r, 422, "invalid_fields")
    assert err["fields"] == {"parent_id": "parent_not_found"}


def test_other_sites_comment_is_not_found(
    client: FlaskClient, site: Site, services: Services
) -> None:
    r = post(client, site[1], comment_body())
    _, other_key = new_site(services)
    assert_envelope(client.get(r.headers["Location"], headers=auth(other_key)), 404, "not_found")


def test_unknown_route_and_method_use_the_envelope(client: FlaskClient) -> None:
    assert_envelope(client.get("/v1/nothing"), 404, "not_found")
    r = client.delete("/v1/comments")
    assert_envelope(r, 405, "method_not_allowed")
    assert "POST" in r.headers["Allow"]


def test_public_thread_listing_hides_unpublished_and_has_cors(
    client: FlaskClient, site: Site
) -> None:
    assert post(client, site[1], comment_body(thread_id="cors-thread")).status_code == 202
    r = client.get(f"/v1/sites/{site[0].slug}/threads/cors-thread/comments")
    assert r.status_code == 200
    assert r.get_json() == {"items": [], "next_cursor": None}  # pending is not public
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert (
        client.get(r.request.path, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    )
    assert_envelope(client.get("/v1/sites/no-such-site/threads/x/comments"), 404, "not_found")
    assert_envelope(
        client.get(f"/v1/sites/{site[0].slug}/threads/x/comments?cursor=zz"), 400, "invalid_cursor"
    )
    assert_envelope(
        client.get(f"/v1/sites/{site[0].slug}/threads/x/comments?limit=0"), 400, "invalid_limit"
    )


def test_ops_routes(client: FlaskClient, site: Site) -> None:
    assert client.get("/healthz").get_json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {
        "database": True,
        "broker": True,
    }
    accepted = "commentmod_submissions_total"
    before = metric_value(
        client.get("/metrics").get_data(as_text=True), accepted, outcome="accepted"
    )
    assert post(client, site[1], comment_body()).status_code == 202
    metrics = client.get("/metrics").get_data(as_text=True)
    assert metric_value(metrics, accepted, outcome="accepted") == before + 1
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    schema = doc["components"]["schemas"]["CommentSubmission"]
    assert schema["additionalProperties"] is False
    assert {"thread_id", "author_name", "author_email", "text"} <= set(schema["required"])


def test_storage_down_is_503_with_retry_after(services: Services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from service.api import create_app
    from service.usecases.services import build_services

    dead = (
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
        if services.settings.database_url.startswith("postgresql")
        else f"sqlite:///{tmp_path}/missing-dir/db.sqlite"
    )
    down = build_services(services.settings.model_copy(update={"database_url": dead}))
    try:
        client = create_app(services=down).test_client()
        r = post(client, "cmk_any", comment_body())
        err = assert_envelope(r, 503, "storage_unavailable")
        assert "Retry-After" in r.headers and "nowhere" not in err["message"]
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
    finally:
        down.close()


def test_idempotency_keys_expire(client: FlaskClient, site: Site, services: Services) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from service.db.models import IdempotencyRecord
    from service.usecases.services import utcnow
    from service.usecases.submission import purge_expired_idempotency_keys

    key = f"old-{uuid.uuid4().hex}"
    assert post(client, site[1], comment_body(), **{"Idempotency-Key": key}).status_code == 202
    with services.storage.sessions.begin() as s:
        s.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == key)
            .values(
                created_at=utcnow() - timedelta(hours=services.settings.idempotency_ttl_hours + 1)
            )
        )
    assert purge_expired_idempotency_keys(services) >= 1
    # The key is free again: a new body with it is a new comment, not a reuse error.
    assert post(client, site[1], comment_body(), **{"Idempotency-Key": key}).status_code == 202


def _rows(services: Services, comment_id: str) -> tuple[int, int, int]:
    """(comments, check jobs, idempotency records) stored for one comment id."""
    with services.storage.engine.connect() as c:
        return tuple(  # type: ignore[return-value]
            int(
                c.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {col} = :id"), {"id": comment_id}
                ).scalar()
                or 0
            )
            for table, col in (
                ("comments", "id"),
                ("check_jobs", "comment_id"),
                ("idempotency_keys", "comment_id"),
            )
        )


def test_a_submission_is_stored_whole_with_one_job_per_check(
    client: FlaskClient, site: Site, services: Services
) -> None:
    plain = post(client, site[1], comment_body())
    keyed = post(client, site[1], comment_body(), **{"Idempotency-Key": uuid.uuid4().hex})
    assert plain.status_code == keyed.status_code == 202
    checks = len(services.settings.checks)
    assert _rows(services, plain.get_json()["id"]) == (1, checks, 0)
    assert _rows(services, keyed.get_json()["id"]) == (1, checks, 1)
    with services.storage.engine.connect() as c:
        jobs = c.execute(
            text(
                'SELECT "check", attempt_count, send_count FROM check_jobs WHERE comment_id = :id'
            ),
            {"id": plain.get_json()["id"]},
        ).all()
    assert sorted(j[0] for j in jobs) == sorted(services.settings.checks)
    assert {(j[1], j[2]) for j in jobs} == {(0, 0)}


def test_a_refused_submission_writes_nothing(
    client: FlaskClient, site: Site, services: Services
) -> None:
    def counts() -> tuple[int, int, int]:
        with services.storage.engine.connect() as c:
            return tuple(  # type: ignore[return-value]
                int(c.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0)
                for t in ("comments", "check_jobs", "idempotency_keys")
            )

    body = comment_body()
    assert post(client, site[1], body).status_code == 202
    before = counts()
    # A duplicate, a flood (same author, new text) and an orphan reply, each with a fresh
    # Idempotency-Key: no comment, no job and no idempotency record may be left behind.
    refused = [
        (body, 409),
        (dict(body, text="something else"), 429),
        (comment_body(parent_id=str(uuid.uuid4())), 422),
    ]
    for payload, status in refused:
        r = post(client, site[1], payload, **{"Idempotency-Key": uuid.uuid4().hex})
        assert r.status_code == status, r.get_data(as_text=True)
    assert counts() == before


def test_a_reply_to_a_published_comment_is_accepted(
    client: FlaskClient, site: Site, services: Services
) -> None:
    parent = post(client, site[1], comment_body(thread_id="replies")).get_json()["id"]
    with services.storage.engine.begin() as c:
        c.execute(text("UPDATE comments SET status = 'published' WHERE id = :id"), {"id": parent})
    reply = post(client, site[1], comment_body(thread_id="replies", parent_id=parent))
    assert reply.status_code == 202, reply.get_data(as_text=True)
    # The parent must be in the same thread.
    elsewhere = post(client, site[1], comment_body(thread_id="other", parent_id=parent))
    assert_envelope(elsewhere, 422, "invalid_fields")


def test_concurrent_twins_store_one_comment(app: Flask, site: Site, services: Services) -> None:
    """Eight identical submissions at once (a retrying client): one 202, the rest 409 (or 429:
    same author), and exactly one comment with one job per check."""
    body = comment_body(thread_id=f"twins-{uuid.uuid4().hex}")
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def one() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(post(client, site[1], body).status_code)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(202) == 1, statuses
    assert set(statuses) <= {202, 409, 429}, statuses
    with services.storage.engine.connect() as c:
        ids = (
            c.execute(
                text("SELECT id FROM comments WHERE thread_id = :t"), {"t": body["thread_id"]}
            )
            .scalars()
            .all()
        )
    assert len(ids) == 1
    assert _rows(services, ids[0]) == (1, len(services.settings.checks), 0)


def test_thread_listing_follows_changes_to_cached_comments(
    client: FlaskClient, site: Site, services: Services
) -> None:
    """Pages are rendered once per process and kept for public_page_cache_seconds; comments
    are rendered once per row. An erasure or a takedown shows once that period has passed."""
    ttl = services.settings.public_page_cache_seconds
    thread = f"cached-{uuid.uuid4().hex}"
    email = unique_email()
    ids = [
        post(
            client, site[1], comment_body(thread_id=thread, author_email=e, author_name="Asha")
        ).get_json()["id"]
        for e in (email, unique_email())
    ]
    with services.storage.engine.begin() as c:
        c.execute(
            text(
                "UPDATE comments SET status = 'published', published_at = created_at"
                " WHERE thread_id = :t"
            ),
            {"t": thread},
        )
    url = f"/v1/sites/{site[0].slug}/threads/{thread}/comments"

    def names() -> list[str]:
        return [item["author_name"] for item in client.get(url).get_json()["items"]]

    first = client.get(url)
    assert [i["author_name"] for i in first.get_json()["items"]] == ["Asha", "Asha"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    r = client.post("/v1/privacy/erasure", json={"author_email": email}, headers=auth(site[1]))
    assert r.get_json() == {"erased": 1}
    wait_until(lambda: names() == ["[erased]", "Asha"], timeout=ttl + 5)
    with services.storage.engine.begin() as c:
        c.execute(text("UPDATE comments SET status = 'rejected' WHERE id = :id"), {"id": ids[1]})
    started = time.monotonic()
    wait_until(lambda: names() == ["[erased]"], timeout=ttl + 5, interval=0.05)
    assert time.monotonic() - started <= ttl + 1.0


def test_rendered_page_cache_stays_within_its_byte_bound() -> None:
    from service.api.page_cache import PageCache

    pages = PageCache(max_bytes=100)
    for i in range(10):
        pages.put(("s", f"t{i}", 20, None), (1e12, b"x" * 60, "etag"), 0.0)
        assert pages.size <= 100
    # An expired entry is dropped first when room is needed.
    pages = PageCache(max_bytes=100)
    pages.put(("s", "old", 20, None), (5.0, b"x" * 60, "e"), 0.0)
    pages.put(("s", "live", 20, None), (1e12, b"y" * 30, "e"), 0.0)
    pages.put(("s", "new", 20, None), (1e12, b"z" * 60, "e"), 10.0)
    assert pages.keys() == {("s", "live", 20, None), ("s", "new", 20, None)}
