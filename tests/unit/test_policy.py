"""The policy table and the status transition table."""

from __future__ import annotations

import pytest

from service.domain.checks import CheckResult
from service.domain.policy import DecisionContext, Policy, decide
from service.domain.statuses import TRANSITIONS, InvalidTransition, Status, ensure_transition

CHECKS = ("spam", "toxicity")


def outcomes(
    spam: str = "clean", toxicity: str = "clean", **signals: float
) -> dict[str, CheckResult]:
    return {
        "spam": CheckResult("spam", spam, signals=signals),
        "toxicity": CheckResult("toxicity", toxicity),
    }


def run(
    ctx_outcomes: dict[str, CheckResult], policy: Policy | None = None, **ctx: bool
) -> tuple[Status, tuple[str, ...]]:
    d = decide(DecisionContext(outcomes=ctx_outcomes, **ctx), policy or Policy(), CHECKS)
    return d.status, d.reasons


def test_clean_is_published() -> None:
    assert run(outcomes()) == (Status.PUBLISHED, ())


def test_links_at_the_limit_are_held() -> None:
    assert run(outcomes(links=1))[0] is Status.PUBLISHED
    assert run(outcomes(links=2)) == (Status.HELD, ("too_many_links",))
    assert run(outcomes(links=2), Policy(max_links=3))[0] is Status.PUBLISHED


def test_most_severe_outcome_wins_and_every_hit_is_recorded() -> None:
    status, reasons = run(outcomes(spam="blatant", toxicity="suspect", links=5))
    assert status is Status.SPAM
    assert reasons == ("spam_blatant", "too_many_links", "toxicity_suspected")


def test_honeypot_is_spam_even_when_detectors_say_clean() -> None:
    assert run(outcomes(), is_honeypot_filled=True) == (Status.SPAM, ("honeypot",))


@pytest.mark.parametrize(
    ("spam", "toxicity", "expected"),
    [
        ("suspect", "clean", (Status.HELD, ("spam_suspected",))),
        ("clean", "suspect", (Status.HELD, ("toxicity_suspected",))),
        ("clean", "blatant", (Status.REJECTED, ("toxicity_severe",))),
        ("blatant", "blatant", (Status.SPAM, ("spam_blatant", "toxicity_severe"))),
    ],
)
def test_verdicts(spam: str, toxicity: str, expected: tuple[Status, tuple[str, ...]]) -> None:
    assert run(outcomes(spam, toxicity)) == expected


def test_unavailable_or_missing_check_is_never_published() -> None:
    assert run(outcomes(toxicity="unavailable")) == (Status.HELD, ("check_unavailable",))
    only_spam = {"spam": CheckResult("spam", "clean")}
    assert run(only_spam) == (Status.HELD, ("check_unavailable",))


def test_premoderation() -> None:
    assert run(outcomes(), Policy(premoderation="all")) == (Status.HELD, ("held_by_policy",))
    first = Policy(premoderation="first_time")
    assert run(outcomes(), first, is_first_time_author=True)[0] is Status.HELD
    assert run(outcomes(), first, is_first_time_author=False)[0] is Status.PUBLISHED


def test_site_overrides_ignore_unknown_keys() -> None:
    policy = Policy().with_overrides({"max_links": 5, "bogus": 1})
    assert policy == Policy(max_links=5)


def test_transition_table() -> None:
    ensure_transition(Status.PENDING, Status.PUBLISHED)
    ensure_transition(Status.HELD, Status.SPAM)
    ensure_transition(Status.PUBLISHED, Status.REJECTED)  # a moderator takes it down
    with pytest.raises(InvalidTransition):
        ensure_transition(Status.PUBLISHED, Status.PENDING)
    assert all(Status.PENDING not in targets for targets in TRANSITIONS.values())
