"""Imported history: a batch of comments with their audit rows, labels and (on request)
check jobs, inserted in the caller's transaction. An entry already stored (same id) or a
duplicate (same thread, author and text) is left alone: ``INSERT … ON CONFLICT DO NOTHING``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.db.engine import is_postgresql
from service.db.models import ModerationLabel
from service.db.tables import AUDIT, COMMENTS, JOBS


class ImportedComments:
    def __init__(self, session: Session) -> None:
        self.s = session

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are stored already."""
        if not ids:
            return set()
        return set(self.s.scalars(select(COMMENTS.c.id).where(COMMENTS.c.id.in_(ids))).all())

    def insert_comments(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert the rows that meet no unique constraint; returns the ids inserted."""
        if not rows:
            return set()
        dialect_insert = pg_insert if is_postgresql(self.s.get_bind()) else sqlite_insert
        statement = dialect_insert(COMMENTS).on_conflict_do_nothing().returning(COMMENTS.c.id)
        # executemany with RETURNING: SQLAlchemy sends it as batched multi-row INSERTs
        # ("insertmanyvalues") from one compiled statement.
        return set(self.s.execute(statement, list(rows)).scalars().all())

    def add_audit(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.s.execute(insert(AUDIT), list(rows))

    def add_labels(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.s.execute(insert(ModerationLabel), list(rows))

    def add_jobs(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.s.execute(insert(JOBS), list(rows))
