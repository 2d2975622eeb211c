"""Moderators and the sites each may moderate."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import Moderator, ModeratorSite, Site


class Moderators:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, name: str, token_hash: str, sites: Sequence[Site]) -> Moderator:
        moderator = Moderator(name=name, token_hash=token_hash)
        self.s.add(moderator)
        self.s.flush()
        self.s.add_all(ModeratorSite(moderator_id=moderator.id, site_id=site.id) for site in sites)
        return moderator

    def get(self, moderator_id: int) -> Moderator | None:
        return self.s.get(Moderator, moderator_id)

    def active(self, moderator_id: int) -> Moderator | None:
        """The moderator, unless unknown or revoked (a console session re-checks it)."""
        return self.s.scalar(
            select(Moderator).where(Moderator.id == moderator_id, Moderator.revoked_at.is_(None))
        )

    def all(self) -> Sequence[Moderator]:
        return self.s.scalars(select(Moderator).order_by(Moderator.id)).all()

    def site_slugs(self) -> dict[int, list[str]]:
        """Every moderator's site slugs, by moderator id (one query)."""
        rows = self.s.execute(
            select(ModeratorSite.moderator_id, Site.slug)
            .join(Site, Site.id == ModeratorSite.site_id)
            .order_by(Site.slug)
        ).tuples()
        slugs: dict[int, list[str]] = {}
        for moderator_id, slug in rows:
            slugs.setdefault(moderator_id, []).append(slug)
        return slugs

    def by_token_hash(self, token_hash: str) -> Moderator | None:
        return self.s.scalar(select(Moderator).where(Moderator.token_hash == token_hash))

    def site_ids(self, moderator_id: int) -> frozenset[int]:
        return frozenset(
            self.s.scalars(
                select(ModeratorSite.site_id).where(ModeratorSite.moderator_id == moderator_id)
            ).all()
        )
