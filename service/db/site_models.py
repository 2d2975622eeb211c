"""Site models: each site's trained artifacts per check, versioned; one active at most; and
the claims that keep two trainings of the same (site, check) from running at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from service.db.engine import upsert
from service.db.models import SiteModel, SiteTraining


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


class SiteTrainings:
    """One row per (site, check) trained at least once: the lease of the training running
    now and the label count the last finished one saw."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def claim(
        self, site_id: int, check: str, now: datetime, stale_before: datetime, max_seen: int | None
    ) -> bool:
        """Take the lease unless another training holds a fresh one, and (``max_seen`` given)
        only while the last finished training saw at most ``max_seen`` labels. One atomic
        conditional UPDATE: of two concurrent claims exactly one wins."""
        upsert(
            self.s,
            SiteTraining,
            {"site_id": site_id, "check": check, "labels_seen": 0},
            ["site_id", "check"],
            {"site_id": site_id},  # exists already: a no-op update
        )
        query = update(SiteTraining).where(
            SiteTraining.site_id == site_id,
            SiteTraining.check == check,
            or_(SiteTraining.claimed_at.is_(None), SiteTraining.claimed_at < stale_before),
        )
        if max_seen is not None:
            query = query.where(SiteTraining.labels_seen <= max_seen)
        result = self.s.execute(query.values(claimed_at=now))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def finish(
        self, site_id: int, check: str, labels_seen: int | None, outcome: str, now: datetime
    ) -> None:
        """Release the lease; ``labels_seen`` (when the labels were used) is remembered."""
        values: dict[str, Any] = {"claimed_at": None, "finished_at": now, "outcome": outcome}
        if labels_seen is not None:
            values["labels_seen"] = labels_seen
        self.s.execute(
            update(SiteTraining)
            .where(SiteTraining.site_id == site_id, SiteTraining.check == check)
            .values(**values)
        )

    def labels_seen(self, site_id: int) -> dict[str, int]:
        """``{check: labels the last finished training saw}`` for the site."""
        rows = self.s.execute(
            select(SiteTraining.check, SiteTraining.labels_seen).where(
                SiteTraining.site_id == site_id
            )
        ).tuples()
        return {check: seen for check, seen in rows}
