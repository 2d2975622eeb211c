"""Webhook deliveries: the outbox rows of webhook events and their attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from service.db.models import WebhookDelivery

# Where a session keeps the ids of the deliveries it created until they are sent.
_NEW = "commentmod.webhook_deliveries"


class Deliveries:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, delivery: WebhookDelivery) -> None:
        """Write a delivery row; its id is handed out once by :meth:`take_new`."""
        self.s.add(delivery)
        self.s.info.setdefault(_NEW, []).append(delivery.id)

    def take_new(self) -> list[str]:
        ids: list[str] = self.s.info.pop(_NEW, [])
        return ids

    def get(self, delivery_id: str) -> WebhookDelivery | None:
        return self.s.get(WebhookDelivery, delivery_id)

    def claim(self, delivery_id: str, now: datetime, lease_until: datetime) -> bool:
        """Take an attempt of an undelivered, due and unclaimed delivery (counted)."""
        claimed = self.s.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.given_up_at.is_(None),
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
                or_(WebhookDelivery.retry_at.is_(None), WebhookDelivery.retry_at <= now),
            )
            .values(claimed_until=lease_until, attempt_count=WebhookDelivery.attempt_count + 1)
            .execution_options(synchronize_session=False)
        )
        return claimed.rowcount == 1  # type: ignore[attr-defined]

    def update(self, delivery_id: str, values: dict[str, Any]) -> None:
        self.s.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    def update_many(self, delivery_ids: Sequence[str], values: dict[str, Any]) -> None:
        """``values`` on those of ``delivery_ids`` not delivered yet."""
        self.s.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(list(delivery_ids)),
                WebhookDelivery.delivered_at.is_(None),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    def due(self, now: datetime, limit: int) -> Sequence[WebhookDelivery]:
        """Undelivered rows due for dispatch, oldest first, locked (others skipped)."""
        return self.s.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.given_up_at.is_(None),
                WebhookDelivery.next_dispatch_at <= now,
            )
            .order_by(WebhookDelivery.next_dispatch_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()

    def of_comments(self, comment_ids: Sequence[str]) -> Sequence[WebhookDelivery]:
        if not comment_ids:
            return []
        return self.s.scalars(
            select(WebhookDelivery).where(WebhookDelivery.comment_id.in_(list(comment_ids)))
        ).all()
