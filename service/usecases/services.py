"""What every use case shares: :class:`Services` (built once by a composition root), the
refusals the API and CLI map to codes, the references of an authenticated caller, cursors,
and :func:`send_after_commit`. Imports nothing from the other use case modules.
"""

from __future__ import annotations

import base64
import binascii
import json
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.db.storage import Storage, UnitOfWork, open_storage
from service.domain.privacy import (
    Vault,
)
from service.queue import WEBHOOK_TASK, TaskProducer
from service.settings import Settings

SYSTEM_ACTOR = "system"


@dataclass
class Services:
    """Everything a use case needs, built once by a composition root."""

    settings: Settings
    storage: Storage
    vault: Vault
    producer: TaskProducer
    # api-key hash → (expires at, site): see authenticate_site.
    site_cache: dict[str, tuple[float, SiteRef]] = field(default_factory=dict)

    def uow(self, *, relaxed_durability: bool = False) -> AbstractContextManager[UnitOfWork]:
        """The one way a use case opens a transaction (see :mod:`service.db.storage`)."""
        return self.storage.uow(relaxed_durability=relaxed_durability)

    def close(self) -> None:
        self.producer.close()
        self.storage.dispose()


def build_services(settings: Settings) -> Services:
    return Services(
        settings=settings,
        storage=open_storage(settings),
        vault=Vault(
            settings.email_keys.get_secret_value() if settings.email_keys else None,
            settings.hash_key.get_secret_value() if settings.hash_key else None,
        ),
        producer=TaskProducer(settings),
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class UseCaseError(Exception):
    """Base for expected refusals; the API maps each to a status code and a stable code."""


class DuplicateComment(UseCaseError):
    pass


class Flooded(UseCaseError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many comments in a short time")
        self.retry_after = retry_after


class ParentNotFound(UseCaseError):
    pass


class IdempotencyKeyReused(UseCaseError):
    pass


class NotFound(UseCaseError):
    """Unknown, or outside the caller's scope (which looks the same). ``resource`` names
    what was looked for, for the caller's message ("no such comment")."""

    def __init__(self, message: str = "", *, resource: str = "comment") -> None:
        super().__init__(message)
        self.resource = resource


class InvalidCursor(UseCaseError):
    pass


class SiteExists(UseCaseError):
    pass


class Forbidden(UseCaseError):
    """The moderator has no right to this site (unknown sites look the same)."""


class StaleDecision(UseCaseError):
    """The comment's status changed since the moderator looked at it."""


class InvalidDecision(UseCaseError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # comment_pending | already_in_status | invalid_transition


class PolicyConflict(UseCaseError):
    """Someone saved another version first (``expected_version`` no longer current).
    ``was_expected`` tells a failed precondition (the caller named a version) from a race."""

    def __init__(self, *, was_expected: bool) -> None:
        super().__init__("policy version conflict")
        self.was_expected = was_expected


# --- references of authenticated callers -----------------------------------------------


@dataclass(frozen=True)
class SiteRef:
    """The authenticated site, as the API needs it (no secrets)."""

    id: int
    slug: str
    policy: dict[str, Any]


@dataclass(frozen=True)
class ModeratorRef:
    id: int
    name: str
    site_ids: frozenset[int]

    @property
    def actor(self) -> str:
        return f"moderator:{self.id}"


# --- cursors and the webhook hand-off ---------------------------------------------------


def encode_cursor(created_at: datetime, comment_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), comment_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_rank_cursor(rank: float, created_at: datetime, comment_id: str) -> str:
    """A cursor of an order by a rank, then (created_at, id): the rank as ``repr`` (exact)."""
    raw = json.dumps([repr(rank), created_at.isoformat(), comment_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_rank_cursor(cursor: str) -> tuple[float, datetime, str]:
    """The ``(rank, created_at, id)`` of :func:`encode_rank_cursor`; InvalidCursor otherwise
    (a cursor of another order included)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, created, comment_id = json.loads(raw)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None or not isinstance(comment_id, str):
            raise ValueError("bad cursor")
        value = float(rank)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    return value, moment, comment_id


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, comment_id = json.loads(raw)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None or not isinstance(comment_id, str):
            raise ValueError("bad cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    return moment, comment_id


def send_after_commit(svc: Services, uow: UnitOfWork) -> None:
    """Hand the webhook deliveries this (committed) unit of work created to the broker,
    non-blocking; whatever is lost on the way is dispatched by the relay."""
    for delivery_id in uow.new_deliveries():
        svc.producer.enqueue(WEBHOOK_TASK, delivery_id)


def readiness(svc: Services) -> dict[str, bool]:
    """What ``/readyz`` reports: can the service reach its database and its broker."""
    return {"database": svc.storage.is_ready(), "broker": svc.producer.ping()}
