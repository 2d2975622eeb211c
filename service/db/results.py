"""Check results: one row per (comment, check), the first result wins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session

from service.db.models import CheckJob, CheckResultRow
from service.db.tables import RESULTS
from service.domain.checks import CheckResult, Evidence


class CheckResults:
    def __init__(self, session: Session) -> None:
        self.s = session

    def required_and_recorded(
        self, comment_ids: Sequence[str]
    ) -> tuple[dict[str, list[str]], dict[str, dict[str, CheckResult]]]:
        """Every check each comment needs (its jobs) and the results recorded so far, in one
        query (the idempotency test and the decision both read it)."""
        rows = (
            self.s.connection()
            .execute(
                select(
                    CheckJob.comment_id,
                    CheckJob.check,
                    CheckResultRow.check.label("result_check"),
                    CheckResultRow.verdict,
                    CheckResultRow.reasons,
                    CheckResultRow.signals,
                    CheckResultRow.score,
                )
                .outerjoin(
                    CheckResultRow,
                    and_(
                        CheckResultRow.comment_id == CheckJob.comment_id,
                        CheckResultRow.check == CheckJob.check,
                    ),
                )
                .where(CheckJob.comment_id.in_(comment_ids))
            )
            .all()
        )
        required: dict[str, list[str]] = {comment_id: [] for comment_id in comment_ids}
        recorded: dict[str, dict[str, CheckResult]] = {comment_id: {} for comment_id in comment_ids}
        for row in rows:
            required[row.comment_id].append(row.check)
            if row.result_check is not None:
                recorded[row.comment_id][row.result_check] = CheckResult(
                    check=row.result_check,
                    verdict=row.verdict,
                    reasons=tuple(row.reasons or ()),
                    signals=dict(row.signals or {}),
                    score=row.score,
                )
        return required, recorded

    def add_many(self, results: Sequence[tuple[str, CheckResult]], now: datetime) -> None:
        """Insert the results of ``(comment id, result)`` (one multi-row INSERT)."""
        if not results:
            return
        self.s.connection().execute(
            insert(RESULTS),
            [
                {
                    "comment_id": comment_id,
                    "check": result.check,
                    "score": None if result.score is None else float(result.score),
                    "verdict": result.verdict,
                    "reasons": list(result.reasons),
                    "evidence": [
                        {"start": e.start, "end": e.end, "label": e.label} for e in result.evidence
                    ],
                    "signals": {k: float(v) for k, v in result.signals.items()},
                    "model": result.model,
                    "lang": result.lang,
                    "duration_ms": result.duration_ms,
                    "created_at": now,
                }
                for comment_id, result in results
            ],
        )

    def of_comments(self, comment_ids: Sequence[str]) -> dict[str, list[CheckResult]]:
        """The stored results of each comment, by check name."""
        found: dict[str, list[CheckResult]] = {}
        if not comment_ids:
            return found
        for row in self.s.scalars(
            select(CheckResultRow)
            .where(CheckResultRow.comment_id.in_(comment_ids))
            .order_by(CheckResultRow.check)
        ):
            found.setdefault(row.comment_id, []).append(
                CheckResult(
                    check=row.check,
                    verdict=row.verdict,
                    reasons=tuple(row.reasons or ()),
                    signals=dict(row.signals or {}),
                    score=row.score,
                    evidence=tuple(
                        Evidence(e["start"], e["end"], e["label"])
                        for e in (row.evidence or ())
                        if isinstance(e, dict) and {"start", "end", "label"} <= e.keys()
                    ),
                    model=row.model,
                    lang=row.lang,
                    duration_ms=row.duration_ms,
                )
            )
        return found
