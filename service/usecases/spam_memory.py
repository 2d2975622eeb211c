"""The site-local spam memory (authors, IPs and linked domains a moderator marked spam) and
the author counts the policy reads. Called inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import regex
from sqlalchemy import (
    and_,
    delete,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from service.db.engine import upsert
from service.db.models import (
    Comment,
    SpamMemoryEntry,
)
from service.domain.privacy import (
    Vault,
)
from service.domain.statuses import Status

# Domains linked from a comment (scheme or www. prefix), for the spam memory.
_LINKED_HOST = regex.compile(r"(?i)(?:https?://|\bwww\.)([a-z0-9\-\.]+\.[a-z]{2,63})")


MAX_DOMAINS = 20


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
        upsert(
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


def has_published(s: Session, comment: Comment) -> bool:
    if comment.author_hash is None:
        return False
    return (
        s.scalar(
            select(Comment.id)
            .where(
                Comment.site_id == comment.site_id,
                Comment.author_hash == comment.author_hash,
                Comment.status == Status.PUBLISHED.value,
            )
            .limit(1)
        )
        is not None
    )
