"""Site models (issue 17): a site's labels for training, its stored model versions, which one
is active, and the bytes a worker loads. The service never builds a model: training and
detector building happen in the workers' code (``commentmod train --site``, the worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service.domain.checks import check_spec
from service.usecases.services import NotFound, Services, utcnow
from service.usecases.sites import scoped_site


@dataclass(frozen=True, slots=True)
class StoredModel:
    """One stored version of a site's model: the artifact's npz bytes and its metadata."""

    site_id: int
    slug: str
    check: str
    version: int
    created_at: datetime
    metrics: dict[str, Any]
    is_active: bool
    weights: bytes = b""
    meta: dict[str, Any] | None = None


def site_labels(svc: Services, slug: str, check: str) -> list[tuple[str, str, str | None]]:
    """``(text, label, lang)`` of the site's labels for ``check``, oldest first: exactly what
    ``commentmod labels export`` writes for it."""
    mapping = check_spec(check).labels
    with svc.uow() as uow:
        site = scoped_site(uow, None, slug)
        return [
            (text, mapping[action], lang)
            for text, action, lang in uow.labels.texts(site.id, mapping)
        ]


def _stored(row: Any, slug: str, with_bytes: bool) -> StoredModel:
    return StoredModel(
        site_id=row.site_id,
        slug=slug,
        check=row.check,
        version=row.version,
        created_at=row.created_at,
        metrics=dict(row.metrics or {}),
        is_active=bool(row.is_active),
        weights=bytes(row.weights) if with_bytes else b"",
        meta=dict(row.meta) if with_bytes else None,
    )


def list_models(svc: Services, slug: str, check: str | None = None) -> list[StoredModel]:
    """The site's stored versions (per check, newest first), without their bytes."""
    with svc.uow() as uow:
        site = scoped_site(uow, None, slug)
        return [_stored(r, slug, False) for r in uow.site_models.versions(site.id, check)]


def active_model(svc: Services, slug: str, check: str) -> StoredModel | None:
    """The site's active model for ``check`` with its bytes; ``None``: the default model."""
    with svc.uow() as uow:
        site = scoped_site(uow, None, slug)
        version = uow.site_models.active_version(site.id, check)
        row = uow.site_models.get(site.id, check, version) if version is not None else None
        return _stored(row, slug, True) if row is not None else None


def store_model(
    svc: Services,
    slug: str,
    check: str,
    weights: bytes,
    meta: dict[str, Any],
    metrics: dict[str, Any],
    activate: bool,
) -> int:
    """Store a new version (its number is returned), active when ``activate``."""
    check_spec(check)
    with svc.uow() as uow:
        site = scoped_site(uow, None, slug)
        row = uow.site_models.add(site.id, check, weights, meta, metrics, utcnow())
        if activate:
            uow.site_models.activate(site.id, check, row.version)
        return row.version


def promote(svc: Services, slug: str, check: str, version: int) -> None:
    """Make ``version`` the site's active model for ``check``."""
    with svc.uow() as uow:
        site = scoped_site(uow, None, slug)
        if uow.site_models.get(site.id, check, version) is None:
            raise NotFound("no such model version")
        uow.site_models.activate(site.id, check, version)


def rollback(svc: Services, slug: str, check: str) -> int | None:
    """Back to the version before the active one (the highest lower version), or to the
    default model when there is none. Returns the version now active (``None``: default)."""
    with svc.uow() as uow:
        site = scoped_site(uow, None, slug)
        active = uow.site_models.active_version(site.id, check)
        if active is None:
            raise NotFound("no active site model")
        older = [r.version for r in uow.site_models.versions(site.id, check) if r.version < active]
        target = max(older) if older else None
        uow.site_models.activate(site.id, check, target)
        return target


def active_versions(svc: Services, site_ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """``{(site_id, check): active version}`` for the sites (the workers' cheap look-up)."""
    with svc.uow() as uow:
        return uow.site_models.active_versions(site_ids)


def model_artifact(svc: Services, site_id: int, check: str, version: int) -> StoredModel:
    """The bytes of one stored version, for a worker to build its detector from."""
    with svc.uow() as uow:
        row = uow.site_models.get(site_id, check, version)
        site = uow.sites.get(site_id)
        if row is None or site is None:
            raise NotFound("no such model version")
        return _stored(row, site.slug, True)


@dataclass(frozen=True, slots=True)
class TrainingState:
    """A (site, check) the scheduler looked at: its label count now, the count the last
    finished training saw, and whether a training is due (``due``), the site has too few
    labels (``too_few``: it keeps the default) or too few new ones (``not_due``)."""

    slug: str
    check: str
    labels: int
    seen: int
    status: str


def training_states(
    svc: Services, checks: Sequence[str], min_labels: int, min_new: int
) -> list[TrainingState]:
    """Every site with labels for a check, and whether its model for it is due for training:
    at least ``min_labels`` labels and ``min_new`` more than the last training saw."""
    out = []
    with svc.uow() as uow:
        for site in uow.sites.all():
            seen = uow.site_trainings.labels_seen(site.id)
            for check in checks:
                labels = uow.labels.count(site.id, check_spec(check).labels)
                if not labels:
                    continue
                last = seen.get(check, 0)
                status = (
                    "too_few"
                    if labels < min_labels
                    else "due"
                    if labels - last >= min_new
                    else "not_due"
                )
                out.append(TrainingState(site.slug, check, labels, last, status))
    return out


def claim_training(
    svc: Services, slug: str, check: str, lease_seconds: float, max_seen: int | None = None
) -> bool:
    """Take the (site, check) training lease (see :meth:`SiteTrainings.claim`): False when
    another training holds it, or (``max_seen``) when one already saw more labels."""
    now = utcnow()
    with svc.uow() as uow:
        site = scoped_site(uow, None, slug)
        stale_before = now - timedelta(seconds=lease_seconds)
        return uow.site_trainings.claim(site.id, check, now, stale_before, max_seen)


def finish_training(
    svc: Services, slug: str, check: str, labels_seen: int | None, outcome: str
) -> None:
    """Release the lease; ``labels_seen`` counts as trained on (None: the run failed)."""
    with svc.uow() as uow:
        site = scoped_site(uow, None, slug)
        uow.site_trainings.finish(site.id, check, labels_seen, outcome, utcnow())
