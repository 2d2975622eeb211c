"""What the moderators' console needs beyond the JSON API's use cases: the session check (is
the token behind a console session still valid?), the slugs of a moderator's sites and the
dashboard's figures. Read-only; scoped to the moderator's sites like every moderation use
case. The SQL is in :mod:`service.db.dashboard` and :mod:`service.db.moderators`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.domain.privacy import hash_token
from service.usecases.services import ModeratorRef, Services, utcnow

DASHBOARD_DAYS = 14
# The purpose string of the keyed hash a console session keeps of the moderator's token.
SESSION_PURPOSE = "console-session"


def session_fingerprint(svc: Services, token: str) -> str:
    """What a console session remembers of the moderator token: a keyed hash of its stored
    hash, so the cookie never carries the token or anything the database holds."""
    return svc.vault.keyed_hash(SESSION_PURPOSE, hash_token(token))


def moderator_for_session(
    svc: Services, moderator_id: int, fingerprint: str
) -> ModeratorRef | None:
    """The moderator a console session belongs to, while its token is still the one the
    session was opened with; None once the token is revoked or rotated (the session ends)."""
    with svc.uow() as uow:
        moderator = uow.moderators.active(moderator_id)
        if moderator is None:
            return None
        expected = svc.vault.keyed_hash(SESSION_PURPOSE, moderator.token_hash)
        if not hmac.compare_digest(expected, fingerprint):
            return None
        return ModeratorRef(moderator.id, moderator.name, uow.moderators.site_ids(moderator.id))


def site_slugs(svc: Services, moderator: ModeratorRef) -> list[str]:
    """The slugs of the moderator's sites, sorted."""
    if not moderator.site_ids:
        return []
    with svc.uow() as uow:
        return sorted(uow.sites.slugs(moderator.site_ids).values())


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
    decisions_per_day: list[tuple[str, int]]  # newest day first, DASHBOARD_DAYS of them
    overturns: list[OverturnStat]


def dashboard(svc: Services, moderator: ModeratorRef) -> DashboardView:
    """Queue size and age per site, human decisions per day (last 14 days) and how often
    moderators overturned each check, per language, on the moderator's sites."""
    now = utcnow()
    site_ids = set(moderator.site_ids)
    since = (now - timedelta(days=DASHBOARD_DAYS - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    with svc.uow() as uow:
        slugs = uow.sites.slugs(site_ids)
        held = uow.dashboard.held_per_site(site_ids)
        counted = uow.dashboard.moderator_decisions_per_day(site_ids, since)
        verdicts = uow.dashboard.verdicts_against_decisions(site_ids)
    queue = [
        QueueStat(slug, *held.get(site_id, (0, None)))
        for site_id, slug in sorted(slugs.items(), key=lambda kv: kv[1])
    ]
    dates = [(since + timedelta(days=i)).date().isoformat() for i in range(DASHBOARD_DAYS)]
    days = [(d, counted.get(d, 0)) for d in reversed(dates)]
    return DashboardView(now, queue, days, _overturns(verdicts))


def _overturns(rows: list[tuple[str, str, str, str, int]]) -> list[OverturnStat]:
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
