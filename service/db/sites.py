"""Sites: their keys, webhooks and versioned policy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.models import Site, SitePolicyVersion

POLICY_HISTORY = 20


class Sites:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, slug: str, name: str, api_key_hash: str) -> Site:
        """A new site (flushed, so it has its id; a taken slug raises ``Conflict``)."""
        site = Site(slug=slug, name=name, api_key_hash=api_key_hash, policy={})
        self.s.add(site)
        self.s.flush()
        return site

    def get(self, site_id: int) -> Site | None:
        return self.s.get(Site, site_id)

    def by_slug(self, slug: str) -> Site | None:
        return self.s.scalar(select(Site).where(Site.slug == slug))

    def all(self) -> Sequence[Site]:
        return self.s.scalars(select(Site).order_by(Site.slug)).all()

    def by_slugs(self, slugs: Sequence[str]) -> Sequence[Site]:
        return self.s.scalars(select(Site).where(Site.slug.in_(slugs))).all()

    def by_api_key_hash(self, key_hash: str) -> Site | None:
        return self.s.scalar(select(Site).where(Site.api_key_hash == key_hash))

    def slugs(self, site_ids: Iterable[int]) -> dict[int, str]:
        ids = set(site_ids)
        if not ids:
            return {}
        rows = self.s.execute(select(Site.id, Site.slug).where(Site.id.in_(ids))).tuples()
        return dict(rows.all())

    def with_webhook_secrets(self) -> Sequence[Site]:
        """Every site holding a webhook secret, locked for re-encryption."""
        return self.s.scalars(
            select(Site).where(Site.webhook_secret_encrypted.is_not(None)).with_for_update()
        ).all()

    def policy_versions(self, site_id: int) -> Sequence[SitePolicyVersion]:
        """The most recent versions of a site's policy, newest first."""
        return self.s.scalars(
            select(SitePolicyVersion)
            .where(SitePolicyVersion.site_id == site_id)
            .order_by(SitePolicyVersion.version.desc())
            .limit(POLICY_HISTORY)
        ).all()

    def current_policy_version(self, site_id: int) -> int:
        current = self.s.scalar(
            select(func.max(SitePolicyVersion.version)).where(SitePolicyVersion.site_id == site_id)
        )
        return int(current or 0)

    def add_policy_version(
        self, site: Site, version: int, policy: dict[str, Any], actor: str, now: datetime
    ) -> None:
        """Store ``policy`` as the site's overrides and as version ``version`` (a concurrent
        writer of the same version raises ``Conflict`` at the flush)."""
        site.policy = policy
        self.s.add(
            SitePolicyVersion(
                site_id=site.id, version=version, policy=policy, actor=actor, created_at=now
            )
        )
        self.s.flush()
