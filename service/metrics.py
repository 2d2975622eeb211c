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
from sqlalchemy import func, select

from service.db.models import CheckJob, CheckResultRow, Comment
from service.domain.statuses import Status
from service.usecases import Services

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
        with self._svc.sessions() as s:
            pending, oldest = s.execute(
                select(func.count(CheckJob.id), func.min(CheckJob.created_at)).where(
                    CheckJob.completed_at.is_(None)
                )
            ).one()
            decided = s.execute(
                select(Comment.created_at, Comment.decided_at)
                .where(Comment.decided_at > since, Comment.status != Status.PENDING.value)
                .limit(SAMPLE_LIMIT)
            ).all()
            checks = s.execute(
                select(CheckResultRow.check, CheckResultRow.duration_ms)
                .where(CheckResultRow.created_at > since, CheckResultRow.duration_ms.is_not(None))
                .limit(SAMPLE_LIMIT)
            ).all()
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
        return generate_latest(registry)


class _Wrap(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()
