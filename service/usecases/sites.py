"""Sites and moderators: creation, authentication, scoping and the effective policy."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.models import (
    Moderator,
    ModeratorSite,
    Site,
)
from service.domain.policy import Policy
from service.domain.privacy import (
    hash_token,
    new_token,
)
from service.usecases.services import (
    Forbidden,
    ModeratorRef,
    NotFound,
    Services,
    SiteExists,
    SiteRef,
    utcnow,
)

SITE_CACHE_MAX = 10_000


def create_site(svc: Services, slug: str, name: str | None = None) -> tuple[SiteRef, str]:
    """Create a site; returns it and its API key (shown once, stored as a hash)."""
    api_key = new_token("cmk")
    try:
        with svc.unit_of_work() as s:
            site = Site(slug=slug, name=name or slug, api_key_hash=hash_token(api_key), policy={})
            s.add(site)
            s.flush()
            ref = SiteRef(site.id, site.slug, {})
    except IntegrityError as exc:
        raise SiteExists(slug) from exc
    return ref, api_key


def authenticate_site(svc: Services, api_key: str) -> SiteRef | None:
    """The site a key belongs to. Known keys are remembered for ``auth_cache_seconds`` per
    process (every submission authenticates; this saves a database round trip each time);
    unknown keys are never cached, so guessing fills no memory."""
    key_hash = hash_token(api_key)
    now = time.monotonic()
    cached = svc.site_cache.get(key_hash)
    if cached is not None and cached[0] > now:
        return cached[1]
    with svc.sessions() as s:
        site = s.scalar(select(Site).where(Site.api_key_hash == key_hash))
        ref = None if site is None else SiteRef(site.id, site.slug, dict(site.policy or {}))
    if ref is not None and svc.settings.auth_cache_seconds > 0:
        if len(svc.site_cache) >= SITE_CACHE_MAX:
            svc.site_cache.clear()
        svc.site_cache[key_hash] = (now + svc.settings.auth_cache_seconds, ref)
    return ref


def create_moderator(svc: Services, name: str, site_slugs: Sequence[str]) -> tuple[int, str]:
    """Create a moderator for the given sites; returns its id and token (shown once)."""
    token = new_token("cmm")
    with svc.unit_of_work() as s:
        sites = s.scalars(select(Site).where(Site.slug.in_(site_slugs))).all()
        missing = set(site_slugs) - {site.slug for site in sites}
        if missing:
            raise NotFound("unknown site: " + ", ".join(sorted(missing)))
        moderator = Moderator(name=name, token_hash=hash_token(token))
        s.add(moderator)
        s.flush()
        s.add_all(ModeratorSite(moderator_id=moderator.id, site_id=site.id) for site in sites)
        return moderator.id, token


def authenticate_moderator(svc: Services, token: str) -> ModeratorRef | None:
    """The moderator holding ``token``; None when unknown or revoked."""
    with svc.sessions() as s:
        moderator = s.scalar(select(Moderator).where(Moderator.token_hash == hash_token(token)))
        if moderator is None or moderator.revoked_at is not None:
            return None
        site_ids = s.scalars(
            select(ModeratorSite.site_id).where(ModeratorSite.moderator_id == moderator.id)
        ).all()
        return ModeratorRef(moderator.id, moderator.name, frozenset(site_ids))


def revoke_moderator(svc: Services, moderator_id: int) -> bool:
    """Revoke a moderator's token (its audit trail stays). False when already revoked."""
    with svc.unit_of_work() as s:
        moderator = s.get(Moderator, moderator_id)
        if moderator is None:
            raise NotFound("unknown moderator")
        if moderator.revoked_at is not None:
            return False
        moderator.revoked_at = utcnow()
        return True


def scoped_site(s: Session, moderator: ModeratorRef | None, slug: str) -> Site:
    site = s.scalar(select(Site).where(Site.slug == slug))
    if moderator is None:  # the CLI (operator) may reach every site
        if site is None:
            raise NotFound("unknown site")
        return site
    if site is None or site.id not in moderator.site_ids:
        raise Forbidden()
    return site


def site_policy(svc: Services, overrides: dict[str, Any] | None) -> Policy:
    """The settings' default policy with a site's stored overrides on top."""
    return Policy(
        max_links=svc.settings.policy_max_links,
        premoderation=svc.settings.policy_premoderation,
    ).with_overrides(overrides)
