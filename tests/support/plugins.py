"""Detector plugins for tests, loaded by workers through ``detector_plugins``."""

from __future__ import annotations

from workers.checks.base import CheckInput, CheckResult


class AlwaysFails:
    """A detector whose backend is down: every run raises."""

    check = "toxicity"
    model = "always-fails@1"

    def run(self, item: CheckInput) -> CheckResult:
        raise ConnectionError("detector backend unavailable")


def failing() -> AlwaysFails:
    return AlwaysFails()
