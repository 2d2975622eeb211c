"""SQLAlchemy 2.0 models. The schema itself is created by Alembic (``commentmod db upgrade``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Moderator(Base):
    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class ModeratorSite(Base):
    __tablename__ = "moderator_sites"

    moderator_id: Mapped[int] = mapped_column(
        ForeignKey("moderators.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        # A duplicate (same author, thread and text) is refused by the database itself.
        UniqueConstraint(
            "site_id", "thread_id", "author_hash", "text_hash", name="uq_comment_dedupe"
        ),
        Index("ix_comments_thread", "site_id", "thread_id", "status", "created_at", "id"),
        Index("ix_comments_author_recent", "site_id", "author_hash", "created_at"),
        Index("ix_comments_ip_recent", "site_id", "ip_hash", "created_at"),
        Index("ix_comments_status", "site_id", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    thread_id: Mapped[str] = mapped_column(String(200))
    thread_url: Mapped[str | None] = mapped_column(String(2000))
    parent_id: Mapped[str | None] = mapped_column(String(36))
    author_name: Mapped[str] = mapped_column(String(245))
    author_url: Mapped[str | None] = mapped_column(String(200))
    # Fernet token of the normalized email; author_hash is the keyed hash used for look-ups.
    author_email_encrypted: Mapped[str | None] = mapped_column(Text)
    author_hash: Mapped[str | None] = mapped_column(String(64))
    ip_truncated: Mapped[str | None] = mapped_column(String(64))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(1000))
    referrer: Mapped[str | None] = mapped_column(String(2000))
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    lang_hint: Mapped[str | None] = mapped_column(String(35))
    lang: Mapped[str | None] = mapped_column(String(16))
    is_honeypot_filled: Mapped[bool] = mapped_column(default=False)
    seconds_to_submit: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]


class CheckJob(Base):
    """The outbox: one row per comment and check, written with the comment.

    The web sends the task after commit; the scheduler's relay re-sends rows that are still
    unfinished at ``next_send_at`` and gives up (``check_unavailable``) after N re-sends.
    """

    __tablename__ = "check_jobs"
    __table_args__ = (
        UniqueConstraint("comment_id", "check", name="uq_check_job"),
        Index("ix_check_jobs_due", "completed_at", "next_send_at"),
        # What claim_checks takes: never delivered, unfinished (migration 0003).
        Index(
            "ix_check_jobs_claimable",
            "check",
            "created_at",
            postgresql_where=text("completed_at IS NULL AND attempt_count = 0"),
            sqlite_where=text("completed_at IS NULL AND attempt_count = 0"),
        ),
        # The claims in progress, by claiming task (migration 0004).
        Index(
            "ix_check_jobs_claimed_by",
            "claimed_by",
            postgresql_where=text("claimed_by IS NOT NULL"),
            sqlite_where=text("claimed_by IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    check: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_send_at: Mapped[datetime]
    send_count: Mapped[int] = mapped_column(default=0)
    # Deliveries the workers started (counted before the detector runs, so a check that
    # kills its worker every time is still bounded).
    attempt_count: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[datetime | None]
    # The task (Celery task id) that claimed this job from the backlog, until it completes
    # or the relay re-sends it: the job's own message leaves it to that task.
    claimed_by: Mapped[str | None] = mapped_column(String(64))


class CheckResultRow(Base):
    __tablename__ = "check_results"
    __table_args__ = (UniqueConstraint("comment_id", "check", name="uq_check_result"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    check: Mapped[str] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    signals: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model: Mapped[str] = mapped_column(String(100))
    lang: Mapped[str | None] = mapped_column(String(16))
    duration_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """One row per status change, by the system or a moderator."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_comment", "comment_id", "created_at"),
        Index("ix_audit_site", "site_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(Base):
    """The first 202 answer to a request carrying an ``Idempotency-Key``."""

    __tablename__ = "idempotency_keys"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SitePolicyVersion(Base):
    """Every saved version of a site's policy overrides (``sites.policy`` is the current one).

    Version 0 is the defaults (no row); each change by the CLI or the API adds the next one.
    """

    __tablename__ = "site_policy_versions"
    __table_args__ = (UniqueConstraint("site_id", "version", name="uq_site_policy_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str] = mapped_column(String(100))  # "cli" or "moderator:<id>"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """The webhook outbox: one row per event, written in the transaction of the status change.

    ``id`` is the event id the receiver de-duplicates on. ``payload`` holds the comment's
    public fields at the time of the event (never email or IP). A task carrying only the id
    delivers it; the scheduler's relay re-dispatches rows that are due (``next_dispatch_at``),
    and a delivery is attempted only once ``retry_at`` has passed (exponential backoff).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "delivered_at", "given_up_at", "next_dispatch_at"),
        Index("ix_webhook_deliveries_comment", "comment_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_dispatch_at: Mapped[datetime]
    retry_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    attempt_count: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None]
    given_up_at: Mapped[datetime | None]


class ModerationLabel(Base):
    """A moderator's latest verdict on a comment, as training data for the detectors."""

    __tablename__ = "moderation_labels"
    __table_args__ = (Index("ix_moderation_labels_site", "site_id", "action", "updated_at"),)

    comment_id: Mapped[str] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))  # approve | reject | spam
    actor: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SpamMemoryEntry(Base):
    """A site's memory of spam sources, by keyed hash only (never a clear email, IP or URL).

    ``kind`` is ``author`` (the author hash), ``ip`` (the IP hash) or ``domain`` (a keyed
    hash of a linked domain). Filled when a moderator marks a comment as spam.
    """

    __tablename__ = "spam_memory"
    __table_args__ = (UniqueConstraint("site_id", "kind", "key_hash", name="uq_spam_memory"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    hits: Mapped[int] = mapped_column(default=1)
    last_comment_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiteModel(Base):
    """A site's own trained model for one check (``commentmod train --site``): versioned,
    at most one active per (site, check); the workers load the active one from here."""

    __tablename__ = "site_models"
    __table_args__ = (
        UniqueConstraint("site_id", "check", "version", name="uq_site_model_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    check: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    weights: Mapped[bytes] = mapped_column(LargeBinary)  # the artifact's .npz
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)  # the artifact's .json
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)


class SiteTraining(Base):
    """Scheduled retraining of a site's model for one check: who holds the training now
    (``claimed_at``, a lease) and how many labels the last finished training saw, so two
    schedulers or overlapping ticks never train the same labels twice."""

    __tablename__ = "site_trainings"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    check: Mapped[str] = mapped_column(String(32), primary_key=True)
    labels_seen: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(64), nullable=True)
