"""The site-local spam memory: keyed hashes of authors, IPs and domains marked spam."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session

from service.db.engine import upsert
from service.db.models import SpamMemoryEntry

# A memory key: (kind, keyed hash), kind one of "author", "ip", "domain".
Key = tuple[str, str]


def _matching(site_id: int, keys: Sequence[Key]) -> Any:
    return and_(
        SpamMemoryEntry.site_id == site_id,
        or_(
            *(
                and_(SpamMemoryEntry.kind == kind, SpamMemoryEntry.key_hash == key)
                for kind, key in keys
            )
        ),
    )


class SpamMemory:
    def __init__(self, session: Session) -> None:
        self.s = session

    def has_any(self, site_id: int, keys: Sequence[Key]) -> bool:
        return bool(self.s.scalar(select(exists().where(_matching(site_id, keys)))))

    def found(self, site_ids: Iterable[int], hashes: Iterable[str]) -> set[tuple[int, str, str]]:
        """The (site id, kind, hash) entries among ``hashes`` on ``site_ids`` (one query)."""
        return {
            (row.site_id, row.kind, row.key_hash)
            for row in self.s.execute(
                select(
                    SpamMemoryEntry.site_id, SpamMemoryEntry.kind, SpamMemoryEntry.key_hash
                ).where(
                    SpamMemoryEntry.site_id.in_(set(site_ids)),
                    SpamMemoryEntry.key_hash.in_(set(hashes)),
                )
            )
        }

    def remember(self, site_id: int, key: Key, comment_id: str, now: datetime) -> None:
        """Count a spam hit for ``key`` (insert or increment: safe under concurrency)."""
        kind, key_hash = key
        upsert(
            self.s,
            SpamMemoryEntry,
            {
                "site_id": site_id,
                "kind": kind,
                "key_hash": key_hash,
                "hits": 1,
                "last_comment_id": comment_id,
                "created_at": now,
                "updated_at": now,
            },
            ["site_id", "kind", "key_hash"],
            {"hits": SpamMemoryEntry.hits + 1, "last_comment_id": comment_id, "updated_at": now},
        )

    def forget(self, site_id: int, keys: Sequence[Key]) -> None:
        self.s.execute(delete(SpamMemoryEntry).where(_matching(site_id, keys)))
