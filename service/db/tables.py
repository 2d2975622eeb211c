"""Core tables of the models, for the statements built once and cached."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from service.db.models import AuditEvent, CheckJob, CheckResultRow, Comment, IdempotencyRecord

# Core tables for the batch statements of the worker's hot path (no unit of work).
COMMENTS = cast(Table, Comment.__table__)


RESULTS = cast(Table, CheckResultRow.__table__)


AUDIT = cast(Table, AuditEvent.__table__)


JOBS = cast(Table, CheckJob.__table__)


IDEMPOTENCY = cast(Table, IdempotencyRecord.__table__)
