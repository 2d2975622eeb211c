"""Read-only queries behind the Prometheus figures read at scrape time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased

from service.db.models import AuditEvent, CheckJob, CheckResultRow, Comment, Site, WebhookDelivery
from service.domain.statuses import Status


class MetricsQueries:
    def __init__(self, session: Session) -> None:
        self.s = session

    def unfinished_checks(self) -> tuple[int, datetime | None]:
        """How many check jobs are unfinished, and when the oldest was created."""
        count, oldest = self.s.execute(
            select(func.count(CheckJob.id), func.min(CheckJob.created_at)).where(
                CheckJob.completed_at.is_(None)
            )
        ).one()
        return int(count), oldest

    def decided_since(self, since: datetime, limit: int) -> list[Row[Any]]:
        """``(created_at, decided_at)`` of comments decided automatically since ``since``."""
        return list(
            self.s.execute(
                select(Comment.created_at, Comment.decided_at)
                .where(Comment.decided_at > since, Comment.status != Status.PENDING.value)
                .limit(limit)
            ).all()
        )

    def check_durations_since(self, since: datetime, limit: int) -> list[Row[Any]]:
        """``(check, duration_ms)`` of results recorded since ``since``."""
        return list(
            self.s.execute(
                select(CheckResultRow.check, CheckResultRow.duration_ms)
                .where(CheckResultRow.created_at > since, CheckResultRow.duration_ms.is_not(None))
                .limit(limit)
            ).all()
        )

    def held_by_site(self) -> list[Row[Any]]:
        """``(site slug, held comments)`` per site."""
        return list(
            self.s.execute(
                select(Site.slug, func.count(Comment.id))
                .join(Comment, Comment.site_id == Site.id)
                .where(Comment.status == Status.HELD.value)
                .group_by(Site.slug)
            ).all()
        )

    def human_decisions_since(self, since: datetime, limit: int) -> list[Row[Any]]:
        """Moderator decisions since ``since``: ``(to_status, decided at, comment created at,
        the automatic decision's to_status, its reasons)``."""
        system = aliased(AuditEvent)
        return list(
            self.s.execute(
                select(
                    AuditEvent.to_status,
                    AuditEvent.created_at,
                    Comment.created_at,
                    system.to_status,
                    system.reasons,
                )
                .join(Comment, Comment.id == AuditEvent.comment_id)
                .join(
                    system,
                    (system.comment_id == AuditEvent.comment_id)
                    & (system.from_status == Status.PENDING.value)
                    # the checks' decision, not an imported comment's state (actor import:…)
                    & (system.actor == "system"),
                )
                .where(AuditEvent.actor.like("moderator:%"), AuditEvent.created_at > since)
                .limit(limit)
            ).all()
        )

    def undelivered_webhooks(self) -> tuple[int, datetime | None]:
        """How many webhook events are neither delivered nor given up, and the oldest."""
        count, oldest = self.s.execute(
            select(func.count(WebhookDelivery.id), func.min(WebhookDelivery.created_at)).where(
                WebhookDelivery.delivered_at.is_(None), WebhookDelivery.given_up_at.is_(None)
            )
        ).one()
        return int(count), oldest
