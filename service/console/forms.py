"""What the console's forms and query strings mean, turned into use-case arguments.

Pure translation: nothing here touches the database. A bad value becomes a message for the
page (never echoing the value back), not an exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import regex

from service.console.gateway import (
    AUTHOR_KEY,
    CHECKS,
    REASON_CODE,
    QueueFilter,
    QueueOrder,
    Status,
)

PAGE_SIZE = 20
ACTIONS = ("approve", "reject", "spam")
NOTE_MAX = 2000
LANG = regex.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
# Suggestions offered in the reason box (any snake_case code is accepted).
REASON_SUGGESTIONS = (
    "abusive",
    "personal_attack",
    "hate_speech",
    "off_topic",
    "spam_link",
    "duplicate",
    "misinformation",
    "false_positive",
)
FILTER_KEYS = ("site", "status", "lang", "check", "reason", "author", "order")


@dataclass(frozen=True)
class QueueQuery:
    filters: QueueFilter
    args: dict[str, str]  # the accepted filters, to rebuild links
    errors: list[str] = field(default_factory=list)


def parse_queue_query(args: Mapping[str, str], sites: list[str]) -> QueueQuery:
    """Filters from the query string; a value that does not fit is dropped with a message."""
    kept: dict[str, str] = {}
    errors: list[str] = []
    checks = {
        "site": (lambda v: v in sites, "Unknown site."),
        "status": (lambda v: v in {s.value for s in Status}, "Unknown status."),
        "lang": (lambda v: bool(LANG.match(v)), "The language must be a tag such as hi or en."),
        "check": (lambda v: v in CHECKS, "The check must be one of " + ", ".join(CHECKS) + "."),
        "reason": (lambda v: bool(REASON_CODE.match(v)), "A reason is a snake_case code."),
        "author": (lambda v: bool(AUTHOR_KEY.match(v)), "Not an author key."),
        "order": (lambda v: v in {o.value for o in QueueOrder}, "The order must be a choice."),
    }
    for key, (is_valid, message) in checks.items():
        value = (args.get(key) or "").strip()
        if not value:
            continue
        if is_valid(value):
            kept[key] = value
        else:
            errors.append(message)
    filters = QueueFilter(
        site=kept.get("site"),
        status=Status(kept.get("status", Status.HELD.value)),
        lang=kept.get("lang"),
        check=kept.get("check"),
        reason=kept.get("reason"),
        author_key=kept.get("author"),
        order=QueueOrder(kept.get("order", QueueOrder.OLDEST.value)),
    )
    return QueueQuery(filters, kept, errors)


@dataclass(frozen=True)
class DecisionForm:
    action: str
    reason: str | None
    note: str | None
    expected_status: Status | None


def parse_decision(form: Mapping[str, str]) -> DecisionForm | str:
    """A decision form, or a message saying what is wrong with it."""
    action = form.get("action", "")
    if action not in ACTIONS:
        return "Choose approve, reject or spam."
    reason = (form.get("reason") or "").strip() or None
    if reason is not None and not REASON_CODE.match(reason):
        return "A reason is a snake_case code such as off_topic."
    note = (form.get("note") or "").strip() or None
    if note is not None and (len(note) > NOTE_MAX or not _is_printable(note)):
        return f"A note is plain text of at most {NOTE_MAX} characters."
    raw_expected = form.get("expected_status") or ""
    expected = Status(raw_expected) if raw_expected in {s.value for s in Status} else None
    return DecisionForm(action, reason, note, expected)


def _is_printable(text: str) -> bool:
    return not any((ord(ch) < 32 and ch not in "\n\t\r") or 0x7F <= ord(ch) < 0xA0 for ch in text)


# --- policy ---------------------------------------------------------------------------------


def policy_form_values(overrides: Mapping[str, Any]) -> dict[str, str]:
    """A site's overrides as the policy form's field values (blank = the default)."""

    def words(key: str) -> str:
        return "\n".join(overrides.get(key) or [])

    thresholds = overrides.get("thresholds")
    return {
        "max_links": str(overrides.get("max_links", "")),
        "premoderation": str(overrides.get("premoderation", "")),
        "trust_after": str(overrides.get("trust_after", "")),
        "known_spammer": str(overrides.get("known_spammer", "")),
        "shadow_mode": "on" if overrides.get("shadow_mode") else "",
        "blocked_words": words("blocked_words"),
        "watched_words": words("watched_words"),
        "thresholds": json.dumps(thresholds, ensure_ascii=False, indent=2) if thresholds else "",
    }


def parse_policy_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The overrides document the policy form describes, and per-field problems found before
    the use case validates it (numbers that are not numbers, JSON that is not JSON)."""
    doc: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in ("max_links", "trust_after"):
        raw = (form.get(key) or "").strip()
        if raw:
            if raw.isdigit():
                doc[key] = int(raw)
            else:
                errors[key] = "must_be_integer"
    for key in ("premoderation", "known_spammer"):
        raw = (form.get(key) or "").strip()
        if raw:
            doc[key] = raw
    if form.get("shadow_mode"):
        doc["shadow_mode"] = True
    for key in ("blocked_words", "watched_words"):
        entries = [line.strip() for line in (form.get(key) or "").splitlines() if line.strip()]
        if entries:
            doc[key] = entries
    raw_thresholds = (form.get("thresholds") or "").strip()
    if raw_thresholds:
        try:
            doc["thresholds"] = json.loads(raw_thresholds)
        except ValueError:
            errors["thresholds"] = "must_be_json"
    return doc, errors


def expected_version(form: Mapping[str, str]) -> int | None:
    raw = form.get("version", "")
    return int(raw) if raw.isdigit() else None
