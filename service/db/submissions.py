"""The single-statement submission: the comment, its check jobs and its Idempotency-Key
record, written together unless a guard refuses it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Table,
    bindparam,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy import cast as cast_

from service.db.storage import Storage
from service.db.tables import COMMENTS, IDEMPOTENCY, JOBS
from service.domain.statuses import Status


@dataclass(frozen=True)
class SubmissionShape:
    is_pg: bool
    values: tuple[str, ...]
    checks: tuple[str, ...]
    has_flood: bool
    has_ip: bool
    has_parent: bool
    has_idempotency: bool


@functools.cache
def submission_statements(shape: SubmissionShape) -> tuple[Any, Any, Any]:
    """The statements of :func:`store_submission` for one shape, with bound parameters only.

    ``INSERT … SELECT <parameters> WHERE <guards> RETURNING id``: the guards are the duplicate,
    flood and parent conditions (a concurrent twin that passes them both still meets the
    duplicate constraint: IntegrityError). No ``ON CONFLICT``: SQLAlchemy does not cache the
    compiled form of the dialects' upsert constructs, and compiling costs more than the rest. On
    PostgreSQL the job and idempotency inserts are CTEs that read the stored id, so nothing is
    written unless the comment is; on SQLite (no DML in CTEs) they are separate statements.
    """
    insert_comment = (
        insert(COMMENTS)
        .from_select(
            list(shape.values),
            select(*(_param(shape, COMMENTS, k) for k in shape.values)).where(*_guards(shape)),
        )
        .returning(COMMENTS.c.id)
    )
    stored = insert_comment.cte("stored") if shape.is_pg else None
    comment_id = stored.c.id if stored is not None else _param(shape, COMMENTS, "id")
    insert_jobs = _insert_jobs(shape, comment_id)
    insert_record = _insert_idempotency(shape, comment_id) if shape.has_idempotency else None
    if stored is None:
        return insert_comment, insert_jobs, insert_record
    statement = select(stored.c.id).add_cte(insert_jobs.cte("jobs"))
    if insert_record is not None:
        statement = statement.add_cte(insert_record.cte("idempotency"))
    return statement, None, None


def _convert(shape: SubmissionShape) -> Any:
    """PostgreSQL types a bare parameter in a select list as text, so each one is cast to its
    column's type there; SQLite's CAST would alter JSON text, so it only gets the type."""
    return cast_ if shape.is_pg else type_coerce


def _param(shape: SubmissionShape, table: Table, name: str, key: str | None = None) -> Any:
    """The bound parameter (``c_<name>`` unless ``key``) for ``table``'s column ``name``."""
    type_ = table.c[name].type
    return _convert(shape)(bindparam(key or f"c_{name}", type_=type_), type_)


def _insert_jobs(shape: SubmissionShape, comment_id: Any) -> Any:
    """The check jobs of the comment ``comment_id``: one row per check (a UNION ALL: a VALUES
    list would defeat the statement cache)."""
    check_type = JOBS.c.check.type
    job_rows = [
        select(
            comment_id,
            _convert(shape)(literal(check, type_=check_type), check_type),
            _param(shape, JOBS, "created_at"),
            _param(shape, JOBS, "next_send_at", "next_send_at"),
            literal(0),
            literal(0),
        )
        for check in shape.checks
    ]
    return insert(JOBS).from_select(
        ["comment_id", "check", "created_at", "next_send_at", "send_count", "attempt_count"],
        union_all(*job_rows) if len(job_rows) > 1 else job_rows[0],
    )


def _insert_idempotency(shape: SubmissionShape, comment_id: Any) -> Any:
    """The Idempotency-Key record of the comment ``comment_id``."""
    return insert(IDEMPOTENCY).from_select(
        ["site_id", "key", "request_hash", "created_at", "comment_id"],
        select(
            _param(shape, IDEMPOTENCY, "site_id"),
            _param(shape, IDEMPOTENCY, "key", "i_key"),
            _param(shape, IDEMPOTENCY, "request_hash", "i_request_hash"),
            _param(shape, IDEMPOTENCY, "created_at"),
            comment_id,
        ),
    )


def _guards(shape: SubmissionShape) -> list[Any]:
    """The conditions a new comment must meet: no duplicate, no flood, a published parent."""
    c = COMMENTS.c
    guards: list[Any] = [
        ~select(c.id)
        .where(
            c.site_id == bindparam("c_site_id"),
            c.thread_id == bindparam("c_thread_id"),
            c.author_hash == bindparam("c_author_hash"),
            c.text_hash == bindparam("c_text_hash"),
        )
        .exists()
    ]
    if shape.has_flood:
        same_source = c.author_hash == bindparam("c_author_hash")
        if shape.has_ip:
            same_source = or_(same_source, c.ip_hash == bindparam("c_ip_hash"))
        guards.append(
            ~select(c.id)
            .where(
                c.site_id == bindparam("c_site_id"),
                c.created_at > bindparam("flood_since", type_=c.created_at.type),
                same_source,
            )
            .exists()
        )
    if shape.has_parent:
        guards.append(
            select(c.id)
            .where(
                c.id == bindparam("c_parent_id"),
                c.site_id == bindparam("c_site_id"),
                c.thread_id == bindparam("c_thread_id"),
                c.status == Status.PUBLISHED.value,
            )
            .exists()
        )
    return guards


def store_submission(
    storage: Storage,
    values: dict[str, Any],
    idempotency: dict[str, Any] | None,
    flood_since: datetime | None,
    checks: Sequence[str],
    next_send_at: datetime,
) -> bool:
    """Insert the comment, its check jobs and its idempotency record atomically, unless a guard
    refuses it: a duplicate, a flood (a comment from the same author or
    IP since ``flood_since``) or a missing parent. Returns whether it was stored.

    This is the whole durable part of a submission, so it is kept to what durability needs:
    on PostgreSQL one autocommit statement (data-modifying CTEs), one round trip and one
    commit; on SQLite the same statements in one local transaction. The statements are built
    once per shape (:func:`submission_statements`), so a request only binds parameters.
    """
    is_pg = storage.is_postgresql
    shape = SubmissionShape(
        is_pg=is_pg,
        values=tuple(values),
        checks=tuple(checks),
        has_flood=flood_since is not None,
        has_ip=values["ip_hash"] is not None,
        has_parent=values["parent_id"] is not None,
        has_idempotency=idempotency is not None,
    )
    comment, jobs, record = submission_statements(shape)
    params = {f"c_{k}": v for k, v in values.items()}
    params["flood_since"] = flood_since
    params["next_send_at"] = next_send_at
    if idempotency is not None:
        params["i_key"] = idempotency["key"]
        params["i_request_hash"] = idempotency["request_hash"]
    if is_pg:
        with storage.single_statement() as conn:
            return conn.execute(comment, params).first() is not None
    with storage.local_transaction() as conn:
        if conn.execute(comment, params).first() is None:
            return False
        conn.execute(jobs, params)
        if record is not None:
            conn.execute(record, params)
        return True
