"""The extended policy table: words, thresholds, trust, spam memory, shadow mode (pure)."""

from __future__ import annotations

import pytest

from service.domain.checks import CheckResult
from service.domain.policy import (
    DecisionContext,
    Policy,
    PolicyInvalid,
    decide,
    implied_status,
    validate_overrides,
)
from service.domain.statuses import Status

CHECKS = ("spam", "toxicity")


def ctx(text: str = "", spam: str = "clean", score: float = 0.1, links: float = 0, **kw: object):
    return DecisionContext(
        outcomes={
            "spam": CheckResult("spam", spam, signals={"links": links}, score=score),
            "toxicity": CheckResult("toxicity", "clean", score=0.0),
        },
        text=text,
        **kw,  # type: ignore[arg-type]
    )


def test_blocked_word_rejects_and_watched_word_holds() -> None:
    policy = Policy(blocked_words=("कमल",), watched_words=("pyaaz",))
    assert decide(ctx("कमल का फूल"), policy, CHECKS).reasons == ("blocked_word",)
    assert decide(ctx("कमल का फूल"), policy, CHECKS).status is Status.REJECTED
    assert decide(ctx("Pyaaz mehenga"), policy, CHECKS).status is Status.HELD
    assert decide(ctx("क्या कमाल है"), policy, CHECKS).status is Status.PUBLISHED


def test_thresholds_per_check_and_language() -> None:
    policy = Policy(thresholds={"spam": {"default": {"suspect": 0.5}, "hi": {"suspect": 0.8}}})
    assert decide(ctx(score=0.6), policy, CHECKS).status is Status.HELD
    assert decide(ctx(score=0.6, lang="hi"), policy, CHECKS).status is Status.PUBLISHED
    # a detector's "suspect" below the site's line is clean; "blatant" stays unless a
    # blatant threshold is set
    assert decide(ctx(spam="suspect", score=0.3), policy, CHECKS).status is Status.PUBLISHED
    assert decide(ctx(spam="blatant", score=0.3), policy, CHECKS).status is Status.SPAM
    strict = Policy(thresholds={"spam": {"default": {"suspect": 0.5, "blatant": 0.9}}})
    assert decide(ctx(spam="blatant", score=0.7), strict, CHECKS).status is Status.HELD
    assert decide(ctx(score=0.95), strict, CHECKS).status is Status.SPAM


def test_trusted_authors_skip_premoderation_and_spam_heuristics() -> None:
    policy = Policy(premoderation="all", trust_after=3)
    assert decide(ctx(links=3), policy, CHECKS).status is Status.HELD
    assert decide(ctx(links=3, is_trusted_author=True), policy, CHECKS).status is Status.PUBLISHED


def test_known_spammer() -> None:
    assert decide(ctx(is_known_spammer=True), Policy(), CHECKS).reasons == ("known_spammer",)
    assert decide(ctx(is_known_spammer=True), Policy(), CHECKS).status is Status.HELD
    spam = Policy(known_spammer="spam")
    assert decide(ctx(is_known_spammer=True), spam, CHECKS).status is Status.SPAM


def test_shadow_mode_publishes_and_says_what_it_would_have_done() -> None:
    policy = Policy(shadow_mode=True, blocked_words=("tamatar",))
    decision = decide(ctx("tamatar", links=2), policy, CHECKS)
    assert decision.status is Status.PUBLISHED
    assert decision.shadowed is Status.REJECTED
    assert decision.reasons == ("shadow_rejected", "blocked_word", "too_many_links")
    # never published unchecked, even in shadow mode
    missing = DecisionContext(outcomes={"spam": CheckResult("spam", "clean")})
    assert decide(missing, policy, CHECKS).status is Status.HELD


def test_implied_status() -> None:
    assert implied_status(Status.HELD, ("spam_suspected",)) is Status.SPAM
    assert implied_status(Status.HELD, ("toxicity_suspected",)) is Status.REJECTED
    assert implied_status(Status.HELD, ("too_many_links",)) is None
    assert implied_status(Status.PUBLISHED, ()) is Status.PUBLISHED


def test_validate_overrides() -> None:
    good = {
        "max_links": 3,
        "premoderation": "first_time",
        "thresholds": {"toxicity": {"hi-Latn": {"suspect": 0.4, "blatant": 0.9}}},
        "blocked_words": ["कमल", "कमल", "casino*"],
        "watched_words": [],
        "trust_after": 5,
        "known_spammer": "spam",
        "shadow_mode": True,
    }
    clean = validate_overrides(good)
    assert clean["blocked_words"] == ["कमल", "casino*"]
    assert Policy().with_overrides(clean).blocked_words == ("कमल", "casino*")
    with pytest.raises(PolicyInvalid) as bad:
        validate_overrides(
            {
                "max_links": True,
                "premoderation": "sometimes",
                "thresholds": {"spam": {"default": {"suspect": 0.9, "blatant": 0.5}}},
                "blocked_words": ["  "],
                "shadow_mode": "yes",
                "colour": "blue",
            }
        )
    assert bad.value.fields == {
        "max_links": "must_be_integer",
        "premoderation": "invalid_choice",
        "thresholds": "suspect_above_blatant",
        "blocked_words": "invalid_word",
        "shadow_mode": "must_be_boolean",
        "colour": "unknown_field",
    }
