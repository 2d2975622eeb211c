"""A new check is one detector module plus one registry entry (plus its policy rule).

This module is the toy check's whole implementation: :func:`toy_detector` is its detector
factory, the ``CHECKS`` entry registers it, and one rule in the policy table acts on it.
It then runs through the real pipeline code against the run's database: the submission
writes its job, the worker's use case counts it, runs the detector, records the result and
decides. docs/architecture.md ("Adding a check") walks through the same steps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from service.domain import policy
from service.domain.checks import CHECKS, CheckResult, CheckSpec, Evidence, UnknownCheck
from service.domain.policy import RULES, Rule, verdict_is
from service.domain.statuses import Status
from service.domain.submission import parse_submission
from service.usecases.pipeline import Delivery, run_message
from service.usecases.services import Services
from service.usecases.submission import submit_comment
from tests.conftest import comment_body, new_site
from workers.checks.base import CheckInput, Detector
from workers.checks.registry import get_detector
from workers.tasks import Detectors, load_detector

PHRASE = "buy now"


class ToyDetector:
    """Flags comments that say "buy now": a suspect verdict with the phrase as evidence."""

    check = "toy"
    model = "toy@1"

    def run(self, item: CheckInput) -> CheckResult:
        start = item.text.lower().find(PHRASE)
        if start < 0:
            return CheckResult(self.check, "clean", score=0.0, model=self.model, lang="und")
        return CheckResult(
            self.check,
            "suspect",
            reasons=("toy_phrase",),
            score=0.9,
            evidence=(Evidence(start, start + len(PHRASE), "toy_phrase"),),
            model=self.model,
            lang="und",
        )


def toy_detector(variant: str = "default") -> Detector:
    """The toy check's detector factory (what ``CheckSpec.detector`` names)."""
    return ToyDetector()


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The registry entry and the policy rule, for this test only."""
    monkeypatch.setitem(
        CHECKS, "toy", CheckSpec(detector=f"{__name__}:toy_detector", labels={"reject": "toy"})
    )
    monkeypatch.setattr(
        policy, "RULES", (*RULES, Rule("toy_suspected", Status.HELD, verdict_is("toy", "suspect")))
    )
    get_detector.cache_clear()
    yield
    get_detector.cache_clear()


@pytest.fixture
def toy_services(services: Services) -> Iterator[Services]:
    """The run's services with the toy check as the only configured check."""
    yield replace(services, settings=services.settings.model_copy(update={"checks": ("toy",)}))
    with services.storage.engine.begin() as c:
        c.execute(
            text(
                "DELETE FROM comments WHERE id IN"
                " (SELECT comment_id FROM check_jobs WHERE \"check\" = 'toy')"
            )
        )


def test_unknown_check_names_fail_loudly() -> None:
    with pytest.raises(UnknownCheck):
        get_detector("no-such-check")


@pytest.mark.usefixtures("toy_registered")
def test_the_registered_detector_is_what_the_worker_loads() -> None:
    detector = load_detector("toy", plugins={})
    assert isinstance(detector, ToyDetector)
    assert get_detector("toy") is detector


@pytest.mark.usefixtures("toy_registered")
def test_toy_check_runs_through_the_pipeline(toy_services: Services) -> None:
    svc = toy_services
    site, _ = new_site(svc)
    detectors = Detectors(svc.settings)

    def decide_on(text_: str) -> tuple[str, tuple[str, ...], str]:
        submission = parse_submission(comment_body(text=text_), max_text_chars=10_000)
        comment_id = submit_comment(svc, site, submission).id
        outcome = run_message(svc, Delivery([comment_id], ("toy",), None, 0), detectors.run)
        with svc.storage.engine.connect() as c:
            status, reasons = c.execute(
                text("SELECT status, reasons FROM comments WHERE id = :id"), {"id": comment_id}
            ).one()
            model = c.execute(
                text(
                    "SELECT model FROM check_results WHERE comment_id = :id AND \"check\" = 'toy'"
                ),
                {"id": comment_id},
            ).scalar_one()
        assert model == "toy@1"
        return outcome.summary, tuple(_reasons(reasons)), status

    summary, reasons, status = decide_on(f"Great deal, {PHRASE}!")
    assert (summary, status) == ("decided:held", Status.HELD.value)
    assert reasons == ("toy_suspected",)
    summary, reasons, status = decide_on("A thoughtful remark about the article.")
    assert (summary, status) == ("decided:published", Status.PUBLISHED.value)


def _reasons(raw: Any) -> list[str]:
    """A JSON column as the driver returns it (text on SQLite, a list on PostgreSQL)."""
    return list(json.loads(raw) if isinstance(raw, str) else raw)
