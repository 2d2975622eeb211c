"""The moderation policy as a declarative rule table (in the manner of Mailman's chains).

Every rule runs and every hit is recorded with its reason; the most severe outcome wins.
Pure: takes check outcomes and context, returns a :class:`Decision`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from service.domain.statuses import Status

# Most severe first: an outcome earlier in this tuple beats any later one.
SEVERITY: tuple[Status, ...] = (Status.SPAM, Status.REJECTED, Status.HELD, Status.PUBLISHED)

Premoderation = Literal["off", "all", "first_time"]


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """What the pipeline stored for one check. ``is_unavailable`` when it kept failing."""

    check: str
    verdict: str  # clean | suspect | blatant | unavailable
    reasons: tuple[str, ...] = ()
    signals: Mapping[str, float] = field(default_factory=dict)

    @property
    def is_unavailable(self) -> bool:
        return self.verdict == "unavailable"


@dataclass(frozen=True, slots=True)
class Policy:
    max_links: int = 2
    premoderation: Premoderation = "off"

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Policy:
        """A site's stored overrides on top of the defaults; unknown keys are ignored."""
        if not overrides:
            return self
        known = {k: v for k, v in overrides.items() if k in ("max_links", "premoderation")}
        return replace(self, **known)


@dataclass(frozen=True, slots=True)
class DecisionContext:
    outcomes: Mapping[str, CheckOutcome]
    is_honeypot_filled: bool = False
    is_first_time_author: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    reason: str
    outcome: Status
    applies: Callable[[DecisionContext, Policy], bool]


def _verdict(check: str, verdict: str) -> Callable[[DecisionContext, Policy], bool]:
    def applies(ctx: DecisionContext, _: Policy) -> bool:
        outcome = ctx.outcomes.get(check)
        return outcome is not None and outcome.verdict == verdict

    return applies


def _links(ctx: DecisionContext, policy: Policy) -> bool:
    spam = ctx.outcomes.get("spam")
    return spam is not None and spam.signals.get("links", 0) >= policy.max_links


def _honeypot(ctx: DecisionContext, _: Policy) -> bool:
    spam = ctx.outcomes.get("spam")
    return ctx.is_honeypot_filled or (spam is not None and "honeypot" in spam.reasons)


def _unavailable(ctx: DecisionContext, _: Policy) -> bool:
    return any(o.is_unavailable for o in ctx.outcomes.values())


def _premoderated(ctx: DecisionContext, policy: Policy) -> bool:
    return policy.premoderation == "all" or (
        policy.premoderation == "first_time" and ctx.is_first_time_author
    )


RULES: tuple[Rule, ...] = (
    Rule("honeypot", Status.SPAM, _honeypot),
    Rule("spam_blatant", Status.SPAM, _verdict("spam", "blatant")),
    Rule("toxicity_severe", Status.REJECTED, _verdict("toxicity", "blatant")),
    Rule("check_unavailable", Status.HELD, _unavailable),
    Rule("too_many_links", Status.HELD, _links),
    Rule("spam_suspected", Status.HELD, _verdict("spam", "suspect")),
    Rule("toxicity_suspected", Status.HELD, _verdict("toxicity", "suspect")),
    Rule("held_by_policy", Status.HELD, _premoderated),
)


def decide(ctx: DecisionContext, policy: Policy, required_checks: tuple[str, ...]) -> Decision:
    """Run every rule; the most severe outcome wins; its reasons are every rule that fired
    for that outcome (the lesser hits are kept too, after them, so moderators see all).

    A required check with no outcome at all counts as unavailable: nothing is ever
    published unchecked.
    """
    outcomes = dict(ctx.outcomes)
    for check in required_checks:
        outcomes.setdefault(check, CheckOutcome(check=check, verdict="unavailable"))
    ctx = replace(ctx, outcomes=outcomes)
    hits = [rule for rule in RULES if rule.applies(ctx, policy)]
    if not hits:
        return Decision(Status.PUBLISHED, ())
    winner = min((rule.outcome for rule in hits), key=SEVERITY.index)
    ordered = sorted(hits, key=lambda rule: SEVERITY.index(rule.outcome))
    return Decision(winner, tuple(dict.fromkeys(rule.reason for rule in ordered)))
