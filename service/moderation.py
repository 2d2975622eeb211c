"""Moderation use cases: moderator credentials, the review queue, decisions with their audit
trail, the versioned site policy, labels the detectors retrain on, and the site-local spam
memory. Each use case opens one unit of work and commits once.

Tenancy: a moderator sees only the sites it was created for. A comment of another site is
simply not found (404); a ``site`` parameter naming another site is forbidden (403).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import regex
from sqlalchemy import String, and_, cast, delete, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.models import (
    AuditEvent,
    CheckResultRow,
    Comment,
    ModerationLabel,
    Moderator,
    ModeratorSite,
    Site,
    SitePolicyVersion,
    SpamMemoryEntry,
)
from service.domain.policy import validate_overrides
from service.domain.privacy import Vault, hash_token, mask_email
from service.domain.statuses import Status, can_transition
from service.usecases import (
    InvalidCursor,
    NotFound,
    Services,
    UseCaseError,
    _decode_cursor,
    _encode_cursor,
    site_policy,
    transition,
    utcnow,
)
from service.webhooks import send_after_commit

ACTIONS: dict[str, Status] = {
    "approve": Status.PUBLISHED,
    "reject": Status.REJECTED,
    "spam": Status.SPAM,
}
# The stable reason a human decision leaves on the comment (the moderator's own code follows).
ACTION_REASONS = {
    "approve": "approved_by_moderator",
    "reject": "rejected_by_moderator",
    "spam": "spam_by_moderator",
}
# How a moderator's action becomes a training label per check (`commentmod labels export`).
LABELS: dict[str, dict[str, str]] = {
    "spam": {"spam": "spam", "approve": "ham"},
    "toxicity": {"reject": "toxic", "approve": "ok"},
}
REASON_CODE = regex.compile(r"^[a-z][a-z0-9_]{0,63}$")
AUTHOR_KEY = regex.compile(r"^[0-9a-f]{64}$")
MAX_BULK = 100
# Domains linked from a comment (scheme or www. prefix), for the spam memory.
_LINKED_HOST = regex.compile(r"(?i)(?:https?://|\bwww\.)([a-z0-9\-\.]+\.[a-z]{2,63})")
MAX_DOMAINS = 20


# --- errors ---------------------------------------------------------------------------------


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


# --- moderators -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModeratorRef:
    id: int
    name: str
    site_ids: frozenset[int]

    @property
    def actor(self) -> str:
        return f"moderator:{self.id}"


def authenticate_moderator(svc: Services, token: str) -> ModeratorRef | None:
    """The moderator holding ``token``; None when unknown or revoked."""
    with svc.sessions() as s:
        moderator = s.scalar(select(Moderator).where(Moderator.token_hash == hash_token(token)))
        if moderator is None or moderator.revoked_at is not None:
            return None
        site_ids = s.scalars(
            select(ModeratorSite.site_id).where(ModeratorSite.moderator_id == moderator.id)
        ).all()
        return ModeratorRef(moderator.id, moderator.name, frozenset(site_ids))


def revoke_moderator(svc: Services, moderator_id: int) -> bool:
    """Revoke a moderator's token (its audit trail stays). False when already revoked."""
    with svc.unit_of_work() as s:
        moderator = s.get(Moderator, moderator_id)
        if moderator is None:
            raise NotFound("unknown moderator")
        if moderator.revoked_at is not None:
            return False
        moderator.revoked_at = utcnow()
        return True


def _scoped_site(s: Session, moderator: ModeratorRef | None, slug: str) -> Site:
    site = s.scalar(select(Site).where(Site.slug == slug))
    if moderator is None:  # the CLI (operator) may reach every site
        if site is None:
            raise NotFound("unknown site")
        return site
    if site is None or site.id not in moderator.site_ids:
        raise Forbidden()
    return site


# --- views ----------------------------------------------------------------------------------


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


# --- the queue ------------------------------------------------------------------------------


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
    after = _decode_cursor(cursor) if cursor else None
    with svc.sessions() as s:
        site_ids = {_scoped_site(s, moderator, f.site).id} if f.site else set(moderator.site_ids)
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
        _encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit and items else None
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


# --- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionResult:
    id: str
    status: str
    previous_status: str


def decide_comment(
    svc: Services,
    moderator: ModeratorRef,
    comment_id: str,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    expected_status: Status | None = None,
) -> DecisionResult:
    """A moderator's decision: a guarded transition plus its audit row, label, spam memory
    and webhook event, in one transaction. Raises :class:`StaleDecision` when the comment's
    status is not ``expected_status`` (or changed while deciding), :class:`InvalidDecision`
    for a decision the transition table refuses, :class:`NotFound` outside the moderator's
    sites."""
    with svc.unit_of_work() as s:
        result = _decide_one(svc, s, moderator, comment_id, action, reason, note, expected_status)
    send_after_commit(svc, s)
    return result


@dataclass(frozen=True)
class BulkResult:
    id: str
    status: str | None = None
    previous_status: str | None = None
    error: str | None = None


def decide_many(
    svc: Services,
    moderator: ModeratorRef,
    comment_ids: Sequence[str],
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
) -> list[BulkResult]:
    """The same decision for many comments; each is its own transaction, so one stale or
    invalid comment does not undo the others. Results keep the request's order."""
    results: list[BulkResult] = []
    for comment_id in dict.fromkeys(comment_ids):
        try:
            done = decide_comment(svc, moderator, comment_id, action, reason=reason, note=note)
        except NotFound:
            results.append(BulkResult(comment_id, error="not_found"))
        except StaleDecision:
            results.append(BulkResult(comment_id, error="stale_decision"))
        except InvalidDecision as exc:
            results.append(BulkResult(comment_id, error=exc.code))
        else:
            results.append(BulkResult(comment_id, done.status, done.previous_status))
    return results


def _decide_one(
    svc: Services,
    s: Session,
    moderator: ModeratorRef,
    comment_id: str,
    action: str,
    reason: str | None,
    note: str | None,
    expected: Status | None,
) -> DecisionResult:
    target = ACTIONS[action]
    comment = s.get(Comment, comment_id)
    if comment is None or comment.site_id not in moderator.site_ids:
        raise NotFound()
    current = Status(comment.status)
    if expected is not None and current is not expected:
        raise StaleDecision()
    if current is Status.PENDING:
        raise InvalidDecision("comment_pending")
    if current is target:
        raise InvalidDecision("already_in_status")
    if not can_transition(current, target):
        raise InvalidDecision("invalid_transition")
    now = utcnow()
    reasons = [ACTION_REASONS[action], *([reason] if reason else [])]
    if not transition(s, comment, current, target, reasons, moderator.actor, now, note):
        raise StaleDecision()  # another decision won the race between our read and update
    _upsert(
        s,
        ModerationLabel,
        {
            "comment_id": comment.id,
            "site_id": comment.site_id,
            "action": action,
            "actor": moderator.actor,
            "updated_at": now,
        },
        ["comment_id"],
        {"action": action, "actor": moderator.actor, "updated_at": now},
    )
    if action == "spam":
        remember_spam(s, svc.vault, comment, now)
    elif action == "approve":
        forget_spam(s, svc.vault, comment)
    return DecisionResult(comment.id, target.value, current.value)


# --- audit ----------------------------------------------------------------------------------


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
    after = _decode_cursor(cursor) if cursor else None
    if after is not None and not after[1].isdigit():
        raise InvalidCursor()
    with svc.sessions() as s:
        query = select(AuditEvent)
        if comment_id:
            comment = s.get(Comment, comment_id)
            if comment is None or comment.site_id not in moderator.site_ids:
                raise NotFound()
            query = query.where(AuditEvent.comment_id == comment_id)
        site_ids = {_scoped_site(s, moderator, site).id} if site else set(moderator.site_ids)
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
        _encode_cursor(items[-1].created_at, str(items[-1].id))
        if len(rows) > limit and items
        else None
    )
    return AuditPage(items, next_cursor)


# --- site policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyVersionView:
    version: int
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class PolicyView:
    site: str
    version: int
    overrides: dict[str, Any]
    effective: dict[str, Any]
    updated_by: str | None
    updated_at: datetime | None
    history: list[PolicyVersionView]


def _policy_view(svc: Services, s: Session, site: Site) -> PolicyView:
    versions = s.scalars(
        select(SitePolicyVersion)
        .where(SitePolicyVersion.site_id == site.id)
        .order_by(SitePolicyVersion.version.desc())
        .limit(20)
    ).all()
    latest = versions[0] if versions else None
    return PolicyView(
        site=site.slug,
        version=latest.version if latest else 0,
        overrides=dict(site.policy or {}),
        effective=site_policy(svc, site.policy).as_document(),
        updated_by=latest.actor if latest else None,
        updated_at=latest.created_at if latest else None,
        history=[PolicyVersionView(v.version, v.actor, v.created_at) for v in versions],
    )


def get_site_policy(svc: Services, moderator: ModeratorRef | None, slug: str) -> PolicyView:
    """A site's policy: its overrides, the effective policy and recent versions. ``moderator``
    None is the operator (CLI)."""
    with svc.sessions() as s:
        return _policy_view(svc, s, _scoped_site(s, moderator, slug))


def update_site_policy(
    svc: Services,
    moderator: ModeratorRef | None,
    slug: str,
    overrides: Any,
    *,
    actor: str,
    expected_version: int | None = None,
) -> PolicyView:
    """Replace a site's overrides with a validated document and record it as the next
    version. Raises :class:`~service.domain.policy.PolicyInvalid` (422) or
    :class:`PolicyConflict` (409) when ``expected_version`` is not the current one."""
    try:
        with svc.unit_of_work() as s:
            site = _scoped_site(s, moderator, slug)
            clean = validate_overrides(overrides)
            current = s.scalar(
                select(func.max(SitePolicyVersion.version)).where(
                    SitePolicyVersion.site_id == site.id
                )
            )
            current = int(current or 0)
            if expected_version is not None and expected_version != current:
                raise PolicyConflict()
            site.policy = clean
            s.add(
                SitePolicyVersion(
                    site_id=site.id,
                    version=current + 1,
                    policy=clean,
                    actor=actor,
                    created_at=utcnow(),
                )
            )
            s.flush()
            return _policy_view(svc, s, site)
    except IntegrityError as exc:  # a concurrent writer took this version number
        raise PolicyConflict() from exc


# --- labels ---------------------------------------------------------------------------------


def export_labels(svc: Services, slug: str, check: str, out: IO[str]) -> int:
    """Write the site's moderator labels for ``check`` as CSV ``text,label,lang`` (the format
    ``commentmod evaluate`` and the detectors' training read). Returns the row count."""
    mapping = LABELS[check]
    writer = csv.writer(out)
    writer.writerow(["text", "label", "lang"])
    count = 0
    with svc.sessions() as s:
        site = _scoped_site(s, None, slug)
        rows = s.execute(
            select(Comment.text, ModerationLabel.action, Comment.lang)
            .join(Comment, Comment.id == ModerationLabel.comment_id)
            .where(ModerationLabel.site_id == site.id, ModerationLabel.action.in_(mapping))
            .order_by(ModerationLabel.updated_at, ModerationLabel.comment_id)
        ).tuples()
        for text, action, lang in rows:
            writer.writerow([text, mapping[action], lang or ""])
            count += 1
    return count


# --- spam memory ----------------------------------------------------------------------------


def linked_domains(text: str, author_url: str | None) -> list[str]:
    """Host names a comment links to (its text and the author's URL), lower case, no www."""
    hosts = [m.group(1) for m in _LINKED_HOST.finditer(text or "")]
    if author_url:
        hosts += [m.group(1) for m in _LINKED_HOST.finditer(author_url)]
    cleaned = (h.lower().strip(".").removeprefix("www.") for h in hosts)
    return list(dict.fromkeys(h for h in cleaned if "." in h))[:MAX_DOMAINS]


def _memory_keys(vault: Vault, comment: Comment) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if comment.author_hash:
        keys.append(("author", comment.author_hash))
    if comment.ip_hash:
        keys.append(("ip", comment.ip_hash))
    keys += [
        ("domain", vault.keyed_hash("domain", d))
        for d in linked_domains(comment.text, comment.author_url)
    ]
    return keys


def _matching(site_id: int, keys: list[tuple[str, str]]) -> Any:
    return and_(
        SpamMemoryEntry.site_id == site_id,
        or_(
            *(
                and_(SpamMemoryEntry.kind == kind, SpamMemoryEntry.key_hash == key)
                for kind, key in keys
            )
        ),
    )


def is_known_spammer(s: Session, vault: Vault, comment: Comment) -> bool:
    """True when the comment's author, IP or a linked domain was marked spam on its site."""
    keys = _memory_keys(vault, comment)
    if not keys:
        return False
    return s.scalar(select(exists().where(_matching(comment.site_id, keys)))) or False


def known_spammers(s: Session, vault: Vault, comments: Sequence[Comment]) -> set[str]:
    """:func:`is_known_spammer` for a batch: the ids of the comments whose author, IP or a
    linked domain was marked spam on their site, in one query."""
    keys = {c.id: _memory_keys(vault, c) for c in comments}
    hashes = {key for comment_keys in keys.values() for _, key in comment_keys}
    if not hashes:
        return set()
    found = {
        (row.site_id, row.kind, row.key_hash)
        for row in s.execute(
            select(SpamMemoryEntry.site_id, SpamMemoryEntry.kind, SpamMemoryEntry.key_hash).where(
                SpamMemoryEntry.site_id.in_({c.site_id for c in comments}),
                SpamMemoryEntry.key_hash.in_(hashes),
            )
        )
    }
    if not found:
        return set()
    return {
        c.id for c in comments if any((c.site_id, kind, key) in found for kind, key in keys[c.id])
    }


def remember_spam(s: Session, vault: Vault, comment: Comment, now: datetime) -> None:
    for kind, key in _memory_keys(vault, comment):
        _upsert(
            s,
            SpamMemoryEntry,
            {
                "site_id": comment.site_id,
                "kind": kind,
                "key_hash": key,
                "hits": 1,
                "last_comment_id": comment.id,
                "created_at": now,
                "updated_at": now,
            },
            ["site_id", "kind", "key_hash"],
            {
                "hits": SpamMemoryEntry.hits + 1,
                "last_comment_id": comment.id,
                "updated_at": now,
            },
        )


def forget_spam(s: Session, vault: Vault, comment: Comment) -> None:
    """A moderator approved this comment: its author, IP and domains are not spam sources."""
    keys = _memory_keys(vault, comment)
    if keys:
        s.execute(delete(SpamMemoryEntry).where(_matching(comment.site_id, keys)))


def published_count(s: Session, comment: Comment, cap: int) -> int:
    """Published comments of the comment's author on its site (counting stops at ``cap``)."""
    if comment.author_hash is None:
        return 0
    ids = (
        select(Comment.id)
        .where(
            Comment.site_id == comment.site_id,
            Comment.author_hash == comment.author_hash,
            Comment.status == Status.PUBLISHED.value,
            Comment.id != comment.id,
        )
        .limit(cap)
        .subquery()
    )
    return int(s.scalar(select(func.count()).select_from(ids)) or 0)


def _upsert(
    s: Session,
    model: Any,
    values: dict[str, Any],
    keys: list[str],
    on_conflict: dict[str, Any],
) -> None:
    """INSERT … ON CONFLICT DO UPDATE (PostgreSQL and SQLite): safe under concurrency."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(model).values(**values)
    s.execute(statement.on_conflict_do_update(index_elements=keys, set_=on_conflict))


def erase_from_spam_memory(s: Session, site_id: int, author_hash: str) -> None:
    """Erasure: forget an author key in the site's spam memory (inside the erasure's
    transaction, with the author hash computed before it is replaced)."""
    s.execute(
        delete(SpamMemoryEntry).where(
            SpamMemoryEntry.site_id == site_id,
            SpamMemoryEntry.kind == "author",
            SpamMemoryEntry.key_hash == author_hash,
        )
    )
