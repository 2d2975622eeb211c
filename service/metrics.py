"""Prometheus metrics.

Counters live in the process that counts (the web: submissions by outcome). Pipeline
figures that several processes contribute to (queue lag, decision and check latency) are
read from the database at scrape time, so they are right whatever the deployment.
With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn with several workers), counters are
aggregated across processes by prometheus_client's multiprocess mode.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from service.domain.policy import implied_status
from service.domain.statuses import Status
from service.usecases.services import Services

WINDOW = timedelta(minutes=5)
QUANTILES = (0.5, 0.95, 0.99)
SAMPLE_LIMIT = 10_000


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class PipelineCollector(Collector):
    """Queue depth and lag, decision and check latency over the last five minutes."""

    def __init__(self, svc: Services) -> None:
        self._svc = svc

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        since = now - WINDOW
        with self._svc.uow() as uow:
            pending, oldest = uow.metrics.unfinished_checks()
            decided = uow.metrics.decided_since(since, SAMPLE_LIMIT)
            checks = uow.metrics.check_durations_since(since, SAMPLE_LIMIT)
        yield GaugeMetricFamily(
            "commentmod_checks_pending", "Checks queued and not finished", value=pending
        )
        lag = (now - _aware(oldest)).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "commentmod_queue_lag_seconds", "Age of the oldest unfinished check", value=lag
        )
        latency = GaugeMetricFamily(
            "commentmod_decision_latency_seconds",
            "Submission to automatic decision, last 5 minutes",
            labels=["quantile"],
        )
        samples = [(_aware(d) - _aware(c)).total_seconds() for c, d in decided if d is not None]
        if samples:
            for q in QUANTILES:
                latency.add_metric([str(q)], _quantile(samples, q))
        yield latency
        check_latency = GaugeMetricFamily(
            "commentmod_check_latency_seconds",
            "Detector run time per check, last 5 minutes",
            labels=["check", "quantile"],
        )
        by_check: dict[str, list[float]] = {}
        for check, ms in checks:
            by_check.setdefault(check, []).append(ms / 1000.0)
        for check, values in sorted(by_check.items()):
            for q in QUANTILES:
                check_latency.add_metric([check, str(q)], _quantile(values, q))
        yield check_latency


HUMAN_WINDOW = timedelta(hours=24)


def _automatic(status: str, reasons: list[str]) -> Status | None:
    """What the system decided; in shadow mode, what it would have decided."""
    first = reasons[0] if reasons else ""
    if first.startswith("shadow_"):
        return implied_status(Status(first.removeprefix("shadow_")), reasons[1:])
    return implied_status(Status(status), reasons)


class ModerationCollector(Collector):
    """Held queue depth per site, time to a human decision and how often moderators agree
    with the automatic decision (last 24 hours), undelivered webhook events."""

    def __init__(self, svc: Services) -> None:
        self._svc = svc

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        since = now - HUMAN_WINDOW
        with self._svc.uow() as uow:
            depth = uow.metrics.held_by_site()
            human = uow.metrics.human_decisions_since(since, SAMPLE_LIMIT)
            undelivered, oldest = uow.metrics.undelivered_webhooks()
        queue = GaugeMetricFamily(
            "commentmod_moderation_queue_depth",
            "Held comments awaiting a moderator",
            labels=["site"],
        )
        for slug, count in depth:
            queue.add_metric([slug], count)
        yield queue
        waits = [
            (_aware(decided) - _aware(created)).total_seconds()
            for _, decided, created, _, _ in human
        ]
        wait = GaugeMetricFamily(
            "commentmod_time_to_human_decision_seconds",
            "Submission to a moderator's decision, last 24 hours",
            labels=["quantile"],
        )
        if waits:
            for q in QUANTILES:
                wait.add_metric([str(q)], _quantile(waits, q))
        yield wait
        pairs = GaugeMetricFamily(
            "commentmod_moderation_decisions",
            "Moderator decisions in the last 24 hours by automatic and human outcome",
            labels=["automatic", "human"],
        )
        agreeing = compared = 0
        by_pair: dict[tuple[str, str], int] = {}
        for human_status, _, _, auto_status, auto_reasons in human:
            automatic = _automatic(auto_status, list(auto_reasons or ()))
            key = (automatic.value if automatic else "undecided", human_status)
            by_pair[key] = by_pair.get(key, 0) + 1
            if automatic is not None:
                compared += 1
                agreeing += automatic.value == human_status
        for (automatic_label, human_label), count in sorted(by_pair.items()):
            pairs.add_metric([automatic_label, human_label], count)
        yield pairs
        yield GaugeMetricFamily(
            "commentmod_moderation_agreement_ratio",
            "Share of moderator decisions matching what the automatic decision implied "
            "(last 24 hours; holds without a lean are left out)",
            value=agreeing / compared if compared else float("nan"),
        )
        yield from _webhook_backlog(undelivered, oldest, now)


def _webhook_backlog(undelivered: int, oldest: datetime | None, now: datetime) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "commentmod_webhook_deliveries_pending",
        "Webhook events not delivered yet",
        value=undelivered,
    )
    age = (now - _aware(oldest)).total_seconds() if oldest is not None else 0.0
    yield GaugeMetricFamily(
        "commentmod_webhook_oldest_pending_seconds",
        "Age of the oldest undelivered webhook event",
        value=age,
    )


class Metrics:
    def __init__(self, svc: Services) -> None:
        self._svc = svc
        self._multiproc = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=False)
        self.submissions = Counter(
            "commentmod_submissions",
            "Comment submissions by outcome",
            ["outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        if self._multiproc:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = CollectorRegistry()
            registry.register(_Wrap(self.registry))
        registry.register(PipelineCollector(self._svc))
        registry.register(ModerationCollector(self._svc))
        return generate_latest(registry)


class _Wrap(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()
