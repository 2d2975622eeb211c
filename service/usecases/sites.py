"""Sites and moderators: creation, authentication, scoping and the effective policy."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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
from service.usecases.webhooks import validate_webhook_url

SITE_CACHE_MAX = 10_000


@dataclass(frozen=True)
class NewSite:
    """A created site and its credentials (shown once: only hashes/ciphertexts are stored)."""

    site: SiteRef
    api_key: str
    webhook_url: str | None = None
    webhook_secret: str | None = None


def create_site(svc: Services, slug: str, name: str | None = None) -> tuple[SiteRef, str]:
    """Create a site without a webhook; returns it and its API key (shown once)."""
    created = register_site(svc, slug, name)
    return created.site, created.api_key


def register_site(
    svc: Services, slug: str, name: str | None = None, webhook_url: str | None = None
) -> NewSite:
    """Create a site, with its webhook when ``webhook_url`` is given, in ONE transaction:
    an invalid URL (:class:`~service.usecases.webhooks.InvalidWebhookUrl`), a missing or bad
    email key (``PrivacyConfigError``) or a taken slug (:class:`SiteExists`) leaves nothing
    behind."""
    checked = validate_webhook_url(webhook_url) if webhook_url else None
    api_key = new_token("cmk")
    secret = new_token("whsec") if checked else None
    try:
        with svc.uow() as uow:
            site = uow.sites.add(slug, name or slug, hash_token(api_key))
            if secret:
                site.webhook_url = checked
                site.webhook_secret_encrypted = svc.vault.encrypt(secret)
            ref = SiteRef(site.id, site.slug, {})
    except Conflict as exc:
        raise SiteExists(slug) from exc
    return NewSite(ref, api_key, checked, secret)


@dataclass(frozen=True)
class SiteSummary:
    id: int
    slug: str
    name: str
    webhook_url: str | None
    created_at: datetime


def list_sites(svc: Services) -> list[SiteSummary]:
    """Every site, by slug (no key, no secret: only their hashes are stored)."""
    with svc.uow() as uow:
        return [
            SiteSummary(s.id, s.slug, s.name, s.webhook_url, s.created_at) for s in uow.sites.all()
        ]


def rotate_site_key(svc: Services, slug: str) -> str:
    """Give the site a new API key (returned, shown once); the old key stops working.

    A web process that authenticated the old key within the last ``auth_cache_seconds``
    remembers it that long (per process; :func:`authenticate_site`), so the old key is
    refused everywhere at most ``auth_cache_seconds`` after the rotation. This process's
    own cache is cleared at once.
    """
    api_key = new_token("cmk")
    with svc.uow() as uow:
        site = uow.sites.by_slug(slug)
        if site is None:
            raise NotFound("unknown site", resource="site")
        site.api_key_hash = hash_token(api_key)
    svc.site_cache.clear()
    return api_key


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


@dataclass(frozen=True)
class ModeratorSummary:
    id: int
    name: str
    sites: list[str]
    created_at: datetime
    revoked_at: datetime | None


def list_moderators(svc: Services) -> list[ModeratorSummary]:
    """Every moderator (revoked ones too), with the slugs of the sites it may moderate."""
    with svc.uow() as uow:
        slugs = uow.moderators.site_slugs()
        return [
            ModeratorSummary(m.id, m.name, slugs.get(m.id, []), m.created_at, m.revoked_at)
            for m in uow.moderators.all()
        ]


def rotate_moderator_token(svc: Services, moderator_id: int) -> str:
    """Give an active moderator a new token (returned, shown once); the old one stops working
    at once (moderator tokens are not cached). A revoked moderator raises
    :class:`Forbidden`: its revocation is final; create a new moderator instead."""
    token = new_token("cmm")
    with svc.uow() as uow:
        moderator = uow.moderators.get(moderator_id)
        if moderator is None:
            raise NotFound("unknown moderator", resource="moderator")
        if moderator.revoked_at is not None:
            raise Forbidden()
        moderator.token_hash = hash_token(token)
    return token


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
