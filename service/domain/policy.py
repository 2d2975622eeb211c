"""The moderation policy as a declarative rule table (in the manner of Mailman's chains).

Every rule runs and every hit is recorded with its reason; the most severe outcome wins.
Pure: takes check outcomes and context, returns a :class:`Decision`.

A site overrides the defaults with a small JSON document (validated by
:func:`validate_overrides`): link limit, pre-moderation, score thresholds per check and
language, blocked and watched words (Devanagari-safe, see :mod:`service.domain.wordlists`),
trust after N published comments, what a known spammer gets, and shadow mode (every rule
still runs and is recorded, but the comment is published: a policy can be measured before
it is enforced).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import regex

from service.domain.checks import CHECKS, CheckResult, unavailable
from service.domain.statuses import Status
from service.domain.wordlists import MAX_ENTRIES, contains_any, is_valid_entry

# Most severe first: an outcome earlier in this tuple beats any later one.
SEVERITY: tuple[Status, ...] = (Status.SPAM, Status.REJECTED, Status.HELD, Status.PUBLISHED)

Premoderation = Literal["off", "all", "first_time"]
KnownSpammerAction = Literal["held", "spam"]
PREMODERATION_CHOICES = ("off", "all", "first_time")
KNOWN_SPAMMER_CHOICES = ("held", "spam")
THRESHOLD_CHECKS = tuple(CHECKS)
THRESHOLD_LEVELS = ("suspect", "blatant")
# A language tag as the detectors report it ("en", "hi", "hi-Latn"), or "default".
_LANG_KEY = regex.compile(r"^(default|[a-z]{2,3}(-[A-Z][a-z]{3})?)$")


@dataclass(frozen=True, slots=True)
class Policy:
    max_links: int = 2
    premoderation: Premoderation = "off"
    # check -> language ("default" for any) -> {"suspect": score, "blatant": score}: when set,
    # the check's verdict is re-derived from its score (the site's own operating point).
    thresholds: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    blocked_words: tuple[str, ...] = ()  # -> rejected (blocked_word)
    watched_words: tuple[str, ...] = ()  # -> held (watched_word)
    # Authors with at least this many published comments on the site skip pre-moderation
    # and the spam heuristics (links, suspected spam). 0 = nobody is trusted.
    trust_after: int = 0
    known_spammer: KnownSpammerAction = "held"
    shadow_mode: bool = False

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Policy:
        """A site's stored overrides on top of the defaults; unknown keys are ignored."""
        if not overrides:
            return self
        known = {k: v for k, v in overrides.items() if k in POLICY_KEYS}
        for key in ("blocked_words", "watched_words"):
            if key in known:
                known[key] = tuple(known[key] or ())
        return replace(self, **known)

    def threshold(self, check: str, lang: str | None) -> Mapping[str, float]:
        by_lang = self.thresholds.get(check) or {}
        merged = dict(by_lang.get("default") or {})
        if lang:
            merged.update(by_lang.get(lang) or {})
        return merged

    def as_document(self) -> dict[str, Any]:
        """The effective policy as JSON (what the moderation API shows)."""
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        doc["blocked_words"] = list(self.blocked_words)
        doc["watched_words"] = list(self.watched_words)
        doc["thresholds"] = {
            c: {lang: dict(levels) for lang, levels in by_lang.items()}
            for c, by_lang in self.thresholds.items()
        }
        return doc


POLICY_KEYS = frozenset(f.name for f in fields(Policy))


@dataclass(frozen=True, slots=True)
class DecisionContext:
    outcomes: Mapping[str, CheckResult]
    is_honeypot_filled: bool = False
    is_first_time_author: bool = False
    text: str = ""
    lang: str | None = None
    is_trusted_author: bool = False
    is_known_spammer: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    reasons: tuple[str, ...]
    # Shadow mode: what the policy would have decided (the comment is published anyway).
    shadowed: Status | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    reason: str
    outcome: Status
    applies: Callable[[DecisionContext, Policy], bool]


def verdict_is(check: str, verdict: str) -> Callable[[DecisionContext, Policy], bool]:
    """A rule's test: ``check`` returned ``verdict`` (after the site's thresholds)."""

    def applies(ctx: DecisionContext, _: Policy) -> bool:
        outcome = ctx.outcomes.get(check)
        return outcome is not None and outcome.verdict == verdict

    return applies


def _links(ctx: DecisionContext, policy: Policy) -> bool:
    spam = ctx.outcomes.get("spam")
    return (
        not ctx.is_trusted_author
        and spam is not None
        and spam.signals.get("links", 0) >= policy.max_links
    )


def _spam_suspected(ctx: DecisionContext, policy: Policy) -> bool:
    return not ctx.is_trusted_author and verdict_is("spam", "suspect")(ctx, policy)


def _known_spammer(action: KnownSpammerAction) -> Callable[[DecisionContext, Policy], bool]:
    def applies(ctx: DecisionContext, policy: Policy) -> bool:
        return ctx.is_known_spammer and policy.known_spammer == action

    return applies


def _blocked_word(ctx: DecisionContext, policy: Policy) -> bool:
    return bool(policy.blocked_words) and contains_any(ctx.text, policy.blocked_words)


def _watched_word(ctx: DecisionContext, policy: Policy) -> bool:
    return bool(policy.watched_words) and contains_any(ctx.text, policy.watched_words)


def _honeypot(ctx: DecisionContext, _: Policy) -> bool:
    spam = ctx.outcomes.get("spam")
    return ctx.is_honeypot_filled or (spam is not None and "honeypot" in spam.reasons)


def _unavailable(ctx: DecisionContext, _: Policy) -> bool:
    return any(o.is_unavailable for o in ctx.outcomes.values())


def _premoderated(ctx: DecisionContext, policy: Policy) -> bool:
    if ctx.is_trusted_author:
        return False
    return policy.premoderation == "all" or (
        policy.premoderation == "first_time" and ctx.is_first_time_author
    )


RULES: tuple[Rule, ...] = (
    Rule("honeypot", Status.SPAM, _honeypot),
    Rule("spam_blatant", Status.SPAM, verdict_is("spam", "blatant")),
    Rule("known_spammer", Status.SPAM, _known_spammer("spam")),
    Rule("toxicity_severe", Status.REJECTED, verdict_is("toxicity", "blatant")),
    Rule("blocked_word", Status.REJECTED, _blocked_word),
    Rule("check_unavailable", Status.HELD, _unavailable),
    Rule("too_many_links", Status.HELD, _links),
    Rule("spam_suspected", Status.HELD, _spam_suspected),
    Rule("toxicity_suspected", Status.HELD, verdict_is("toxicity", "suspect")),
    Rule("known_spammer", Status.HELD, _known_spammer("held")),
    Rule("watched_word", Status.HELD, _watched_word),
    Rule("held_by_policy", Status.HELD, _premoderated),
)

# Never shadowed: a comment whose checks did not run is never published unchecked.
_NEVER_SHADOWED = frozenset({"check_unavailable"})


def _apply_thresholds(outcome: CheckResult, policy: Policy, lang: str | None) -> CheckResult:
    """Re-derive a verdict from the score when the site set thresholds for this check."""
    levels = policy.threshold(outcome.check, lang)
    if not levels or outcome.score is None or outcome.is_unavailable:
        return outcome
    verdict = outcome.verdict
    blatant, suspect = levels.get("blatant"), levels.get("suspect")
    if blatant is not None:
        if outcome.score >= blatant:
            return replace(outcome, verdict="blatant")
        if verdict == "blatant":
            verdict = "suspect"
    if suspect is not None and verdict != "blatant":
        verdict = "suspect" if outcome.score >= suspect else "clean"
    return replace(outcome, verdict=verdict)


def decide(
    ctx: DecisionContext,
    policy: Policy,
    required_checks: tuple[str, ...],
    rules: Sequence[Rule] | None = None,
) -> Decision:
    """Run every rule; the most severe outcome wins; its reasons are every rule that fired
    for that outcome (the lesser hits are kept too, after them, so moderators see all).

    A required check with no outcome at all counts as unavailable: nothing is ever
    published unchecked. ``rules`` defaults to the policy table :data:`RULES`.
    """
    outcomes = {
        check: _apply_thresholds(outcome, policy, ctx.lang)
        for check, outcome in ctx.outcomes.items()
    }
    for check in required_checks:
        outcomes.setdefault(check, unavailable(check))
    ctx = replace(ctx, outcomes=outcomes)
    hits = [rule for rule in (RULES if rules is None else rules) if rule.applies(ctx, policy)]
    if not hits:
        return Decision(Status.PUBLISHED, ())
    winner = min((rule.outcome for rule in hits), key=SEVERITY.index)
    ordered = sorted(hits, key=lambda rule: SEVERITY.index(rule.outcome))
    reasons = tuple(dict.fromkeys(rule.reason for rule in ordered))
    if policy.shadow_mode and winner is not Status.PUBLISHED and not _NEVER_SHADOWED & set(reasons):
        return Decision(Status.PUBLISHED, (f"shadow_{winner.value}", *reasons), shadowed=winner)
    return Decision(winner, reasons)


def implied_status(status: Status, reasons: tuple[str, ...] | list[str]) -> Status | None:
    """What an automatic decision says a moderator should do (for agreement metrics):
    a final verdict is itself; a hold leans to spam or rejection by its reasons, and says
    nothing when it was held only for policy, links, words or an unavailable check."""
    if status is not Status.HELD:
        return status
    if "spam_suspected" in reasons or "known_spammer" in reasons:
        return Status.SPAM
    if "toxicity_suspected" in reasons:
        return Status.REJECTED
    return None


# --- validation of a site's overrides (API and CLI) --------------------------------------


class PolicyInvalid(ValueError):
    """``fields`` maps each bad key to a stable code; carries no submitted value."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid policy: " + ", ".join(sorted(fields)))
        self.fields = fields


def _int(value: Any, low: int, high: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must_be_integer"
    return None if low <= value <= high else "out_of_range"


def _words(value: Any) -> str | None:
    if not isinstance(value, list):
        return "must_be_list"
    if len(value) > MAX_ENTRIES:
        return "too_many"
    if not all(isinstance(v, str) and is_valid_entry(v) for v in value):
        return "invalid_word"
    return None


def _score(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0.0 <= value <= 1.0
    )


def _thresholds(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must_be_object"
    for check, by_lang in value.items():
        if check not in THRESHOLD_CHECKS or not isinstance(by_lang, dict):
            return "invalid_check"
        for lang, levels in by_lang.items():
            if not isinstance(lang, str) or not _LANG_KEY.match(lang):
                return "invalid_lang"
            if not isinstance(levels, dict) or not levels or set(levels) - set(THRESHOLD_LEVELS):
                return "invalid_level"
            if not all(_score(v) for v in levels.values()):
                return "invalid_score"
            if levels.get("suspect", 0.0) > levels.get("blatant", 1.0):
                return "suspect_above_blatant"
    return None


_VALIDATORS: dict[str, Callable[[Any], str | None]] = {
    "max_links": lambda v: _int(v, 1, 1000),
    "premoderation": lambda v: None if v in PREMODERATION_CHOICES else "invalid_choice",
    "thresholds": _thresholds,
    "blocked_words": _words,
    "watched_words": _words,
    "trust_after": lambda v: _int(v, 0, 100_000),
    "known_spammer": lambda v: None if v in KNOWN_SPAMMER_CHOICES else "invalid_choice",
    "shadow_mode": lambda v: None if isinstance(v, bool) else "must_be_boolean",
}


def validate_overrides(overrides: Any) -> dict[str, Any]:
    """Check a site's policy document; returns it (lists de-duplicated, order kept).

    Raises :class:`PolicyInvalid` with a code per bad key (unknown keys: ``unknown_field``).
    """
    if not isinstance(overrides, dict):
        raise PolicyInvalid({"body": "must_be_object"})
    errors: dict[str, str] = {}
    for key, value in overrides.items():
        validator = _VALIDATORS.get(key)
        code = "unknown_field" if validator is None else validator(value)
        if code:
            errors[str(key)[:64]] = code
    if errors:
        raise PolicyInvalid(errors)
    clean = dict(overrides)
    for key in ("blocked_words", "watched_words"):
        if key in clean:
            clean[key] = list(dict.fromkeys(clean[key]))
    return clean
