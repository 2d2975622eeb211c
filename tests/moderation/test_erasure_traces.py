"""Erasure leaves no trace of the author: every column of every table (iterated from the
SQLAlchemy metadata) and every rate-limit counter is searched for the author's email, its
keyed hash, the IP, its keyed hash, the name, the URL and the URL's domain hash, after an
erasure through the API and through ``commentmod authors erase``."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service.cli import main
from service.db.models import Base, Comment, IdempotencyRecord
from service.ratelimit import RateLimiter
from service.settings import Settings
from service.usecases.services import Services
from tests.conftest import auth, comment_body
from tests.moderation.conftest import TWO_LINKS, Desk, wait_decided
from tests.support.processes import WorkerProcess, settings_env


@pytest.fixture(autouse=True)
def _running_worker(mod_worker: WorkerProcess) -> WorkerProcess:
    return mod_worker


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def stored_traces(svc: Services, needles: dict[str, str]) -> set[str]:
    """``table.column: needle-name`` for every stored value containing a needle."""
    found: set[str] = set()
    with svc.storage.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).mappings():
                for column, value in row.items():
                    text = _text(value).casefold()
                    found |= {
                        f"{table.name}.{column}: {name}"
                        for name, needle in needles.items()
                        if needle.casefold() in text
                    }
    return found


def counter_traces(limiter: RateLimiter, needles: dict[str, str]) -> set[str]:
    return {
        f"ratelimit {'redis' if limiter.is_shared else 'memory'}: {name}"
        for counter in limiter.counter_names()
        for name, needle in needles.items()
        if needle in counter
    }


def _author(api: FlaskClient, desk: Desk) -> tuple[str, dict[str, str]]:
    """A comment by a fresh author, held, then marked spam by the moderator (so the spam
    memory holds the author, the IP and the URL's domain); returns its id and the needles."""
    svc: Services = api.application.extensions["commentmod"]
    tag = uuid.uuid4().hex[:10]
    email = f"Erin.{tag}@Example.com"
    ip = f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"
    url = f"https://erin-{tag}.example/about"
    body = comment_body(
        author_email=email,
        author_name=f"Erin {tag}",
        author_url=url,
        client_ip=ip,
        text=TWO_LINKS.format(tag),
    )
    headers = dict(auth(desk.api_key), **{"Idempotency-Key": f"erin-{tag}"})
    r = api.post("/v1/comments", json=body, headers=headers)
    assert r.status_code == 202, r.get_json()
    comment_id = str(r.get_json()["id"])
    assert wait_decided(api, desk, comment_id)["status"] == "held"
    decided = api.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={"action": "spam"},
        headers=auth(desk.token),
    )
    assert decided.status_code == 200, decided.get_json()
    needles = {
        "email": email,
        "email hash": svc.vault.author_key(email.lower()),
        "ip": ip,
        "ip hash": svc.vault.ip_hash(ip),
        "name": f"Erin {tag}",
        "url": f"erin-{tag}.example",
        "url domain hash": svc.vault.keyed_hash("domain", f"erin-{tag}.example"),
    }
    return comment_id, needles


def _idempotency_records(svc: Services, comment_id: str) -> int:
    with svc.storage.sessions() as s:
        rows = s.scalars(
            select(IdempotencyRecord).where(IdempotencyRecord.comment_id == comment_id)
        )
        return len(rows.all())


@pytest.mark.parametrize("via", ["api", "cli"])
def test_erasure_leaves_no_trace_in_any_table_or_counter(
    via: str,
    api: FlaskClient,
    desk: Desk,
    mod_settings: Settings,
    mod_services: Services,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    limiter: RateLimiter = api.application.extensions["commentmod.ratelimit"]
    comment_id, needles = _author(api, desk)

    # The search can fail: before the erasure it finds the author where it must.
    before = stored_traces(mod_services, needles) | counter_traces(limiter, needles)
    for expected in (
        "comments.author_hash: email hash",
        "comments.ip_hash: ip hash",
        "comments.author_name: name",
        "comments.author_url: url",
        "spam_memory.key_hash: email hash",
        "spam_memory.key_hash: ip hash",
        "spam_memory.key_hash: url domain hash",
        f"ratelimit {'redis' if limiter.is_shared else 'memory'}: ip hash",
    ):
        assert expected in before, sorted(before)
    assert _idempotency_records(mod_services, comment_id) == 1

    if via == "api":
        r = api.post(
            "/v1/privacy/erasure",
            json={"author_email": needles["email"]},
            headers=auth(desk.api_key),
        )
        assert r.status_code == 200 and r.get_json()["erased"] == 1
    else:
        for name, value in settings_env(mod_settings).items():
            if name.startswith("COMMENTMOD_"):
                monkeypatch.setenv(name, value)
        assert main(["authors", "erase", "--site", desk.slug, needles["email"]]) == 0
        assert json.loads(capsys.readouterr().out)["erased"] == 1

    after = stored_traces(mod_services, needles)
    # The web process's own in-memory counters are out of the CLI's reach (it can only drop
    # the shared Redis ones); they hold a keyed hash for at most two windows, never stored.
    if via == "api" or limiter.is_shared:
        after |= counter_traces(limiter, needles)
    assert after == set()
    assert _idempotency_records(mod_services, comment_id) == 0
    with mod_services.storage.sessions() as s:
        erased = s.get(Comment, comment_id)
        assert erased is not None and erased.ip_truncated is None
        assert erased.author_email_encrypted is None and erased.status == "spam"


def test_a_second_erasure_finds_nothing(api: FlaskClient, desk: Desk) -> None:
    _, needles = _author(api, desk)
    for expected in (1, 0):
        r = api.post(
            "/v1/privacy/erasure",
            json={"author_email": needles["email"]},
            headers=auth(desk.api_key),
        )
        assert r.status_code == 200 and r.get_json()["erased"] == expected
