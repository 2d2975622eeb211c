"""The moderator's workflow on real parts (database, broker, a real worker): queue, detail,
decisions (single, bulk, stale), audit, tenancy, site policy, words, shadow mode, spam
memory, metrics."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.usecases.services import Services
from service.usecases.sites import create_moderator, revoke_moderator
from tests.conftest import auth, unique_email
from tests.moderation.conftest import Desk, held_comment, new_desk, submit, wait_decided
from tests.support.metrics import metric_value
from tests.support.processes import WorkerProcess


@pytest.fixture(autouse=True)
def _running_worker(mod_worker: WorkerProcess) -> WorkerProcess:
    return mod_worker


def decide(api: FlaskClient, token: str, comment_id: str, **body: Any) -> Any:
    return api.post(
        f"/v1/moderation/comments/{comment_id}/decision", json=body, headers=auth(token)
    )


def test_queue_detail_decision_and_audit(api: FlaskClient, desk: Desk) -> None:
    email = unique_email()
    first = held_comment(api, desk, author_email=email)
    published = submit(api, desk, text="A calm, ordinary remark about the budget.")
    assert wait_decided(api, desk, published)["status"] == "published"
    second = held_comment(api, desk)

    queue = api.get(f"/v1/moderation/queue?site={desk.slug}", headers=auth(desk.token))
    assert queue.status_code == 200
    items = queue.get_json()["items"]
    assert [i["id"] for i in items] == [first, second]  # oldest first, held only
    item = items[0]
    assert item["site"] == desk.slug and item["status"] == "held"
    assert item["author_email_masked"] == "r***@example.com"
    assert len(item["author_key"]) == 64
    assert "too_many_links" in item["reasons"]
    assert {c["check"] for c in item["checks"]} == {"spam", "toxicity"}
    spam = next(c for c in item["checks"] if c["check"] == "spam")
    assert set(spam) == {"check", "score", "verdict", "reasons", "evidence", "model"}
    assert "@" in spam["model"] and 0 <= spam["score"] <= 1
    assert email not in queue.get_data(as_text=True)

    # pagination: stable, by cursor
    page1 = api.get(
        f"/v1/moderation/queue?site={desk.slug}&limit=1", headers=auth(desk.token)
    ).get_json()
    page2 = api.get(
        f"/v1/moderation/queue?site={desk.slug}&limit=1&cursor={page1['next_cursor']}",
        headers=auth(desk.token),
    ).get_json()
    assert [i["id"] for i in page1["items"] + page2["items"]] == [first, second]
    assert page2["next_cursor"] is None
    # filters
    by_author = api.get(
        f"/v1/moderation/queue?author_key={item['author_key']}", headers=auth(desk.token)
    ).get_json()
    assert [i["id"] for i in by_author["items"]] == [first]
    by_reason = api.get(
        "/v1/moderation/queue?reason=too_many_links&status=held", headers=auth(desk.token)
    ).get_json()
    assert {i["id"] for i in by_reason["items"]} == {first, second}
    assert (
        api.get("/v1/moderation/queue?reason=honeypot", headers=auth(desk.token)).get_json()[
            "items"
        ]
        == []
    )
    assert [
        i["id"]
        for i in api.get(
            "/v1/moderation/queue?status=published", headers=auth(desk.token)
        ).get_json()["items"]
    ] == [published]
    future = api.get(
        "/v1/moderation/queue?since=2999-01-01T00:00:00Z", headers=auth(desk.token)
    ).get_json()
    assert future["items"] == []
    for bad in ("status=maybe", "limit=0", "cursor=zzz", "since=yesterday", "check=tone"):
        r = api.get(f"/v1/moderation/queue?{bad}", headers=auth(desk.token))
        assert r.status_code == 400, bad

    # detail: checks + audit history + the author's history on the site
    detail = api.get(f"/v1/moderation/comments/{first}", headers=auth(desk.token)).get_json()
    assert [(h["actor"], h["from_status"], h["to_status"]) for h in detail["history"]] == [
        ("system", "pending", "held")
    ]
    assert detail["author_history"]["counts"]["held"] == 1
    assert detail["author_history"]["is_known_spammer"] is False

    # decide: held -> published, with the status we saw
    r = decide(
        api,
        desk.token,
        first,
        action="approve",
        reason="on_topic",
        note="fine",
        expected_status="held",
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"id": first, "status": "published", "previous_status": "held"}
    site_view = api.get(f"/v1/comments/{first}", headers=auth(desk.api_key)).get_json()
    assert site_view["status"] == "published"
    assert site_view["reasons"] == ["approved_by_moderator", "on_topic"]

    audit = api.get(f"/v1/moderation/audit?comment_id={first}", headers=auth(desk.token))
    events = audit.get_json()["items"]
    assert [(e["actor"], e["from_status"], e["to_status"]) for e in events] == [
        (f"moderator:{desk.moderator_id}", "held", "published"),  # newest first
        ("system", "pending", "held"),
    ]
    assert events[0]["note"] == "fine" and events[0]["reasons"] == [
        "approved_by_moderator",
        "on_topic",
    ]
    site_audit = api.get(
        f"/v1/moderation/audit?site={desk.slug}&limit=2", headers=auth(desk.token)
    ).get_json()
    assert len(site_audit["items"]) == 2 and site_audit["next_cursor"]
    rest = api.get(
        f"/v1/moderation/audit?site={desk.slug}&limit=50&cursor={site_audit['next_cursor']}",
        headers=auth(desk.token),
    ).get_json()
    assert len(site_audit["items"]) + len(rest["items"]) == 4  # 3 automatic + 1 human


def test_stale_and_invalid_decisions(api: FlaskClient, desk: Desk) -> None:
    comment_id = held_comment(api, desk)
    assert decide(api, desk.token, comment_id, action="approve").status_code == 200
    # a second moderator who still sees it held loses the race
    stale = decide(api, desk.token, comment_id, action="reject", expected_status="held")
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "stale_decision"
    same = decide(api, desk.token, comment_id, action="approve")
    assert same.status_code == 409
    assert same.get_json()["error"]["code"] == "already_in_status"
    # a published comment may be taken down
    down = decide(api, desk.token, comment_id, action="reject", expected_status="published")
    assert down.status_code == 200 and down.get_json()["status"] == "rejected"
    for body, field in (
        ({"action": "delete"}, "action"),
        ({"action": "approve", "reason": "Not A Code"}, "reason"),
        ({"action": "approve", "extra": 1}, "extra"),
        ({}, "action"),
    ):
        r = decide(api, desk.token, comment_id, **body)
        assert r.status_code == 422, body
        assert field in r.get_json()["error"]["fields"]
        assert "Not A Code" not in r.get_data(as_text=True)


def test_bulk_decisions_report_per_id(api: FlaskClient, desk: Desk, mod_services: Services) -> None:
    held = [held_comment(api, desk) for _ in range(3)]
    other = new_desk(mod_services)
    foreign = held_comment(api, other)
    assert decide(api, desk.token, held[0], action="spam").status_code == 200
    r = api.post(
        "/v1/moderation/decisions",
        json={"ids": [*held, foreign, "no-such-id"], "action": "reject", "reason": "off_topic"},
        headers=auth(desk.token),
    )
    assert r.status_code == 200
    results = {x["id"]: x for x in r.get_json()["results"]}
    assert results[held[0]]["ok"] is True and results[held[0]]["previous_status"] == "spam"
    assert [results[i]["status"] for i in held[1:]] == ["rejected", "rejected"]
    assert results[foreign] == {
        "id": foreign,
        "ok": False,
        "status": None,
        "previous_status": None,
        "error": "not_found",
    }
    assert results["no-such-id"]["error"] == "not_found"
    # the other site's comment is untouched
    assert wait_decided(api, other, foreign)["status"] == "held"
    too_many = api.post(
        "/v1/moderation/decisions",
        json={"ids": [str(i) for i in range(101)], "action": "approve"},
        headers=auth(desk.token),
    )
    assert too_many.status_code == 422


ROUTES = [
    ("GET", "/v1/moderation/queue?site={slug}", None),
    ("GET", "/v1/moderation/comments/{comment}", None),
    ("POST", "/v1/moderation/comments/{comment}/decision", {"action": "approve"}),
    ("POST", "/v1/moderation/decisions", {"ids": ["{comment}"], "action": "approve"}),
    ("GET", "/v1/moderation/audit?comment_id={comment}", None),
    ("GET", "/v1/moderation/audit?site={slug}", None),
    ("GET", "/v1/moderation/sites/{slug}/policy", None),
    ("PUT", "/v1/moderation/sites/{slug}/policy", {"max_links": 3}),
]


def test_tenancy_on_every_route(api: FlaskClient, mod_services: Services) -> None:
    a = new_desk(mod_services)
    b = new_desk(mod_services)
    comment = held_comment(api, a)
    revoked_id, revoked = create_moderator(mod_services, "Former", [a.slug])
    assert revoke_moderator(mod_services, revoked_id) is True

    def call(method: str, path: str, body: Any, token: str | None) -> Any:
        path = path.format(slug=a.slug, comment=comment)
        if isinstance(body, dict) and "ids" in body:
            body = dict(body, ids=[comment])
        headers = auth(token) if token else {}
        return api.open(path, method=method, json=body, headers=headers)

    for method, path, body in ROUTES:
        assert call(method, path, body, None).status_code == 401, path
        assert call(method, path, body, "cmm_not-a-real-token").status_code == 401, path
        assert call(method, path, body, revoked).status_code == 401, path
        site_key = call(method, path, body, a.api_key)
        assert site_key.status_code == 403, path
        assert site_key.get_json()["error"]["code"] == "moderator_token_required"
        foreign = call(method, path, body, b.token)
        if "decisions" in path:  # bulk: 200 with a per-id not_found
            assert foreign.get_json()["results"][0]["error"] == "not_found"
        else:
            assert foreign.status_code in (403, 404), path
    # nothing changed on site A
    assert wait_decided(api, a, comment)["status"] == "held"
    assert api.get("/v1/moderation/queue", headers=auth(b.token)).get_json()["items"] == []


def test_site_policy_api_is_versioned(api: FlaskClient, desk: Desk) -> None:
    url = f"/v1/moderation/sites/{desk.slug}/policy"
    initial = api.get(url, headers=auth(desk.token))
    assert initial.status_code == 200
    assert initial.get_json()["version"] == 0
    assert initial.get_json()["effective"]["max_links"] == 2
    saved = api.put(
        url, json={"max_links": 4, "watched_words": ["pyaaz"]}, headers=auth(desk.token)
    )
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["version"] == 1 and body["updated_by"] == f"moderator:{desk.moderator_id}"
    assert body["effective"]["max_links"] == 4 and body["effective"]["watched_words"] == ["pyaaz"]
    conflict = api.put(url, json={"max_links": 5}, headers={**auth(desk.token), "If-Match": '"0"'})
    assert conflict.status_code == 412
    ok = api.put(url, json={"max_links": 5}, headers={**auth(desk.token), "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.get_json()["version"] == 2
    assert [v["version"] for v in ok.get_json()["history"]] == [2, 1]
    bad = api.put(url, json={"max_links": "many", "secret": "x"}, headers=auth(desk.token))
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {
        "max_links": "must_be_integer",
        "secret": "unknown_field",
    }


def set_policy(api: FlaskClient, desk: Desk, **policy: Any) -> None:
    r = api.put(f"/v1/moderation/sites/{desk.slug}/policy", json=policy, headers=auth(desk.token))
    assert r.status_code == 200, r.get_json()


WORD_CASES = [
    # (text, expected status, expected reason)
    ("आज बाज़ार में टमाटर बहुत महंगा है, सब्ज़ी खरीदना मुश्किल।", "rejected", "blocked_word"),
    ("Aaj bazaar mein tamatar bahut mehenga hai, sabzi lena mushkil.", "rejected", "blocked_word"),
    ("The tomato harvest was poor this year, prices went up.", "rejected", "blocked_word"),
    ("आज बाज़ार में प्याज़ बहुत महंगा है, सब्ज़ी खरीदना मुश्किल।", "held", "watched_word"),
    ("Aaj bazaar mein pyaaz bahut mehenga hai, sabzi lena mushkil.", "held", "watched_word"),
    ("The onion harvest was poor this year, prices went up.", "held", "watched_word"),
    # कमाल (amazing) has another vowel sign than the blocked कमल (lotus): not a match
    ("यह लेख सच में कमाल का है, धन्यवाद।", "published", None),
    ("झील में कमल के फूल खिले हैं, बहुत सुंदर दृश्य।", "rejected", "blocked_word"),
]


def test_blocked_and_watched_words_in_three_scripts(api: FlaskClient, desk: Desk) -> None:
    set_policy(
        api,
        desk,
        blocked_words=["टमाटर", "tamatar", "tomato", "कमल"],
        watched_words=["प्याज़", "pyaaz", "onion"],
    )
    ids = [submit(api, desk, text=text) for text, _, _ in WORD_CASES]
    for comment_id, (text, status, reason) in zip(ids, WORD_CASES, strict=True):
        final = wait_decided(api, desk, comment_id)
        assert final["status"] == status, (text, final)
        if reason:
            assert reason in final["reasons"], (text, final)


def test_shadow_mode_publishes_and_records_the_would_be_decision(
    api: FlaskClient, desk: Desk
) -> None:
    set_policy(api, desk, shadow_mode=True, blocked_words=["tamatar"])
    linked = submit(api, desk, text="See https://example.org/x and https://example.net/y please")
    blocked = submit(api, desk, text="Tamatar ke daam phir badh gaye is hafte.")
    for comment_id, would_be, reason in (
        (linked, "held", "too_many_links"),
        (blocked, "rejected", "blocked_word"),
    ):
        final = wait_decided(api, desk, comment_id)
        assert final["status"] == "published"
        assert final["reasons"][:2] == [f"shadow_{would_be}", reason]
        history = api.get(
            f"/v1/moderation/comments/{comment_id}", headers=auth(desk.token)
        ).get_json()["history"]
        assert history[0]["to_status"] == "published"
        assert history[0]["note"] == f"shadow mode: would be {would_be}"


def test_spam_memory_holds_a_known_spammer(api: FlaskClient, desk: Desk) -> None:
    email = unique_email()
    first = held_comment(api, desk, author_email=email)
    assert decide(api, desk.token, first, action="spam").status_code == 200
    time.sleep(desk_flood_gap(api))
    again = submit(api, desk, author_email=email, text="Perfectly polite words this time.")
    final = wait_decided(api, desk, again)
    assert final["status"] == "held" and final["reasons"] == ["known_spammer"]
    detail = api.get(f"/v1/moderation/comments/{again}", headers=auth(desk.token)).get_json()
    assert detail["author_history"]["is_known_spammer"] is True
    assert detail["author_history"]["counts"]["spam"] == 1
    # approving clears the memory for this author
    assert decide(api, desk.token, again, action="approve").status_code == 200
    time.sleep(desk_flood_gap(api))
    third = submit(api, desk, author_email=email, text="And one more polite remark.")
    assert wait_decided(api, desk, third)["status"] == "published"


def desk_flood_gap(api: FlaskClient) -> float:
    svc: Services = api.application.extensions["commentmod"]
    return svc.settings.flood_interval_seconds + 0.1


def test_metrics_show_queue_depth_and_agreement(api: FlaskClient, desk: Desk) -> None:
    comment_id = held_comment(api, desk)
    before = api.get("/metrics").get_data(as_text=True)
    depth = "commentmod_moderation_queue_depth"
    assert metric_value(before, depth, site=desk.slug) == 1.0
    assert decide(api, desk.token, comment_id, action="approve").status_code == 200
    after = api.get("/metrics").get_data(as_text=True)
    assert metric_value(after, depth, site=desk.slug) == 0.0
    decisions = "commentmod_moderation_decisions"
    assert metric_value(after, decisions, human="published") == (
        metric_value(before, decisions, human="published") + 1
    )
    # With at least one human decision in the window both are numbers, never absent or NaN.
    wait = metric_value(after, "commentmod_time_to_human_decision_seconds", quantile="0.5")
    assert wait > 0
    ratio = metric_value(after, "commentmod_moderation_agreement_ratio")
    assert 0.0 <= ratio <= 1.0 or metric_value(after, decisions, automatic="undecided") > 0


def test_openapi_lists_the_moderation_routes(api: FlaskClient) -> None:
    paths = api.get("/openapi.json").get_json()["paths"]
    for path in (
        "/v1/moderation/queue",
        "/v1/moderation/comments/{comment_id}",
        "/v1/moderation/comments/{comment_id}/decision",
        "/v1/moderation/decisions",
        "/v1/moderation/audit",
        "/v1/moderation/sites/{site}/policy",
    ):
        assert path in paths, path
