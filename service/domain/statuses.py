"""Comment statuses and the one table of allowed transitions."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    HELD = "held"
    REJECTED = "rejected"
    SPAM = "spam"


FINAL_STATUSES = frozenset({Status.PUBLISHED, Status.HELD, Status.REJECTED, Status.SPAM})

# The checks decide a pending comment; a moderator moves a held comment to any final status,
# may take a published one down, and may overturn a rejection or a spam verdict.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.PUBLISHED, Status.HELD, Status.REJECTED, Status.SPAM}),
    Status.HELD: frozenset({Status.PUBLISHED, Status.REJECTED, Status.SPAM}),
    Status.PUBLISHED: frozenset({Status.HELD, Status.REJECTED, Status.SPAM}),
    Status.REJECTED: frozenset({Status.PUBLISHED, Status.SPAM}),
    Status.SPAM: frozenset({Status.PUBLISHED, Status.REJECTED}),
}


class InvalidTransition(ValueError):
    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"cannot move a comment from {current} to {target}")
        self.current = current
        self.target = target


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def ensure_transition(current: Status, target: Status) -> None:
    """Raise :class:`InvalidTransition` unless the table allows ``current → target``."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
