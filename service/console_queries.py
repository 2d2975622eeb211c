"""Reads the moderators' console needs that the JSON API has no use case for: the session
check (is the token behind a console session still valid?), the slugs of a moderator's sites
and the dashboard's figures. Read-only; scoped to the moderator's sites like every
moderation use case.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from service.db.models import (
    AuditEvent,
    CheckResultRow,
    Comment,
    ModerationLabel,
    Moderator,
    ModeratorSite,
    Site,
)
from service.domain.privacy import hash_token
from service.domain.statuses import Status
from service.moderation import ModeratorRef
from service.usecases import Services, utcnow

DASHBOARD_DAYS = 14


def session_fingerprint(svc: Services, token: str) -> str:
    """What a console session remembers of the moderator token: a keyed hash of its stored
    hash, so the cookie never carries the token or anything the database holds."""
    return svc.vault.keyed_hash("console-session", hash_token(token))


def moderator_for_session(
    svc: Services, moderator_id: int, fingerprint: str
) -> ModeratorRef | None:
    """The moderator a console session belongs to, while its token is still the one the
    session was opened with; None once the token is revoked or rotated (the session ends)."""
    with svc.sessions() as s:
        moderator = s.get(Moderator, moderator_id)
        if moderator is None or moderator.revoked_at is not None:
            return None
        expected = svc.vault.keyed_hash("console-session", moderator.token_hash)
        if not hmac.compare_digest(expected, fingerprint):
            return None
        site_ids = s.scalars(
            select(ModeratorSite.site_id).where(ModeratorSite.moderator_id == moderator.id)
        ).all()
        return ModeratorRef(moderator.id, moderator.name, frozenset(site_ids))


def site_slugs(svc: Services, moderator: ModeratorRef) -> list[str]:
    """The slugs of the moderator's sites, sorted."""
    if not moderator.site_ids:
        return []
    with svc.sessions() as s:
        return sorted(s.scalars(select(Site.slug).where(Site.id.in_(moderator.site_ids))).all())


@dataclass(frozen=True)
class QueueStat:
    site: str
    held: int
    oldest_at: datetime | None


@dataclass(frozen=True)
class OverturnStat:
    """Moderator decisions on comments a check had scored, for one (check, language):
    ``flagged`` the check did not find clean; ``approved_flagged`` of those a moderator
    approved (a false alarm); ``missed`` clean by the check yet rejected or marked spam."""

    check: str
    lang: str
    decided: int
    flagged: int
    approved_flagged: int
    clean: int
    missed: int

    @property
    def overturn_rate(self) -> float | None:
        return (self.approved_flagged + self.missed) / self.decided if self.decided else None


@dataclass(frozen=True)
class DashboardView:
    now: datetime
    queue: list[QueueStat]
    decisions_per_day: list[tuple[str, int]]
    overturns: list[OverturnStat]


def dashboard(svc: Services, moderator: ModeratorRef) -> DashboardView:
    """Queue size and age per site, human decisions per day (last 14 days) and how often
    moderators overturned each check, per language, on the moderator's sites."""
    now = utcnow()
    site_ids = set(moderator.site_ids)
    with svc.sessions() as s:
        slugs = dict(
            s.execute(select(Site.id, Site.slug).where(Site.id.in_(site_ids))).tuples().all()
        )
        held = {
            site_id: (int(count), oldest)
            for site_id, count, oldest in s.execute(
                select(Comment.site_id, func.count(), func.min(Comment.created_at))
                .where(Comment.site_id.in_(site_ids), Comment.status == Status.HELD.value)
                .group_by(Comment.site_id)
            ).tuples()
        }
        queue = [
            QueueStat(slug, *held.get(site_id, (0, None)))
            for site_id, slug in sorted(slugs.items(), key=lambda kv: kv[1])
        ]
        days = _decisions_per_day(s, site_ids, now)
        overturns = _overturns(s, site_ids)
    return DashboardView(now, queue, days, overturns)


def _decisions_per_day(s: Any, site_ids: set[int], now: datetime) -> list[tuple[str, int]]:
    since = (now - timedelta(days=DASHBOARD_DAYS - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    day = func.date(AuditEvent.created_at)
    counted = {
        str(d): int(n)
        for d, n in s.execute(
            select(day, func.count())
            .where(
                AuditEvent.site_id.in_(site_ids),
                AuditEvent.actor.like("moderator:%"),
                AuditEvent.created_at >= since,
            )
            .group_by(day)
        ).tuples()
    }
    dates = [(since + timedelta(days=i)).date().isoformat() for i in range(DASHBOARD_DAYS)]
    return [(d, counted.get(d, 0)) for d in reversed(dates)]


def _overturns(s: Any, site_ids: set[int]) -> list[OverturnStat]:
    lang = func.coalesce(Comment.lang, "und")
    rows = s.execute(
        select(
            CheckResultRow.check, lang, CheckResultRow.verdict, ModerationLabel.action, func.count()
        )
        .join(Comment, Comment.id == ModerationLabel.comment_id)
        .join(CheckResultRow, CheckResultRow.comment_id == Comment.id)
        .where(ModerationLabel.site_id.in_(site_ids))
        .group_by(CheckResultRow.check, lang, CheckResultRow.verdict, ModerationLabel.action)
    ).tuples()
    table: dict[tuple[str, str], dict[str, int]] = {}
    for check, language, verdict, action, count in rows:
        cell = table.setdefault(
            (check, language), {"flagged": 0, "approved_flagged": 0, "clean": 0, "missed": 0}
        )
        if verdict != "clean":
            cell["flagged"] += count
            cell["approved_flagged"] += count if action == "approve" else 0
        else:
            cell["clean"] += count
            cell["missed"] += count if action != "approve" else 0
    return [
        OverturnStat(check, language, c["flagged"] + c["clean"], **c)
        for (check, language), c in sorted(table.items())
    ]
