"""The moderators' dashboard figures: held comments per site, human decisions per day, and
the check verdicts moderators decided on. Read-only; every query is scoped to ``site_ids``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.models import AuditEvent, CheckResultRow, Comment, ModerationLabel
from service.domain.statuses import Status

# The audit actor of a human decision is "moderator:<id>" (the system's is "system").
MODERATOR_ACTOR = "moderator:%"


class DashboardQueries:
    def __init__(self, session: Session) -> None:
        self.s = session

    def held_per_site(self, site_ids: Iterable[int]) -> dict[int, tuple[int, datetime | None]]:
        """Site id → (held comments, when the oldest was submitted); sites without any held
        comment are absent."""
        ids = set(site_ids)
        if not ids:
            return {}
        rows = self.s.execute(
            select(Comment.site_id, func.count(), func.min(Comment.created_at))
            .where(Comment.site_id.in_(ids), Comment.status == Status.HELD.value)
            .group_by(Comment.site_id)
        ).tuples()
        return {site_id: (int(count), oldest) for site_id, count, oldest in rows}

    def moderator_decisions_per_day(
        self, site_ids: Iterable[int], since: datetime
    ) -> dict[str, int]:
        """ISO date (UTC) → status changes made by moderators on those sites since ``since``;
        days without any are absent."""
        ids = set(site_ids)
        if not ids:
            return {}
        day = func.date(AuditEvent.created_at)
        rows = self.s.execute(
            select(day, func.count())
            .where(
                AuditEvent.site_id.in_(ids),
                AuditEvent.actor.like(MODERATOR_ACTOR),
                AuditEvent.created_at >= since,
            )
            .group_by(day)
        ).tuples()
        return {str(d): int(n) for d, n in rows}

    def verdicts_against_decisions(
        self, site_ids: Iterable[int]
    ) -> list[tuple[str, str, str, str, int]]:
        """(check, language or "und", verdict, moderator action, count) for every comment a
        moderator labelled on those sites, one row per combination."""
        ids = set(site_ids)
        if not ids:
            return []
        lang = func.coalesce(Comment.lang, "und")
        rows = self.s.execute(
            select(
                CheckResultRow.check,
                lang,
                CheckResultRow.verdict,
                ModerationLabel.action,
                func.count(),
            )
            .join(Comment, Comment.id == ModerationLabel.comment_id)
            .join(CheckResultRow, CheckResultRow.comment_id == Comment.id)
            .where(ModerationLabel.site_id.in_(ids))
            .group_by(CheckResultRow.check, lang, CheckResultRow.verdict, ModerationLabel.action)
        ).tuples()
        return [
            (check, language, verdict, action, int(n))
            for check, language, verdict, action, n in rows
        ]
