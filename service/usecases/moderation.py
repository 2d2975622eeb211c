"""The moderators' reads: the review queue, one comment in detail, the audit trail.

Tenancy: a moderator sees only the sites it was created for. A comment of another site is
simply not found (404); a ``site`` parameter naming another site is forbidden (403).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import regex
from sqlalchemy import (
    String,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy import cast as cast
from sqlalchemy.orm import Session

from service.db.models import (
    AuditEvent,
    CheckResultRow,
    Comment,
    Site,
)
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
    encode_cursor,
)
from service.usecases.sites import scoped_site
from service.usecases.spam_memory import is_known_spammer

REASON_CODE = regex.compile(r"^[a-z][a-z0-9_]{0,63}$")


AUTHOR_KEY = regex.compile(r"^[0-9a-f]{64}$")


MAX_BULK = 100


@dataclass(frozen=True)
class CheckView:
    check: str
    score: float | None
    verdict: str
    reasons: list[str]
    evidence: list[dict[str, Any]]
    model: str


@dataclass(frozen=True)
class ModerationItem:
    id: str
    site: str
    thread_id: str
    status: str
    text: str
    author_name: str
    author_url: str | None
    author_email_masked: str | None
    author_key: str | None
    lang: str | None
    created_at: datetime
    reasons: list[str]
    checks: list[CheckView]


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


def _site_slugs(s: Session, site_ids: Iterable[int]) -> dict[int, str]:
    ids = set(site_ids)
    if not ids:
        return {}
    return dict(s.execute(select(Site.id, Site.slug).where(Site.id.in_(ids))).tuples().all())


def _items(svc: Services, s: Session, comments: Sequence[Comment]) -> list[ModerationItem]:
    ids = [c.id for c in comments]
    checks: dict[str, list[CheckView]] = {}
    if ids:
        for row in s.scalars(
            select(CheckResultRow)
            .where(CheckResultRow.comment_id.in_(ids))
            .order_by(CheckResultRow.check)
        ):
            checks.setdefault(row.comment_id, []).append(
                CheckView(
                    check=row.check,
                    score=row.score,
                    verdict=row.verdict,
                    reasons=list(row.reasons or ()),
                    evidence=[
                        {"start": e.get("start"), "end": e.get("end"), "label": e.get("label")}
                        for e in (row.evidence or ())
                        if isinstance(e, dict)
                    ],
                    model=row.model,
                )
            )
    slugs = _site_slugs(s, (c.site_id for c in comments))
    return [
        ModerationItem(
            id=c.id,
            site=slugs.get(c.site_id, ""),
            thread_id=c.thread_id,
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


def _audit_views(s: Session, rows: Sequence[AuditEvent]) -> list[AuditView]:
    slugs = _site_slugs(s, (r.site_id for r in rows))
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


@dataclass(frozen=True)
class QueuePage:
    items: list[ModerationItem]
    next_cursor: str | None


def list_queue(
    svc: Services, moderator: ModeratorRef, f: QueueFilter, limit: int, cursor: str | None
) -> QueuePage:
    """Comments of the moderator's sites matching ``f``, oldest first (created_at, id),
    keyset-paginated."""
    after = decode_cursor(cursor) if cursor else None
    with svc.sessions() as s:
        site_ids = {scoped_site(s, moderator, f.site).id} if f.site else set(moderator.site_ids)
        query = select(Comment).where(
            Comment.site_id.in_(site_ids), Comment.status == f.status.value
        )
        if f.lang:
            query = query.where(Comment.lang == f.lang)
        if f.check:
            query = query.where(
                exists().where(
                    CheckResultRow.comment_id == Comment.id,
                    CheckResultRow.check == f.check,
                    CheckResultRow.verdict != "clean",
                )
            )
        if f.reason:
            # reasons is a JSON list of snake_case codes: match the quoted code exactly.
            query = query.where(
                cast(Comment.reasons, String).contains(f'"{f.reason}"', autoescape=True)
            )
        if f.author_key:
            query = query.where(Comment.author_hash == f.author_key)
        if f.since:
            query = query.where(Comment.created_at >= f.since)
        if f.until:
            query = query.where(Comment.created_at < f.until)
        if after is not None:
            query = query.where(
                or_(
                    Comment.created_at > after[0],
                    and_(Comment.created_at == after[0], Comment.id > after[1]),
                )
            )
        rows = s.scalars(query.order_by(Comment.created_at, Comment.id).limit(limit + 1)).all()
        items = _items(svc, s, rows[:limit])
    next_cursor = (
        encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit and items else None
    )
    return QueuePage(items, next_cursor)


def get_for_moderation(svc: Services, moderator: ModeratorRef, comment_id: str) -> ModerationDetail:
    """One comment with its checks, its audit history and its author's history on the site."""
    with svc.sessions() as s:
        comment = s.get(Comment, comment_id)
        if comment is None or comment.site_id not in moderator.site_ids:
            raise NotFound()
        item = _items(svc, s, [comment])[0]
        history = _audit_views(
            s,
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.comment_id == comment.id)
                .order_by(AuditEvent.created_at, AuditEvent.id)
            ).all(),
        )
        return ModerationDetail(item, history, _author_history(s, svc.vault, comment))


def _author_history(s: Session, vault: Vault, comment: Comment) -> AuthorHistory:
    counts = {status.value: 0 for status in Status}
    recent: list[dict[str, Any]] = []
    if comment.author_hash:
        same_author = and_(
            Comment.site_id == comment.site_id, Comment.author_hash == comment.author_hash
        )
        for status, count in s.execute(
            select(Comment.status, func.count()).where(same_author).group_by(Comment.status)
        ).tuples():
            counts[status] = int(count)
        for other_id, thread_id, status, created_at in s.execute(
            select(Comment.id, Comment.thread_id, Comment.status, Comment.created_at)
            .where(same_author, Comment.id != comment.id)
            .order_by(Comment.created_at.desc())
            .limit(10)
        ).tuples():
            recent.append(
                {"id": other_id, "thread_id": thread_id, "status": status, "created_at": created_at}
            )
    return AuthorHistory(counts, is_known_spammer(s, vault, comment), recent)


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
    with svc.sessions() as s:
        query = select(AuditEvent)
        if comment_id:
            comment = s.get(Comment, comment_id)
            if comment is None or comment.site_id not in moderator.site_ids:
                raise NotFound()
            query = query.where(AuditEvent.comment_id == comment_id)
        site_ids = {scoped_site(s, moderator, site).id} if site else set(moderator.site_ids)
        query = query.where(AuditEvent.site_id.in_(site_ids))
        if after is not None:
            query = query.where(
                or_(
                    AuditEvent.created_at < after[0],
                    and_(AuditEvent.created_at == after[0], AuditEvent.id < int(after[1])),
                )
            )
        rows = s.scalars(
            query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit + 1)
        ).all()
        items = _audit_views(s, rows[:limit])
    next_cursor = (
        encode_cursor(items[-1].created_at, str(items[-1].id))
        if len(rows) > limit and items
        else None
    )
    return AuditPage(items, next_cursor)
