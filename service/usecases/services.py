"""What every use case shares: :class:`Services` (built once by a composition root), the
refusals the API and CLI map to codes, the references of an authenticated caller, cursors,
and :func:`send_after_commit`. Imports nothing from the other use case modules.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
)
from sqlalchemy.orm import Session, sessionmaker

from service.db.engine import make_engine, make_session_factory
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
    engine: Engine
    sessions: sessionmaker[Session]
    vault: Vault
    producer: TaskProducer
    read_engine: Engine | None = None
    # api-key hash → (expires at, site): see authenticate_site.
    site_cache: dict[str, tuple[float, SiteRef]] = field(default_factory=dict)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commits on success, rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A connection on which each statement commits on its own (PostgreSQL autocommit):
        for writes that are one statement, so BEGIN and COMMIT cost no extra round trips."""
        if self.read_engine is not None:  # the autocommit pool
            with self.read_engine.connect() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for single-statement reads (autocommit on PostgreSQL)."""
        with (self.read_engine or self.engine).connect() as conn:
            yield conn

    def close(self) -> None:
        self.producer.close()
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()


def build_services(settings: Settings) -> Services:
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_recycle=settings.db_pool_recycle_seconds,
    )
    read_engine = (
        make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            pool_recycle=settings.db_pool_recycle_seconds,
            autocommit=True,
        )
        if engine.dialect.name == "postgresql"
        else None
    )
    return Services(
        settings=settings,
        engine=engine,
        read_engine=read_engine,
        sessions=make_session_factory(engine),
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
    pass


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
    """Someone saved another version first (``expected_version`` no longer current)."""


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


PENDING_DELIVERIES = "commentmod.webhook_deliveries"


def send_after_commit(svc: Services, s: Session) -> None:
    """Hand the deliveries this (committed) session created to the broker, non-blocking;
    whatever is lost on the way is dispatched by the relay."""
    for delivery_id in s.info.pop(PENDING_DELIVERIES, []):
        svc.producer.enqueue(WEBHOOK_TASK, delivery_id)


def is_database_ready(svc: Services) -> bool:
    try:
        with svc.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False
    return True
