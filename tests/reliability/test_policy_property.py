"""Property: whatever the order of check outcomes, duplicates, redeliveries, claims (by a
worker that records, or by one that dies holding the job and whose message comes back) and
relay runs, a comment ends public exactly when the policy (service/domain/policy.py
decide()) says so, decided once, from the first result recorded for each check.

Driven through the real use cases (start_checks, claim_checks, record_check, relay_outbox)
on the run's database engine: a private SQLite file on the embedded backend, a private
schema of the run's PostgreSQL database otherwise (the relay scans every due job, so it
must not see other tests' comments).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from service.db.migrate import upgrade
from service.db.models import AuditEvent, CheckJob
from service.domain.checks import CheckResult, unavailable
from service.domain.policy import DecisionContext, Policy, decide
from service.domain.submission import parse_submission
from service.usecases.checks import claim_checks, is_over_attempt_limit, relay_outbox, start_checks
from service.usecases.reads import list_thread
from service.usecases.results import record_check
from service.usecases.services import Services, build_services, utcnow
from service.usecases.sites import create_site
from service.usecases.submission import submit_comment
from tests.support.backends import Backend

CHECKS = ("spam", "toxicity")
VERDICTS = ("clean", "suspect", "blatant", "unavailable")


@pytest.fixture(scope="module")
def prop_services(
    backend: Backend, services: Services, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    tmp = tmp_path_factory.mktemp("property")
    url = make_url(backend.database_url)
    schema = f"prop_{uuid.uuid4().hex[:8]}"
    if url.drivername.startswith("postgresql"):
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        db_url = url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    else:
        db_url = f"sqlite:///{tmp / 'property.db'}"
    upgrade(db_url)
    svc = build_services(
        services.settings.model_copy(
            update={
                "database_url": db_url,
                "broker_url": f"sqla+sqlite:///{tmp / 'captive.db'}",
                "flood_interval_seconds": 0.0,
                "relay_max_sends": 2,
                "check_max_retries": 1,
            }
        )
    )
    yield svc
    svc.close()
    if url.drivername.startswith("postgresql"):
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


outcome = st.tuples(st.sampled_from(VERDICTS), st.integers(0, 3))
event = st.one_of(
    st.tuples(st.just("deliver"), st.sampled_from(CHECKS), outcome),
    st.tuples(st.just("record"), st.sampled_from(CHECKS), outcome),
    st.tuples(st.just("relay"), st.just(""), st.just(("", 0))),
    # A worker claims the job from the backlog and records it, or dies holding it; a
    # redelivery of the dead claimer's message takes its claim back.
    st.tuples(st.just("claim"), st.sampled_from(CHECKS), outcome),
    st.tuples(st.just("claim_and_die"), st.sampled_from(CHECKS), st.just(("", 0))),
    st.tuples(st.just("claimer_back"), st.sampled_from(CHECKS), outcome),
)


def _record(check: str, verdict: str, links: int) -> CheckResult:
    if verdict == "unavailable":
        return unavailable(check)
    return CheckResult(check, verdict, score=0.5, signals={"links": float(links)})


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(events=st.lists(event, max_size=14), is_honeypot=st.booleans())
def test_public_exactly_when_the_policy_says_so(
    prop_services: Services, events: list[tuple[str, str, Any]], is_honeypot: bool
) -> None:
    svc = prop_services
    site, _ = create_site(svc, f"prop-{uuid.uuid4().hex[:10]}")
    payload = {
        "thread_id": "prop",
        "author_name": "P",
        "author_email": f"p.{uuid.uuid4().hex[:10]}@example.com",
        "text": f"Property {uuid.uuid4().hex}",
    }
    if is_honeypot:
        payload["honeypot"] = "bot"
    accepted = submit_comment(svc, site, parse_submission(payload, max_text_chars=10_000))
    cid = accepted.id
    first: dict[str, CheckResult] = {}  # the model: the first result per check wins
    sends = dict.fromkeys(CHECKS, 0)
    for kind, check, (verdict, links) in events:
        if kind == "relay":
            with svc.storage.sessions.begin() as s:  # time passes: every unfinished job is due
                s.execute(
                    update(CheckJob)
                    .where(CheckJob.comment_id == cid)
                    .values(next_send_at=utcnow() - timedelta(seconds=1))
                )
            relay_outbox(svc)
            for c in CHECKS:
                if c not in first:
                    if sends[c] >= svc.settings.relay_max_sends:
                        first[c] = unavailable(c)
                    else:
                        sends[c] += 1
        elif kind in ("deliver", "claim", "claim_and_die", "claimer_back"):
            if kind == "deliver":  # what a worker does with one delivery of its own message
                works = start_checks(svc, [cid], check)
            elif kind == "claimer_back":  # the dead claimer's message, redelivered
                works = start_checks(svc, [f"other-{cid}"], check, task_id=f"dead-{cid}")
            else:  # the schema holds earlier examples' jobs too: take them all, keep ours
                claimer = f"dead-{cid}" if kind == "claim_and_die" else f"live-{cid}"
                works = claim_checks(svc, check, 1000, task_id=claimer)
            work = next((w for w in works if w.comment_id == cid), None)
            if work is None or kind == "claim_and_die":
                continue
            over = is_over_attempt_limit(svc, work)
            record = unavailable(check) if over else _record(check, verdict, links)
            record_check(svc, cid, record)
            first.setdefault(check, record)
        else:  # a late or duplicated result
            record_check(svc, cid, _record(check, verdict, links))
            first.setdefault(check, _record(check, verdict, links))
    if set(first) == set(CHECKS):
        expected = decide(
            DecisionContext(
                outcomes={
                    c: CheckResult(check=c, verdict=r.verdict, reasons=r.reasons, signals=r.signals)
                    for c, r in first.items()
                },
                is_honeypot_filled=is_honeypot,
            ),
            Policy(max_links=svc.settings.policy_max_links),
            CHECKS,
        ).status.value
    else:
        expected = "pending"
    page = list_thread(svc, site.slug, "prop", 10, None)
    with svc.storage.sessions() as s:
        decisions = s.scalar(
            select(func.count()).where(
                AuditEvent.comment_id == cid, AuditEvent.from_status == "pending"
            )
        )
    from service.usecases.reads import get_comment

    status = get_comment(svc, site, cid).status
    assert status == expected, (events, first)
    assert (cid in {v.id for v in page.items}) == (expected == "published")
    assert decisions == (0 if expected == "pending" else 1)
