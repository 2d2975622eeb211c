"""Site models: each site's trained artifacts per check, versioned; one active at most."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.db.models import SiteModel


class SiteModels:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(
        self,
        site_id: int,
        check: str,
        weights: bytes,
        meta: dict[str, Any],
        metrics: dict[str, Any],
        now: datetime,
    ) -> SiteModel:
        """Store a new (inactive) version: the site's highest version for ``check`` + 1."""
        latest = self.s.scalar(
            select(func.max(SiteModel.version)).where(
                SiteModel.site_id == site_id, SiteModel.check == check
            )
        )
        row = SiteModel(
            site_id=site_id,
            check=check,
            version=(latest or 0) + 1,
            created_at=now,
            metrics=metrics,
            weights=weights,
            meta=meta,
            is_active=False,
        )
        self.s.add(row)
        self.s.flush()
        return row

    def versions(self, site_id: int, check: str | None = None) -> Sequence[SiteModel]:
        """The site's models (newest first), of ``check`` only when given."""
        query = select(SiteModel).where(SiteModel.site_id == site_id)
        if check is not None:
            query = query.where(SiteModel.check == check)
        return self.s.scalars(query.order_by(SiteModel.check, SiteModel.version.desc())).all()

    def get(self, site_id: int, check: str, version: int) -> SiteModel | None:
        return self.s.scalar(
            select(SiteModel).where(
                SiteModel.site_id == site_id,
                SiteModel.check == check,
                SiteModel.version == version,
            )
        )

    def active_version(self, site_id: int, check: str) -> int | None:
        """The active version's number (a cheap indexed read), ``None`` if none is active."""
        return self.s.scalar(
            select(SiteModel.version).where(
                SiteModel.site_id == site_id,
                SiteModel.check == check,
                SiteModel.is_active.is_(True),
            )
        )

    def activate(self, site_id: int, check: str, version: int | None) -> None:
        """Make ``version`` the only active one (``None``: none, i.e. the default model)."""
        self.s.execute(
            update(SiteModel)
            .where(SiteModel.site_id == site_id, SiteModel.check == check)
            .values(is_active=SiteModel.version == version if version is not None else False)
        )

    def active_versions(self, site_ids: Sequence[int]) -> dict[tuple[int, str], int]:
        """``{(site_id, check): version}`` of the active models of ``site_ids``."""
        if not site_ids:
            return {}
        rows = self.s.execute(
            select(SiteModel.site_id, SiteModel.check, SiteModel.version).where(
                SiteModel.site_id.in_(sorted(set(site_ids))), SiteModel.is_active.is_(True)
            )
        ).tuples()
        return {(site_id, check): version for site_id, check, version in rows}
