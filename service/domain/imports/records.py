"""What the parsers yield: one :class:`Entry` per comment of an export, or a
:class:`Malformed` naming the entry's position and why it was skipped."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from service.domain.statuses import Status

ANONYMOUS = "Anonymous"

# Imported comment ids are derived from (site, source, source id): re-importing an entry
# finds its comment by primary key (idempotent), and a reply names its parent's id even
# when the parent comes later in the file.
IMPORT_NAMESPACE = uuid.UUID("5b0d7c1e-3f8a-4e55-9a57-6b1f2c0e9d21")


def imported_comment_id(site_id: int, source: str, source_id: str) -> str:
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{site_id}\n{source}\n{source_id}"))


class State(StrEnum):
    """A moderation state as exports know it."""

    APPROVED = "approved"
    PENDING = "pending"
    SPAM = "spam"
    TRASH = "trash"


class TrashAs(StrEnum):
    """What a trashed (WordPress) or deleted (Disqus) comment teaches: abuse by default."""

    TOXIC = "toxic"
    SPAM = "spam"
    IGNORE = "ignore"


STATE_STATUS: dict[State, Status] = {
    State.APPROVED: Status.PUBLISHED,
    State.PENDING: Status.HELD,
    State.SPAM: Status.SPAM,
    State.TRASH: Status.REJECTED,
}


def label_action(state: State, trash_as: TrashAs) -> str | None:
    """The label an imported state is, as a moderator action (see CHECKS' label mappings):
    approved → approve (ham, ok), spam → spam, trash → reject (toxic) or as ``trash_as``
    says; a pending comment is no label."""
    if state is State.APPROVED:
        return "approve"
    if state is State.SPAM:
        return "spam"
    if state is State.TRASH:
        return {TrashAs.TOXIC: "reject", TrashAs.SPAM: "spam", TrashAs.IGNORE: None}[trash_as]
    return None


@dataclass(frozen=True, slots=True)
class Entry:
    """One comment of an export, as given (the email is still clear: never log an Entry).

    ``label`` is set by label-only sources (CSV): a check's own label, e.g. ``toxic``."""

    position: int  # the line of the file where the entry starts
    source_id: str
    thread_id: str
    text: str
    created_at: datetime
    state: State
    thread_url: str | None = None
    parent_source_id: str | None = None
    author_name: str = ANONYMOUS
    author_email: str | None = None
    author_url: str | None = None
    author_ip: str | None = None
    lang: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Malformed:
    """An entry that cannot be imported: its line, its source id when known, and a code."""

    position: int
    reason: str
    source_id: str | None = None


class ExportRefused(ValueError):
    """The file as a whole cannot be read (not well-formed, or it declares XML entities).
    The message names the line and the cause, never the file's content."""


def parse_gmt(raw: str) -> datetime | None:
    """``2021-03-04 05:06:07`` or ISO 8601; a value without a zone is UTC. None if invalid
    (including WordPress's ``0000-00-00 00:00:00``)."""
    raw = raw.strip()
    if not raw or raw.startswith("0000"):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
