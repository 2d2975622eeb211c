"""Idempotency-Key records: which comment a site's key created, and with which request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from service.db.models import Comment, IdempotencyRecord


class IdempotencyRecords:
    def __init__(self, session: Session) -> None:
        self.s = session

    def find(self, site_id: int, key: str) -> Row[Any] | None:
        """The record of ``key`` on the site with its comment's ``thread_id`` and
        ``created_at``: a row ``(record, thread_id, created_at)``, or None."""
        return self.s.execute(
            select(IdempotencyRecord, Comment.thread_id, Comment.created_at)
            .join(Comment, Comment.id == IdempotencyRecord.comment_id)
            .where(IdempotencyRecord.site_id == site_id, IdempotencyRecord.key == key)
        ).first()

    def delete_for_comments(self, comment_ids: Sequence[str]) -> int:
        """Forget the Idempotency-Keys that created these comments (erasure)."""
        if not comment_ids:
            return 0
        result = self.s.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.comment_id.in_(comment_ids))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def purge(self, created_before: datetime) -> int:
        result = self.s.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < created_before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
