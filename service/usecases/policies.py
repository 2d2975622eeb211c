"""The versioned site policy: read it, replace its overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.db.errors import Conflict
from service.db.models import (
    Site,
)
from service.db.storage import UnitOfWork
from service.domain.policy import validate_overrides
from service.usecases.services import (
    ModeratorRef,
    PolicyConflict,
    Services,
    utcnow,
)
from service.usecases.sites import scoped_site, site_policy


@dataclass(frozen=True)
class PolicyVersionView:
    version: int
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class PolicyView:
    site: str
    version: int
    overrides: dict[str, Any]
    effective: dict[str, Any]
    updated_by: str | None
    updated_at: datetime | None
    history: list[PolicyVersionView]


def _policy_view(svc: Services, uow: UnitOfWork, site: Site) -> PolicyView:
    versions = uow.sites.policy_versions(site.id)
    latest = versions[0] if versions else None
    return PolicyView(
        site=site.slug,
        version=latest.version if latest else 0,
        overrides=dict(site.policy or {}),
        effective=site_policy(svc, site.policy).as_document(),
        updated_by=latest.actor if latest else None,
        updated_at=latest.created_at if latest else None,
        history=[PolicyVersionView(v.version, v.actor, v.created_at) for v in versions],
    )


def get_site_policy(svc: Services, moderator: ModeratorRef | None, slug: str) -> PolicyView:
    """A site's policy: its overrides, the effective policy and recent versions. ``moderator``
    None is the operator (CLI)."""
    with svc.uow() as uow:
        return _policy_view(svc, uow, scoped_site(uow, moderator, slug))


def update_site_policy(
    svc: Services,
    moderator: ModeratorRef | None,
    slug: str,
    overrides: Any,
    *,
    actor: str,
    expected_version: int | None = None,
) -> PolicyView:
    """Replace a site's overrides with a validated document and record it as the next
    version. Raises :class:`~service.domain.policy.PolicyInvalid` (422) or
    :class:`PolicyConflict` (409) when ``expected_version`` is not the current one."""
    try:
        with svc.uow() as uow:
            site = scoped_site(uow, moderator, slug)
            clean = validate_overrides(overrides)
            current = uow.sites.current_policy_version(site.id)
            if expected_version is not None and expected_version != current:
                raise PolicyConflict(was_expected=expected_version is not None)
            uow.sites.add_policy_version(site, current + 1, clean, actor, utcnow())
            return _policy_view(svc, uow, site)
    except Conflict as exc:  # a concurrent writer took this version number
        raise PolicyConflict(was_expected=expected_version is not None) from exc
