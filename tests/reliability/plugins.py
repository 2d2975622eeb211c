"""Deterministic detectors for fault tests, loaded by real workers via ``detector_plugins``.

The fault tests are about the pipeline, not the models: these return "clean" (so the
expected decision is ``published``), optionally after a sleep long enough to be killed
mid-check, or after killing their own worker process.
"""

from __future__ import annotations

import os
import signal
import time

from workers.checks.base import CheckInput, CheckName, CheckResult

SLOW_SECONDS_ENV = "RELIABILITY_SLOW_SECONDS"


class Clean:
    model = "reliability-clean@1"

    def __init__(self, check: CheckName, sleep_seconds: float = 0.0, crash: bool = False) -> None:
        self.check = check
        self.sleep_seconds = sleep_seconds
        self.crash = crash

    def run(self, item: CheckInput) -> CheckResult:
        if self.crash:
            # What a segfaulting native library or the OOM killer does to a pool process.
            os.kill(os.getpid(), signal.SIGKILL)
        if self.sleep_seconds:
            time.sleep(self.sleep_seconds)
        return CheckResult(
            check=self.check,
            score=0.01,
            verdict="clean",
            reasons=(),
            evidence=(),
            model=self.model,
            lang="en",
            signals={"links": 0.0},
        )


def clean_spam() -> Clean:
    return Clean("spam")


def clean_toxicity() -> Clean:
    return Clean("toxicity")


def slow_spam() -> Clean:
    return Clean("spam", sleep_seconds=float(os.environ.get(SLOW_SECONDS_ENV, "4")))


def crashing_toxicity() -> Clean:
    return Clean("toxicity", crash=True)


CLEAN = {
    "spam": "tests.reliability.plugins:clean_spam",
    "toxicity": "tests.reliability.plugins:clean_toxicity",
}
SLOW_SPAM = {**CLEAN, "spam": "tests.reliability.plugins:slow_spam"}
CRASHING_TOXICITY = {**CLEAN, "toxicity": "tests.reliability.plugins:crashing_toxicity"}
