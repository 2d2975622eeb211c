"""The site-local spam memory (authors, IPs and linked domains a moderator marked spam) and
its keys. Called inside the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import regex

from service.db.models import (
    Comment,
)
from service.db.spam_memory import Key
from service.db.storage import UnitOfWork
from service.domain.privacy import (
    Vault,
)

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


def memory_keys(vault: Vault, comment: Comment) -> list[Key]:
    """The spam memory keys of a comment: its author, its IP and each linked domain."""
    keys: list[Key] = []
    if comment.author_hash:
        keys.append(("author", comment.author_hash))
    if comment.ip_hash:
        keys.append(("ip", comment.ip_hash))
    keys += [
        ("domain", vault.keyed_hash("domain", d))
        for d in linked_domains(comment.text, comment.author_url)
    ]
    return keys


def is_known_spammer(uow: UnitOfWork, vault: Vault, comment: Comment) -> bool:
    """True when the comment's author, IP or a linked domain was marked spam on its site."""
    keys = memory_keys(vault, comment)
    return bool(keys) and uow.spam_memory.has_any(comment.site_id, keys)


def known_spammers(uow: UnitOfWork, vault: Vault, comments: Sequence[Comment]) -> set[str]:
    """:func:`is_known_spammer` for a batch: the ids of the comments whose author, IP or a
    linked domain was marked spam on their site, in one query."""
    keys = {c.id: memory_keys(vault, c) for c in comments}
    hashes = {key for comment_keys in keys.values() for _, key in comment_keys}
    if not hashes:
        return set()
    found = uow.spam_memory.found({c.site_id for c in comments}, hashes)
    if not found:
        return set()
    return {
        c.id for c in comments if any((c.site_id, kind, key) in found for kind, key in keys[c.id])
    }


def remember_spam(uow: UnitOfWork, vault: Vault, comment: Comment, now: datetime) -> None:
    """A moderator marked this comment spam: remember its author, IP and domains."""
    for key in memory_keys(vault, comment):
        uow.spam_memory.remember(comment.site_id, key, comment.id, now)


def forget_spam(uow: UnitOfWork, vault: Vault, comment: Comment) -> None:
    """A moderator approved this comment: its author, IP and domains are not spam sources."""
    keys = memory_keys(vault, comment)
    if keys:
        uow.spam_memory.forget(comment.site_id, keys)
