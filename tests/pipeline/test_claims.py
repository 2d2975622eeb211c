"""claim_checks against the run's real database: what a worker may take from the backlog.

The jobs here carry a check name of their own, so a worker running elsewhere in the session
(it only claims spam and toxicity jobs) never takes them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from service.domain.submission import parse_submission
from service.usecases.checks import claim_checks, relay_outbox, start_checks
from service.usecases.services import Services, utcnow
from service.usecases.submission import submit_comment
from tests.conftest import comment_body, new_site


@pytest.fixture(autouse=True)
def _forget_test_comments(services: Services) -> Iterator[None]:
    """Delete this module's comments afterwards: the suite shares one database."""
    yield
    with services.storage.engine.begin() as c:
        c.execute(
            text(
                "DELETE FROM comments WHERE id IN"
                " (SELECT comment_id FROM check_jobs WHERE \"check\" LIKE 'claimtest-%')"
            )
        )


def _backlog(services: Services, check: str, ages: list[float]) -> list[str]:
    """Comments whose only job is ``check``, created ``ages`` seconds ago."""
    site, _ = new_site(services)
    ids = []
    for age in ages:
        submission = parse_submission(comment_body(), max_text_chars=10_000)
        comment_id = submit_comment(services, site, submission).id
        created = utcnow() - timedelta(seconds=age)
        with services.storage.engine.begin() as c:
            if c.dialect.name == "postgresql":
                # The session's worker may be running this comment's real checks: take the
                # comment's lock before its jobs', in the worker's order (comment, then jobs),
                # so the two transactions queue instead of deadlocking.
                c.execute(
                    text("SELECT 1 FROM comments WHERE id = :id FOR UPDATE"), {"id": comment_id}
                )
            c.execute(text("DELETE FROM check_jobs WHERE comment_id = :id"), {"id": comment_id})
            c.execute(
                text(
                    'INSERT INTO check_jobs (comment_id, "check", created_at, next_send_at,'
                    " send_count, attempt_count) VALUES (:id, :check, :at, :at, 0, 0)"
                ),
                {"id": comment_id, "check": check, "at": created},
            )
        ids.append(comment_id)
    return ids


def _by_comment(services: Services, check: str, column: str) -> dict[str, Any]:
    """``column`` of each ``check`` job, by comment id."""
    with services.storage.engine.connect() as c:
        rows = c.execute(
            text(f'SELECT comment_id, {column} FROM check_jobs WHERE "check" = :check'),
            {"check": check},
        ).all()
    return {row[0]: row[1] for row in rows}


def _attempts(services: Services, check: str) -> dict[str, int]:
    return _by_comment(services, check, "attempt_count")


def _claimers(services: Services, check: str) -> dict[str, str | None]:
    return _by_comment(services, check, "claimed_by")


def test_claims_take_waiting_jobs_oldest_first_once(services: Services) -> None:
    check = f"claimtest-{uuid.uuid4().hex[:8]}"
    # Five jobs waiting (oldest first), one stored "later" than now: not in the backlog yet.
    old = _backlog(services, check, [50, 40, 30, 20, 10])
    fresh = _backlog(services, check, [-60])[0]

    first = claim_checks(services, check, 2, task_id="task-1")
    assert [w.comment_id for w in first] == sorted(old[:2])  # the two oldest, sorted by id
    assert {w.attempt for w in first} == {1}
    again = claim_checks(services, check, 10, exclude=[old[2]], task_id="task-2")
    assert {w.comment_id for w in again} == set(old[3:])  # never twice, exclusion respected
    assert claim_checks(services, check, 10, exclude=[old[2]], task_id="task-3") == []

    attempts = _attempts(services, check)
    assert attempts[fresh] == 0 and attempts[old[2]] == 0
    assert all(attempts[i] == 1 for i in old[:2] + old[3:])
    assert _claimers(services, check) == {
        old[0]: "task-1",
        old[1]: "task-1",
        old[2]: None,
        old[3]: "task-2",
        old[4]: "task-2",
        fresh: None,
    }


def test_a_claimed_job_is_left_to_its_claimer(services: Services) -> None:
    """The claimed job's own message skips it; a redelivery of the claimer's message takes
    it back as a counted delivery; the relay's re-send releases it."""
    check = f"claimtest-{uuid.uuid4().hex[:8]}"
    carrier, claimed = _backlog(services, check, [20, 10])
    works = start_checks(services, [carrier], check, task_id="carrier-task")
    assert [w.comment_id for w in works] == [carrier]
    assert [w.comment_id for w in claim_checks(services, check, 10, task_id="carrier-task")] == [
        claimed
    ]

    # Its own message, from another task: nothing to do.
    assert start_checks(services, [claimed], check, task_id="own-message") == []
    assert _attempts(services, check)[claimed] == 1
    # The claimer's worker died: its message comes back with the same task id and takes both
    # its own job and its claim, each counted again.
    again = start_checks(services, [carrier], check, task_id="carrier-task")
    assert {(w.comment_id, w.attempt) for w in again} == {(carrier, 2), (claimed, 2)}


def test_the_relay_releases_the_claim_of_a_job_it_re_sends(services: Services) -> None:
    """On a broker that forgets delivered messages, nothing redelivers a dead claimer's
    message: the relay's re-send must be able to run the job."""
    site, _ = new_site(services)
    submission = parse_submission(comment_body(), max_text_chars=10_000)
    comment_id = submit_comment(services, site, submission).id
    with services.storage.engine.begin() as c:  # claimed by a task whose worker died; now due
        c.execute(
            text(
                "UPDATE check_jobs SET attempt_count = 1, claimed_by = 'dead-task',"
                " next_send_at = :past WHERE comment_id = :id AND completed_at IS NULL"
            ),
            {"past": utcnow() - timedelta(seconds=5), "id": comment_id},
        )
    assert relay_outbox(services).sent >= 1
    with services.storage.engine.connect() as c:
        claimers = c.execute(
            text("SELECT claimed_by FROM check_jobs WHERE comment_id = :id"), {"id": comment_id}
        ).scalars()
        assert set(claimers) == {None}


def test_claims_leave_fresh_and_finished_jobs(services: Services) -> None:
    check = f"claimtest-{uuid.uuid4().hex[:8]}"
    ids = _backlog(services, check, [-60, 30, 30])
    with services.storage.engine.begin() as c:
        c.execute(
            text("UPDATE check_jobs SET completed_at = :now WHERE comment_id = :id"),
            {"now": utcnow(), "id": ids[1]},
        )
    assert [w.comment_id for w in claim_checks(services, check, 10)] == [ids[2]]


def test_a_claimed_job_of_a_decided_comment_is_counted_not_run(services: Services) -> None:
    check = f"claimtest-{uuid.uuid4().hex[:8]}"
    decided, pending = _backlog(services, check, [30, 20])
    with services.storage.engine.begin() as c:
        c.execute(text("UPDATE comments SET status = 'rejected' WHERE id = :id"), {"id": decided})
    assert [w.comment_id for w in claim_checks(services, check, 10)] == [pending]
    # Counted, so no later claim takes it again.
    assert _attempts(services, check)[decided] == 1
    assert claim_checks(services, check, 10) == []


def test_relay_gives_up_a_job_no_task_can_run_and_goes_on(services: Services) -> None:
    """A job whose check has no task (removed from the configuration while jobs were out) is
    given up, so the comment is held, never published unchecked, and the relay keeps
    working for everything else (it used to fail on such a row on every run)."""
    check = f"claimtest-{uuid.uuid4().hex[:8]}"
    (stuck,) = _backlog(services, check, [600])
    report = relay_outbox(services)
    assert report.given_up >= 1
    with services.storage.engine.connect() as c:
        status, reasons = c.execute(
            text("SELECT status, reasons FROM comments WHERE id = :id"), {"id": stuck}
        ).one()
        completed = c.execute(
            text("SELECT completed_at FROM check_jobs WHERE comment_id = :id"), {"id": stuck}
        ).scalar()
    assert completed is not None
    assert status == "held"
    assert "check_unavailable" in (json.loads(reasons) if isinstance(reasons, str) else reasons)
