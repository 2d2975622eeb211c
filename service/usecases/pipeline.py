"""The check pipeline's policy for one worker message: which jobs run, which are isolated or
given up, how results are recorded and what is retried. Detectors are passed in (the use
cases never import the workers), so this is the whole pipeline minus Celery.

A message carries one id (old messages, the relay) or a batch (the producer), for one check
(the relay, re-sends) or every check (the producer: one message runs, records and decides
both checks of its comments). Each (id, check) job keeps its own crash bound and retries: in
a batch that was delivered before without finishing (its worker died), the jobs are re-sent
one per message, so a comment that kills its worker only holds itself; a detector error
retries (then gives up on) the failing ids alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from service.domain.checks import CheckResult, unavailable
from service.usecases.checks import (
    CLAIM_BATCH,
    CheckWork,
    is_over_attempt_limit,
    release_claims,
    start_checks,
)
from service.usecases.results import Recorded, record_checks
from service.usecases.services import Services

log = logging.getLogger(__name__)

# Runs one check's detector on one comment's work (the worker provides it).
RunCheck = Callable[[CheckWork], CheckResult]


@dataclass(frozen=True)
class Delivery:
    """One message as the worker received it."""

    comment_ids: Sequence[str]
    checks: Sequence[str]
    task_id: str | None
    retries: int  # how many times this message was retried already


@dataclass(frozen=True)
class MessageOutcome:
    """What became of a message: ``summary`` is the task's return value; ``retry_ids`` (with
    ``error``) are the comments whose checks failed and must be retried."""

    summary: str
    retry_ids: tuple[str, ...] = ()
    error: Exception | None = None


def timed(run: RunCheck, work: CheckWork) -> CheckResult:
    """Run a detector and stamp its duration on the result."""
    started = time.perf_counter()
    result = run(work)
    return replace(result, duration_ms=(time.perf_counter() - started) * 1000.0)


def run_message(svc: Services, delivery: Delivery, run: RunCheck) -> MessageOutcome:
    """Idempotent: does only the missing work; "skipped" is a normal outcome.

    An undisturbed first delivery also takes every never-delivered job of the backlog (see
    :func:`~service.usecases.checks.claim_checks`): the checks of many comments then run,
    record and decide as one batch, and their own messages find them claimed or done.
    Raises the storage's outage errors (the caller retries the message later).
    """
    ids = list(delivery.comment_ids)
    claim = CLAIM_BATCH - len(ids) if not delivery.retries else 0
    works = start_checks(svc, ids, delivery.checks, task_id=delivery.task_id, claim=claim)
    if not works:
        return MessageOutcome("skipped")
    results, runnable, isolated = _triage(svc, works, delivery.retries)
    release_claims(svc, isolated)
    for work in isolated:
        # If the send fails the job is still unfinished: the relay re-sends it.
        svc.producer.send_check(work.comment_id, work.check)
    failed: list[tuple[CheckWork, Exception]] = []
    for work in runnable:
        try:
            results.append((work.comment_id, timed(run, work)))
        except Exception as exc:  # noqa: BLE001 - retried, then recorded as unavailable
            failed.append((work, exc))
    if failed and delivery.retries >= svc.settings.check_max_retries:
        log.error(
            "check failed after retries",
            extra={"check": failed[0][0].check, "error": type(failed[0][1]).__name__},
        )
        results += [(work.comment_id, unavailable(work.check)) for work, _ in failed]
        failed = []
    recorded = record_checks(svc, results)
    if failed:
        log.warning(
            "check failed; retrying",
            extra={"check": failed[0][0].check, "error": type(failed[0][1]).__name__},
        )
        # Only the failing ids again; their recorded checks are done and will be skipped.
        retry_ids = tuple(dict.fromkeys(work.comment_id for work, _ in failed))
        return MessageOutcome("retry", retry_ids, failed[0][1])
    return MessageOutcome(_summary(ids, results, runnable, isolated, recorded))


def _triage(
    svc: Services, works: Sequence[CheckWork], retries: int
) -> tuple[list[tuple[str, CheckResult]], list[CheckWork], list[CheckWork]]:
    """Split the work: given up (recorded unavailable), runnable now, and isolated (a job of
    a batch delivered before without finishing, sent again in a message of its own)."""
    given_up: list[tuple[str, CheckResult]] = []
    runnable: list[CheckWork] = []
    isolated: list[CheckWork] = []
    batch_of_many = len({work.comment_id for work in works}) > 1
    for work in works:
        if is_over_attempt_limit(svc, work):
            log.warning("check given up after repeated deliveries", extra={"check": work.check})
            given_up.append((work.comment_id, unavailable(work.check)))
        elif batch_of_many and work.attempt > retries + 1:
            isolated.append(work)
        else:
            runnable.append(work)
    return given_up, runnable, isolated


def _summary(
    ids: list[str],
    results: list[tuple[str, CheckResult]],
    runnable: list[CheckWork],
    isolated: list[CheckWork],
    recorded: dict[str, Recorded],
) -> str:
    if len(ids) == 1 and set(recorded) <= set(ids):  # its own comment only, nothing claimed
        if results and all(result.is_unavailable for _, result in results):
            return "given_up" if not runnable else "unavailable"
        only = recorded.get(ids[0])
        if only is not None and only.decided:
            return f"decided:{only.decided}"
        return "recorded" if results else "skipped"
    decided = sum(1 for r in recorded.values() if r.decided)
    return f"recorded={len(recorded)} decided={decided} isolated={len(isolated)}"
