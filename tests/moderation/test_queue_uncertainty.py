"""The moderators' queue ordered by the models' uncertainty (issue 17, active learning): the
comments whose score is nearest 0.5 first, ties by (created_at, id), paginated by a cursor
that carries the rank; a bad order or a cursor of another order is a 400."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import auth
from tests.moderation.conftest import Desk, submit, wait_decided
from tests.support.processes import WorkerProcess

TEXTS = (
    "Thanks for the clear explanation of the metro line budget.",
    "You are an idiot and a liar, get lost from this site",
    "Buy cheap watches now!!! visit my shop for a discount",
    "Tum bilkul bewakoof ho, chup raho",
    "I disagree with the author about the election, the numbers look off.",
    "What a stupid article, the writer knows nothing",
    "Call now for free crypto profits guaranteed, limited offer",
    "बहुत अच्छा लेख, धन्यवाद",
)


@pytest.fixture(autouse=True)
def _running_worker(mod_worker: WorkerProcess) -> WorkerProcess:
    return mod_worker


def _held_desk(api: FlaskClient, desk: Desk) -> list[str]:
    r = api.put(
        f"/v1/moderation/sites/{desk.slug}/policy",
        json={"premoderation": "all"},
        headers=auth(desk.token),
    )
    assert r.status_code == 200, r.get_json()
    ids = [submit(api, desk, text=text) for text in TEXTS]
    # Every comment waits for a moderator, but what a check finds blatant is rejected.
    held = [i for i in ids if wait_decided(api, desk, i)["status"] == "held"]
    assert len(held) >= 5
    return held


def _queue(api: FlaskClient, desk: Desk, query: str) -> Any:
    return api.get(f"/v1/moderation/queue?site={desk.slug}&{query}", headers=auth(desk.token))


def _rank(item: dict[str, Any], check: str | None = None) -> tuple[float, datetime, str]:
    margins = [
        abs(c["score"] - 0.5)
        for c in item["checks"]
        if c["score"] is not None and (check is None or c["check"] == check)
    ]
    created = datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))
    return (min(margins) if margins else 1.0, created, item["id"])


def _all_pages(api: FlaskClient, desk: Desk, query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = _queue(api, desk, f"{query}&limit=3{cursor}").get_json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        cursor = f"&cursor={page['next_cursor']}"


def test_queue_by_uncertainty_least_certain_first_and_paginated(
    api: FlaskClient, desk: Desk
) -> None:
    ids = _held_desk(api, desk)
    whole = _queue(api, desk, "order=uncertainty").get_json()
    items = whole["items"]
    assert sorted(i["id"] for i in items) == sorted(ids)
    assert [_rank(i) for i in items] == sorted(_rank(i) for i in items)
    assert [i["id"] for i in items] != [i["id"] for i in sorted(items, key=lambda i: _rank(i)[1:])]
    # Pages of 3 walk the same order, each comment once.
    assert [i["id"] for i in _all_pages(api, desk, "order=uncertainty")] == [i["id"] for i in items]
    # With a check, that check's score alone ranks.
    tox = _all_pages(api, desk, "order=uncertainty&check=toxicity")
    assert [_rank(i, "toxicity") for i in tox] == sorted(_rank(i, "toxicity") for i in tox)
    # The default order is unchanged: oldest first.
    oldest = _queue(api, desk, "").get_json()["items"]
    assert [i["id"] for i in oldest] == ids


def test_queue_order_errors(api: FlaskClient, desk: Desk) -> None:
    _held_desk(api, desk)
    bad = _queue(api, desk, "order=confidence")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_order"
    assert "uncertainty" in bad.get_json()["error"]["message"]
    by_time = _queue(api, desk, "limit=2").get_json()["next_cursor"]
    mixed = _queue(api, desk, f"order=uncertainty&limit=2&cursor={by_time}")
    assert mixed.status_code == 400 and mixed.get_json()["error"]["code"] == "invalid_cursor"
    by_rank = _queue(api, desk, "order=uncertainty&limit=2").get_json()["next_cursor"]
    assert _queue(api, desk, f"limit=2&cursor={by_rank}").status_code == 400


def test_openapi_describes_the_queue_orders(api: FlaskClient) -> None:
    spec = api.get("/openapi.json").get_json()
    params = spec["paths"]["/v1/moderation/queue"]["get"]["parameters"]
    order = next(p for p in params if p["name"] == "order")
    assert order["schema"]["enum"] == ["oldest", "newest", "uncertainty"]
    assert "least certain" in order["description"]
