"""Moderation labels: the last human action on each comment, what detectors retrain on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.engine import upsert
from service.db.models import Comment, ModerationLabel


class Labels:
    def __init__(self, session: Session) -> None:
        self.s = session

    def set(self, comment: Comment, action: str, actor: str, now: datetime) -> None:
        """The comment's label becomes ``action`` (insert or replace)."""
        upsert(
            self.s,
            ModerationLabel,
            {
                "comment_id": comment.id,
                "site_id": comment.site_id,
                "action": action,
                "actor": actor,
                "updated_at": now,
            },
            ["comment_id"],
            {"action": action, "actor": actor, "updated_at": now},
        )

    def texts(self, site_id: int, actions: Iterable[str]) -> Iterator[tuple[str, str, str | None]]:
        """``(text, action, lang)`` of the site's comments labelled with one of ``actions``,
        oldest label first."""
        rows = self.s.execute(
            select(Comment.text, ModerationLabel.action, Comment.lang)
            .join(Comment, Comment.id == ModerationLabel.comment_id)
            .where(ModerationLabel.site_id == site_id, ModerationLabel.action.in_(list(actions)))
            .order_by(ModerationLabel.updated_at, ModerationLabel.comment_id)
        ).tuples()
        yield from rows

    def count(self, site_id: int, actions: Iterable[str]) -> int:
        """How many of the site's comments carry a label among ``actions``."""
        return int(
            self.s.scalar(
                select(func.count())
                .select_from(ModerationLabel)
                .where(
                    ModerationLabel.site_id == site_id,
                    ModerationLabel.action.in_(list(actions)),
                )
            )
            or 0
        )
