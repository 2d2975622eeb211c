"""The checks' delivery side (called by workers and the scheduler): count a delivery and hand
out the work, claim backlog, release claims, and the outbox relay.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from service.db.jobs import Attempts
from service.db.storage import UnitOfWork
from service.domain.checks import unavailable
from service.queue import CHECK_TASKS
from service.usecases.results import record_checks
from service.usecases.services import (
    Services,
    utcnow,
)

log = logging.getLogger(__name__)


# See claim_checks: a worker takes up to this many never-delivered jobs of each check.
CLAIM_BATCH = 50


@dataclass(frozen=True)
class CheckWork:
    """What a worker needs to run one check: no email, no IP."""

    comment_id: str
    check: str
    text: str
    author_name: str
    author_url: str | None
    lang_hint: str | None
    is_honeypot_filled: bool
    seconds_to_submit: float | None
    user_agent: str | None
    referrer: str | None
    attempt: int
    # The site and its active model version for this check (None: the default model), read
    # in the same transaction, so a worker knows which site model to use (issue 17).
    site_id: int | None = None
    model_version: int | None = None


def start_checks(
    svc: Services,
    comment_ids: Sequence[str],
    checks: str | Sequence[str],
    task_id: str | None = None,
    claim: int = 0,
) -> list[CheckWork]:
    """Count a delivery of each (comment, check) and return the work still to do: one
    transaction, two statements whatever the batch's size (three with ``claim``).

    Idempotent: a missing comment, an already recorded result or an already decided comment
    is simply absent. The delivery is counted *before* the detector runs, so a check that
    kills its worker is bounded (see :func:`is_over_attempt_limit`).

    Returns the work of the (id, check) pairs that still need running, sorted by id then
    check; the others (missing, already recorded, already decided, or claimed by another
    task: see :func:`claim_checks`) are simply absent. ``task_id`` is the running task's:
    the jobs it claimed in an earlier life (a redelivery after its worker died, a retry) are
    taken back with its own, each a counted delivery. With ``claim``, a delivery whose jobs
    are all at their first attempt also claims up to that many jobs of each check from the
    backlog, in the same transaction.
    """
    ids = sorted(set(comment_ids))
    if not ids:
        return []
    names = _check_list(checks)
    attempts: Attempts = {}
    with svc.uow(relaxed_durability=True) as uow:
        uow.jobs.count_deliveries(names, ids, task_id, attempts)
        # A disturbed delivery (a job seen before) runs what it has, alone.
        if claim > 0 and all(a == 1 for by in attempts.values() for a in by.values()):
            uow.jobs.claim(names, claim, utcnow(), ids, task_id, attempts)
        return _works(uow, attempts)


def _check_list(checks: str | Sequence[str]) -> list[str]:
    return [checks] if isinstance(checks, str) else sorted(set(checks))


def _works(uow: UnitOfWork, attempts: Attempts) -> list[CheckWork]:
    """The work of the jobs just counted, for their comments that are still pending."""
    if not attempts:
        return []
    rows = uow.jobs.work_rows(list(attempts))
    versions = uow.site_models.active_versions([row.site_id for row in rows])
    return [
        CheckWork(
            comment_id=row.id,
            check=check,
            text=row.text,
            author_name=row.author_name,
            author_url=row.author_url,
            lang_hint=row.lang_hint,
            is_honeypot_filled=bool(row.is_honeypot_filled),
            seconds_to_submit=row.seconds_to_submit,
            user_agent=row.user_agent,
            referrer=row.referrer,
            attempt=attempt,
            site_id=row.site_id,
            model_version=versions.get((row.site_id, check)),
        )
        for row in rows
        for check, attempt in sorted(attempts[row.id].items())
    ]


def claim_checks(
    svc: Services,
    checks: str | Sequence[str],
    limit: int,
    exclude: Sequence[str] = (),
    task_id: str | None = None,
) -> list[CheckWork]:
    """Take up to ``limit`` jobs of each of ``checks`` from the backlog for task ``task_id``,
    so that the checks of many comments run, record and decide as one batch, whatever
    messages they came with.

    Only never-delivered, unfinished jobs (``attempt_count = 0``) are taken, oldest first,
    skipping rows another worker holds; each is stamped with ``task_id``. A claim is a
    counted delivery like any other, so the crash bound holds, and a job is claimed at most
    once. The job's own message, when it arrives, leaves a claimed job alone (it is a cheap
    "skipped"); if the claiming worker dies, the redelivery of its message takes its claims
    back (:func:`start_checks`), and on a broker that does not redeliver the relay releases
    the claim when it re-sends the job (:func:`relay_outbox`).
    """
    if limit <= 0:
        return []
    attempts: Attempts = {}
    with svc.uow(relaxed_durability=True) as uow:
        uow.jobs.claim(_check_list(checks), limit, utcnow(), exclude, task_id, attempts)
        return _works(uow, attempts)


def release_claims(svc: Services, works: Sequence[CheckWork]) -> None:
    """Let the jobs of ``works`` be run by their own messages again (a worker isolating the
    jobs of a batch whose earlier delivery died sends each in a message of its own)."""
    if works:
        with svc.uow() as uow:
            uow.jobs.release(sorted({(w.comment_id, w.check) for w in works}))


def is_over_attempt_limit(svc: Services, work: CheckWork) -> bool:
    """A delivery past retries + re-sends is given up (the comment is then held)."""
    return work.attempt >= svc.settings.check_max_retries + svc.settings.relay_max_sends + 2


@dataclass(frozen=True)
class RelayReport:
    sent: int
    given_up: int
    failed: int


def relay_outbox(svc: Services) -> RelayReport:
    """Re-send every unfinished check that is due; give up after ``relay_max_sends``.

    Idempotent and safe to run concurrently (rows are locked with SKIP LOCKED on
    PostgreSQL; SQLite serializes writers). The due jobs are counted as sent and their next
    send scheduled in one short transaction, and the messages go out after it commits: the
    database is never locked while the broker is slow or down (on SQLite the relay's write
    lock would hold every submission). A send that fails is not counted (its job and the
    rest are due again at once), so a long broker outage never turns into
    ``check_unavailable``: the checks go out when it returns.
    """
    settings = svc.settings
    now = utcnow()
    give_up: list[tuple[str, str]] = []
    to_send: list[tuple[str, str]] = []
    with svc.uow() as uow:
        for job in uow.jobs.due(now, settings.relay_batch_size):
            if job.check not in CHECK_TASKS:
                # No task runs this check (removed from the configuration with jobs still
                # out?): it is unavailable. Held, never published unchecked, and the relay
                # goes on with the other rows instead of failing on this one every run.
                log.warning("relay: no task for this check; given up", extra={"check": job.check})
                give_up.append((job.comment_id, job.check))
                continue
            if job.send_count >= settings.relay_max_sends:
                give_up.append((job.comment_id, job.check))
                continue
            job.claimed_by = None  # a claimer that died holds it no more: the message runs it
            job.send_count += 1
            backoff = settings.relay_stale_seconds * (2 ** (job.send_count - 1))
            job.next_send_at = now + timedelta(seconds=backoff)
            to_send.append((job.comment_id, job.check))
    sent = _send_checks(svc, to_send)
    failed = int(sent < len(to_send))
    if give_up:
        record_checks(svc, [(cid, unavailable(check)) for cid, check in give_up])
    if sent or give_up or failed:
        log.info("relay", extra={"sent": sent, "given_up": len(give_up), "failed": failed})
    return RelayReport(sent=sent, given_up=len(give_up), failed=failed)


def _send_checks(svc: Services, jobs: Sequence[tuple[str, str]]) -> int:
    """Send ``jobs`` in order until the broker refuses one; that one and the rest are not
    counted and due again now. Returns how many were sent."""
    for sent, (comment_id, check) in enumerate(jobs):
        if not svc.producer.send_check(comment_id, check):
            with svc.uow() as uow:
                uow.jobs.unsend(jobs[sent:], utcnow())
            return sent
    return len(jobs)
