"""The versioned site policy: read it, replace its overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.models import (
    Site,
    SitePolicyVersion,
)
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


def _policy_view(svc: Services, s: Session, site: Site) -> PolicyView:
    versions = s.scalars(
        select(SitePolicyVersion)
        .where(SitePolicyVersion.site_id == site.id)
        .order_by(SitePolicyVersion.version.desc())
        .limit(20)
    ).all()
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
    with svc.sessions() as s:
        return _policy_view(svc, s, scoped_site(s, moderator, slug))


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
        with svc.unit_of_work() as s:
            site = scoped_site(s, moderator, slug)
            clean = validate_overrides(overrides)
            current = s.scalar(
                select(func.max(SitePolicyVersion.version)).where(
                    SitePolicyVersion.site_id == site.id
                )
            )
            current = int(current or 0)
            if expected_version is not None and expected_version != current:
                raise PolicyConflict()
            site.policy = clean
            s.add(
                SitePolicyVersion(
                    site_id=site.id,
                    version=current + 1,
                    policy=clean,
                    actor=actor,
                    created_at=utcnow(),
                )
            )
            s.flush()
            return _policy_view(svc, s, site)
    except IntegrityError as exc:  # a concurrent writer took this version number
        raise PolicyConflict() from exc
