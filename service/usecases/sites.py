"""Sites and moderators: creation, authentication, scoping and the effective policy."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from service.db.errors import Conflict
from service.db.models import Site
from service.db.storage import UnitOfWork
from service.domain.policy import Policy
from service.domain.privacy import hash_token, new_token
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
        with svc.uow() as uow:
            site = uow.sites.add(slug, name or slug, hash_token(api_key))
            ref = SiteRef(site.id, site.slug, {})
    except Conflict as exc:
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
    with svc.uow() as uow:
        site = uow.sites.by_api_key_hash(key_hash)
        ref = None if site is None else SiteRef(site.id, site.slug, dict(site.policy or {}))
    if ref is not None and svc.settings.auth_cache_seconds > 0:
        if len(svc.site_cache) >= SITE_CACHE_MAX:
            svc.site_cache.clear()
        svc.site_cache[key_hash] = (now + svc.settings.auth_cache_seconds, ref)
    return ref


def create_moderator(svc: Services, name: str, site_slugs: Sequence[str]) -> tuple[int, str]:
    """Create a moderator for the given sites; returns its id and token (shown once)."""
    token = new_token("cmm")
    with svc.uow() as uow:
        sites = uow.sites.by_slugs(site_slugs)
        missing = set(site_slugs) - {site.slug for site in sites}
        if missing:
            raise NotFound("unknown site: " + ", ".join(sorted(missing)))
        return uow.moderators.add(name, hash_token(token), sites).id, token


def authenticate_moderator(svc: Services, token: str) -> ModeratorRef | None:
    """The moderator holding ``token``; None when unknown or revoked."""
    with svc.uow() as uow:
        moderator = uow.moderators.by_token_hash(hash_token(token))
        if moderator is None or moderator.revoked_at is not None:
            return None
        return ModeratorRef(moderator.id, moderator.name, uow.moderators.site_ids(moderator.id))


def revoke_moderator(svc: Services, moderator_id: int) -> bool:
    """Revoke a moderator's token (its audit trail stays). False when already revoked."""
    with svc.uow() as uow:
        moderator = uow.moderators.get(moderator_id)
        if moderator is None:
            raise NotFound("unknown moderator")
        if moderator.revoked_at is not None:
            return False
        moderator.revoked_at = utcnow()
        return True


def scoped_site(uow: UnitOfWork, moderator: ModeratorRef | None, slug: str) -> Site:
    """The site ``slug`` if ``moderator`` may reach it (``None``, the operator, reaches all):
    an unknown site is :class:`NotFound` for the operator, :class:`Forbidden` otherwise."""
    site = uow.sites.by_slug(slug)
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
