"""The audit trail: one row per status change (and per erasure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from service.db.models import AuditEvent
from service.db.tables import AUDIT


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(
        self,
        comment_id: str,
        site_id: int,
        actor: str,
        from_status: str,
        to_status: str,
        reasons: Sequence[str],
        now: datetime,
        note: str | None = None,
    ) -> None:
        self.s.add(
            AuditEvent(
                comment_id=comment_id,
                site_id=site_id,
                actor=actor,
                from_status=from_status,
                to_status=to_status,
                reasons=list(reasons),
                note=note,
                created_at=now,
            )
        )

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """One multi-row INSERT of audit rows (column names as keys)."""
        if rows:
            self.s.execute(insert(AUDIT), list(rows))

    def of_comment(self, comment_id: str) -> Sequence[AuditEvent]:
        return self.s.scalars(
            select(AuditEvent)
            .where(AuditEvent.comment_id == comment_id)
            .order_by(AuditEvent.created_at, AuditEvent.id)
        ).all()

    def page(
        self,
        site_ids: set[int],
        comment_id: str | None,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> Sequence[AuditEvent]:
        """Up to ``limit`` rows of ``site_ids`` (and of ``comment_id`` when given), newest
        first, strictly after the keyset ``after`` (created_at, id)."""
        query = select(AuditEvent).where(AuditEvent.site_id.in_(site_ids))
        if comment_id:
            query = query.where(AuditEvent.comment_id == comment_id)
        if after is not None:
            query = query.where(
                or_(
                    AuditEvent.created_at < after[0],
                    and_(AuditEvent.created_at == after[0], AuditEvent.id < after[1]),
                )
            )
        return self.s.scalars(
            query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
        ).all()
