"""The moderators' reads: the review queue, one comment in detail, the audit trail.

Tenancy: a moderator sees only the sites it was created for. A comment of another site is
simply not found (404); a ``site`` parameter naming another site is forbidden (403).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import regex

from service.db.comments import QueueQuery
from service.db.models import (
    AuditEvent,
    Comment,
)
from service.db.storage import UnitOfWork
from service.domain.checks import CheckResult
from service.domain.privacy import (
    Vault,
    mask_email,
)
from service.domain.statuses import Status
from service.usecases.services import (
    InvalidCursor,
    ModeratorRef,
    NotFound,
    Services,
    decode_cursor,
    decode_rank_cursor,
    encode_cursor,
    encode_rank_cursor,
)
from service.usecases.sites import scoped_site
from service.usecases.spam_memory import is_known_spammer

REASON_CODE = regex.compile(r"^[a-z][a-z0-9_]{0,63}$")


AUTHOR_KEY = regex.compile(r"^[0-9a-f]{64}$")


MAX_BULK = 100
# How many of the author's other comments a moderator sees with a comment.
AUTHOR_RECENT = 10


@dataclass(frozen=True)
class ModerationItem:
    id: str
    site: str
    thread_id: str
    thread_url: str | None  # the page the site said the thread is on (http(s)), if it did
    status: str
    text: str
    author_name: str
    author_url: str | None
    author_email_masked: str | None
    author_key: str | None
    lang: str | None
    created_at: datetime
    reasons: list[str]
    checks: list[CheckResult]


@dataclass(frozen=True)
class AuditView:
    id: int
    comment_id: str
    site: str
    actor: str
    from_status: str
    to_status: str
    reasons: list[str]
    note: str | None
    created_at: datetime


@dataclass(frozen=True)
class AuthorHistory:
    counts: dict[str, int]
    is_known_spammer: bool
    recent: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ModerationDetail:
    item: ModerationItem
    history: list[AuditView]
    author: AuthorHistory


def _items(svc: Services, uow: UnitOfWork, comments: Sequence[Comment]) -> list[ModerationItem]:
    checks = uow.results.of_comments([c.id for c in comments])
    slugs = uow.sites.slugs(c.site_id for c in comments)
    return [
        ModerationItem(
            id=c.id,
            site=slugs.get(c.site_id, ""),
            thread_id=c.thread_id,
            thread_url=c.thread_url,
            status=c.status,
            text=c.text,
            author_name=c.author_name,
            author_url=c.author_url,
            # Decrypted only to be masked: moderators see r***@example.com, never more.
            author_email_masked=(
                mask_email(svc.vault.decrypt(c.author_email_encrypted))
                if c.author_email_encrypted
                else None
            ),
            author_key=c.author_hash,
            lang=c.lang,
            created_at=c.created_at,
            reasons=list(c.reasons or ()),
            checks=checks.get(c.id, []),
        )
        for c in comments
    ]


def _audit_views(uow: UnitOfWork, rows: Sequence[AuditEvent]) -> list[AuditView]:
    slugs = uow.sites.slugs(r.site_id for r in rows)
    return [
        AuditView(
            id=r.id,
            comment_id=r.comment_id,
            site=slugs.get(r.site_id, ""),
            actor=r.actor,
            from_status=r.from_status,
            to_status=r.to_status,
            reasons=list(r.reasons or ()),
            note=r.note,
            created_at=r.created_at,
        )
        for r in rows
    ]


class QueueOrder(StrEnum):
    """The queue's order: by (created_at, id), oldest first (the default) or newest first;
    or by the models' uncertainty, the comments whose score is nearest 0.5 first (the labels
    that teach a site model the most: active learning), ties by (created_at, id)."""

    OLDEST = "oldest"
    NEWEST = "newest"
    UNCERTAINTY = "uncertainty"


@dataclass(frozen=True)
class QueueFilter:
    site: str | None = None
    status: Status = Status.HELD
    lang: str | None = None
    check: str | None = None
    reason: str | None = None
    author_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    order: QueueOrder = QueueOrder.OLDEST


@dataclass(frozen=True)
class QueuePage:
    items: list[ModerationItem]
    next_cursor: str | None


def list_queue(
    svc: Services, moderator: ModeratorRef, f: QueueFilter, limit: int, cursor: str | None
) -> QueuePage:
    """Comments of the moderator's sites matching ``f``, in ``f.order`` by (created_at, id)
    (oldest first unless asked otherwise), keyset-paginated: a cursor continues the order it
    was issued in."""
    if f.order is QueueOrder.UNCERTAINTY:
        return _queue_by_uncertainty(svc, moderator, f, limit, cursor)
    after = decode_cursor(cursor) if cursor else None
    with svc.uow() as uow:
        site_ids = {scoped_site(uow, moderator, f.site).id} if f.site else set(moderator.site_ids)
        query = _queue_query(f, site_ids, after)
        rows = uow.comments.queue(query, limit + 1)
        items = _items(svc, uow, rows[:limit])
    next_cursor = (
        encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit and items else None
    )
    return QueuePage(items, next_cursor)


def _queue_query(
    f: QueueFilter, site_ids: set[int], after: tuple[datetime, str] | None
) -> QueueQuery:
    return QueueQuery(
        site_ids=site_ids,
        status=f.status.value,
        lang=f.lang,
        check=f.check,
        reason=f.reason,
        author_key=f.author_key,
        since=f.since,
        until=f.until,
        after=after,
        newest_first=f.order is QueueOrder.NEWEST,
    )


def _queue_by_uncertainty(
    svc: Services, moderator: ModeratorRef, f: QueueFilter, limit: int, cursor: str | None
) -> QueuePage:
    """:func:`list_queue` in :attr:`QueueOrder.UNCERTAINTY`; its cursor carries the rank."""
    after = decode_rank_cursor(cursor) if cursor else None
    with svc.uow() as uow:
        site_ids = {scoped_site(uow, moderator, f.site).id} if f.site else set(moderator.site_ids)
        rows = uow.comments.queue_by_uncertainty(_queue_query(f, site_ids, None), after, limit + 1)
        items = _items(svc, uow, [comment for comment, _ in rows[:limit]])
    next_cursor = None
    if len(rows) > limit and items:
        next_cursor = encode_rank_cursor(rows[limit - 1][1], items[-1].created_at, items[-1].id)
    return QueuePage(items, next_cursor)


def get_for_moderation(svc: Services, moderator: ModeratorRef, comment_id: str) -> ModerationDetail:
    """One comment with its checks, its audit history and its author's history on the site."""
    with svc.uow() as uow:
        comment = uow.comments.get(comment_id)
        if comment is None or comment.site_id not in moderator.site_ids:
            raise NotFound()
        item = _items(svc, uow, [comment])[0]
        history = _audit_views(uow, uow.audit.of_comment(comment.id))
        return ModerationDetail(item, history, _author_history(uow, svc.vault, comment))


def _author_history(uow: UnitOfWork, vault: Vault, comment: Comment) -> AuthorHistory:
    counts = {status.value: 0 for status in Status}
    recent: list[dict[str, Any]] = []
    if comment.author_hash:
        counts.update(uow.comments.author_counts(comment))
        recent = [
            {"id": r.id, "thread_id": r.thread_id, "status": r.status, "created_at": r.created_at}
            for r in uow.comments.author_recent(comment, AUTHOR_RECENT)
        ]
    return AuthorHistory(counts, is_known_spammer(uow, vault, comment), recent)


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditView]
    next_cursor: str | None


def list_audit(
    svc: Services,
    moderator: ModeratorRef,
    *,
    comment_id: str | None,
    site: str | None,
    limit: int,
    cursor: str | None,
) -> AuditPage:
    """Status changes, newest first, of one comment or of one (or every) site in scope."""
    after = decode_cursor(cursor) if cursor else None
    if after is not None and not after[1].isdigit():
        raise InvalidCursor()
    with svc.uow() as uow:
        if comment_id:
            comment = uow.comments.get(comment_id)
            if comment is None or comment.site_id not in moderator.site_ids:
                raise NotFound()
        site_ids = {scoped_site(uow, moderator, site).id} if site else set(moderator.site_ids)
        keyset = (after[0], int(after[1])) if after is not None else None
        rows = uow.audit.page(site_ids, comment_id, keyset, limit + 1)
        items = _audit_views(uow, rows[:limit])
    next_cursor = (
        encode_cursor(items[-1].created_at, str(items[-1].id))
        if len(rows) > limit and items
        else None
    )
    return AuditPage(items, next_cursor)
