"""Use cases: each one opens a unit of work and commits once.

``api`` and ``workers`` call these; these call ``db``, ``queue`` and ``domain``. Anything a
worker calls is idempotent (said in its docstring).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
import math
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from service.db.engine import make_engine, make_session_factory
from service.db.models import (
    AuditEvent,
    CheckJob,
    CheckResultRow,
    Comment,
    IdempotencyRecord,
    Moderator,
    ModeratorSite,
    Site,
)
from service.domain.policy import CheckOutcome, DecisionContext, Policy, decide
from service.domain.privacy import Vault, hash_token, new_token, truncate_ip
from service.domain.statuses import Status, ensure_transition
from service.domain.submission import Submission
from service.queue import CHECK_TASKS, TaskProducer
from service.settings import Settings
from service.webhooks import add_delivery, send_after_commit

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
# See claim_checks: a worker takes up to this many never-delivered jobs of each check.
CLAIM_BATCH = 50
# Core tables for the batch statements of the worker's hot path (no unit of work).
_COMMENTS = cast(Table, Comment.__table__)
_RESULTS = cast(Table, CheckResultRow.__table__)
_AUDIT = cast(Table, AuditEvent.__table__)
_JOBS = cast(Table, CheckJob.__table__)
_IDEMPOTENCY = cast(Table, IdempotencyRecord.__table__)
SITE_CACHE_MAX = 10_000


# --- wiring -------------------------------------------------------------------------------


@dataclass
class Services:
    """Everything a use case needs, built once by a composition root."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    vault: Vault
    producer: TaskProducer
    read_engine: Engine | None = None
    # api-key hash → (expires at, site): see authenticate_site.
    site_cache: dict[str, tuple[float, SiteRef]] = field(default_factory=dict)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commits on success, rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A connection on which each statement commits on its own (PostgreSQL autocommit):
        for writes that are one statement, so BEGIN and COMMIT cost no extra round trips."""
        if self.read_engine is not None:  # the autocommit pool
            with self.read_engine.connect() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for single-statement reads (autocommit on PostgreSQL)."""
        with (self.read_engine or self.engine).connect() as conn:
            yield conn

    def close(self) -> None:
        self.producer.close()
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()


def build_services(settings: Settings) -> Services:
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_recycle=settings.db_pool_recycle_seconds,
    )
    read_engine = (
        make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            pool_recycle=settings.db_pool_recycle_seconds,
            autocommit=True,
        )
        if engine.dialect.name == "postgresql"
        else None
    )
    return Services(
        settings=settings,
        engine=engine,
        read_engine=read_engine,
        sessions=make_session_factory(engine),
        vault=Vault(
            settings.email_keys.get_secret_value() if settings.email_keys else None,
            settings.hash_key.get_secret_value() if settings.hash_key else None,
        ),
        producer=TaskProducer(settings),
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- errors ---------------------------------------------------------------------------------


class UseCaseError(Exception):
    """Base for expected refusals; the API maps each to a status code and a stable code."""


class DuplicateComment(UseCaseError):
    pass


class Flooded(UseCaseError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many comments in a short time")
        self.retry_after = retry_after


class ParentNotFound(UseCaseError):
    pass


class IdempotencyKeyReused(UseCaseError):
    pass


class NotFound(UseCaseError):
    pass


class InvalidCursor(UseCaseError):
    pass


class SiteExists(UseCaseError):
    pass


# --- sites and moderators -------------------------------------------------------------------


@dataclass(frozen=True)
class SiteRef:
    """The authenticated site, as the API needs it (no secrets)."""

    id: int
    slug: str
    policy: dict[str, Any]


def create_site(svc: Services, slug: str, name: str | None = None) -> tuple[SiteRef, str]:
    """Create a site; returns it and its API key (shown once, stored as a hash)."""
    api_key = new_token("cmk")
    try:
        with svc.unit_of_work() as s:
            site = Site(slug=slug, name=name or slug, api_key_hash=hash_token(api_key), policy={})
            s.add(site)
            s.flush()
            ref = SiteRef(site.id, site.slug, {})
    except IntegrityError as exc:
        raise SiteExists(slug) from exc
    return ref, api_key


def authenticate_site(svc: Services, api_key: str) -> SiteRef | None:
    """The site a key belongs to. Known keys are remembered for ``auth_cache_seconds`` per
    process (every submission authenticates; this saves a database round trip each time);
    unknown keys are never cached, so guessing fills no memory."""
    key_hash = hash_token(api_key)
    now = time.monotonic()
    cached = svc.site_cache.get(key_hash)
    if cached is not None and cached[0] > now:
        return cached[1]
    with svc.sessions() as s:
        site = s.scalar(select(Site).where(Site.api_key_hash == key_hash))
        ref = None if site is None else SiteRef(site.id, site.slug, dict(site.policy or {}))
    if ref is not None and svc.settings.auth_cache_seconds > 0:
        if len(svc.site_cache) >= SITE_CACHE_MAX:
            svc.site_cache.clear()
        svc.site_cache[key_hash] = (now + svc.settings.auth_cache_seconds, ref)
    return ref


def create_moderator(svc: Services, name: str, site_slugs: Sequence[str]) -> tuple[int, str]:
    """Create a moderator for the given sites; returns its id and token (shown once)."""
    token = new_token("cmm")
    with svc.unit_of_work() as s:
        sites = s.scalars(select(Site).where(Site.slug.in_(site_slugs))).all()
        missing = set(site_slugs) - {site.slug for site in sites}
        if missing:
            raise NotFound("unknown site: " + ", ".join(sorted(missing)))
        moderator = Moderator(name=name, token_hash=hash_token(token))
        s.add(moderator)
        s.flush()
        s.add_all(ModeratorSite(moderator_id=moderator.id, site_id=site.id) for site in sites)
        return moderator.id, token


# --- submit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    id: str
    thread_id: str
    created_at: datetime
    is_replay: bool = False


def request_fingerprint(payload: Any) -> str:
    """Hash of a request body for Idempotency-Key comparison (key order does not matter)."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def submit_comment(
    svc: Services,
    site: SiteRef,
    submission: Submission,
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Accepted:
    """Store the comment and its pending checks in one transaction, then enqueue the checks.

    Once this returns, the comment is durably stored: if the enqueue fails the relay sends it.
    """
    if idempotency_key:
        replay = _idempotent_replay(svc, site, idempotency_key, request_hash)
        if replay is not None:
            return replay
    now = utcnow()
    author_hash = svc.vault.author_key(submission.author_email)
    ip_hash = svc.vault.ip_hash(submission.client_ip) if submission.client_ip else None
    text_hash = submission.text_fingerprint()
    comment_id = str(uuid.uuid4())
    values: dict[str, Any] = {
        "id": comment_id,
        "site_id": site.id,
        "thread_id": submission.thread_id,
        "thread_url": submission.thread_url,
        "parent_id": submission.parent_id,
        "author_name": submission.author_name,
        "author_url": submission.author_url,
        "author_email_encrypted": svc.vault.encrypt(submission.author_email),
        "author_hash": author_hash,
        "ip_truncated": truncate_ip(submission.client_ip) if submission.client_ip else None,
        "ip_hash": ip_hash,
        "user_agent": submission.user_agent,
        "referrer": submission.referrer,
        "text": submission.text,
        "text_hash": text_hash,
        "lang_hint": submission.lang_hint,
        "is_honeypot_filled": submission.is_honeypot_filled,
        "seconds_to_submit": (
            (now - submission.form_started_at).total_seconds()
            if submission.form_started_at
            else None
        ),
        "status": Status.PENDING.value,
        "reasons": [],
        "created_at": now,
    }
    idempotency = (
        {
            "site_id": site.id,
            "key": idempotency_key,
            "request_hash": request_hash or "",
            "comment_id": comment_id,
            "created_at": now,
        }
        if idempotency_key
        else None
    )
    flood_since = (
        now - timedelta(seconds=svc.settings.flood_interval_seconds)
        if svc.settings.flood_interval_seconds > 0
        else None
    )
    for _ in range(3):
        try:
            is_stored = _store_submission(svc, values, idempotency, flood_since)
        except IntegrityError as exc:
            # A concurrent twin with the same Idempotency-Key won the race.
            if idempotency_key:
                replay = _idempotent_replay(svc, site, idempotency_key, request_hash)
                if replay is not None:
                    return replay
            raise DuplicateComment() from exc
        if is_stored:
            break
        # Refused by a guard: say which (rare, so it may cost a second query). Nothing to
        # explain means the row that blocked it went away meanwhile: try again.
        with svc.sessions() as s:
            _refuse_duplicate_or_flood(
                s,
                site,
                submission.thread_id,
                author_hash,
                ip_hash,
                text_hash,
                now,
                svc.settings.flood_interval_seconds,
            )
            if submission.parent_id:
                _require_parent(s, site, submission)
    else:
        raise DuplicateComment()
    svc.producer.enqueue_checks(comment_id, svc.settings.checks)
    return Accepted(id=comment_id, thread_id=submission.thread_id, created_at=now)


def _store_submission(
    svc: Services,
    values: dict[str, Any],
    idempotency: dict[str, Any] | None,
    flood_since: datetime | None,
) -> bool:
    """Insert the comment, its check jobs and its idempotency record atomically, unless a guard
    refuses it: a duplicate, a flood (a comment from the same author or
    IP since ``flood_since``) or a missing parent. Returns whether it was stored.

    This is the whole durable part of a submission, so it is kept to what durability needs:
    on PostgreSQL one autocommit statement (data-modifying CTEs), one round trip and one
    commit; on SQLite the same statements in one local transaction. The statements are built
    once per shape (:func:`_submission_statements`), so a request only binds parameters.
    """
    is_pg = svc.engine.dialect.name == "postgresql"
    shape = _SubmissionShape(
        is_pg=is_pg,
        values=tuple(values),
        checks=tuple(svc.settings.checks),
        has_flood=flood_since is not None,
        has_ip=values["ip_hash"] is not None,
        has_parent=values["parent_id"] is not None,
        has_idempotency=idempotency is not None,
    )
    comment, jobs, record = _submission_statements(shape)
    params = {f"c_{k}": v for k, v in values.items()}
    params["flood_since"] = flood_since
    params["next_send_at"] = values["created_at"] + timedelta(
        seconds=svc.settings.relay_grace_seconds
    )
    if idempotency is not None:
        params["i_key"] = idempotency["key"]
        params["i_request_hash"] = idempotency["request_hash"]
    if is_pg:
        with svc.write_connection() as conn:
            return conn.execute(comment, params).first() is not None
    with svc.engine.begin() as conn:
        if conn.execute(comment, params).first() is None:
            return False
        conn.execute(jobs, params)
        if record is not None:
            conn.execute(record, params)
        return True


@dataclass(frozen=True)
class _SubmissionShape:
    is_pg: bool
    values: tuple[str, ...]
    checks: tuple[str, ...]
    has_flood: bool
    has_ip: bool
    has_parent: bool
    has_idempotency: bool


@functools.cache
def _submission_statements(shape: _SubmissionShape) -> tuple[Any, Any, Any]:
    """The statements of :func:`_store_submission` for one shape, with bound parameters only.

    ``INSERT … SELECT <parameters> WHERE <guards> RETURNING id``: the guards are the duplicate,
    flood and parent conditions (a concurrent twin that passes them both still meets the
    duplicate constraint: IntegrityError). No ``ON CONFLICT``: SQLAlchemy does not cache the
    compiled form of the dialects' upsert constructs, and compiling costs more than the rest. On
    PostgreSQL the job and idempotency inserts are CTEs that read the stored id, so nothing is
    written unless the comment is; on SQLite (no DML in CTEs) they are separate statements.
    PostgreSQL types a bare parameter in a select list as text, so each one is cast to its
    column's type there; SQLite's CAST would alter JSON text, so it only gets the type.
    """
    convert = cast_ if shape.is_pg else type_coerce

    def param(table: Table, name: str, key: str | None = None) -> Any:
        type_ = table.c[name].type
        return convert(bindparam(key or f"c_{name}", type_=type_), type_)

    c = _COMMENTS.c
    guards = [
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
    insert_comment = (
        insert(_COMMENTS)
        .from_select(
            list(shape.values),
            select(*(param(_COMMENTS, k) for k in shape.values)).where(*guards),
        )
        .returning(c.id)
    )
    stored = insert_comment.cte("stored") if shape.is_pg else None
    comment_id = stored.c.id if stored is not None else param(_COMMENTS, "id")
    # One job row per check (a UNION ALL: a VALUES list would defeat the statement cache).
    job_rows = [
        select(
            comment_id,
            convert(literal(check, type_=_JOBS.c.check.type), _JOBS.c.check.type),
            param(_JOBS, "created_at"),
            param(_JOBS, "next_send_at", "next_send_at"),
            literal(0),
            literal(0),
        )
        for check in shape.checks
    ]
    insert_jobs = insert(_JOBS).from_select(
        ["comment_id", "check", "created_at", "next_send_at", "send_count", "attempt_count"],
        union_all(*job_rows) if len(job_rows) > 1 else job_rows[0],
    )
    insert_record = (
        insert(_IDEMPOTENCY).from_select(
            ["site_id", "key", "request_hash", "created_at", "comment_id"],
            select(
                param(_IDEMPOTENCY, "site_id"),
                param(_IDEMPOTENCY, "key", "i_key"),
                param(_IDEMPOTENCY, "request_hash", "i_request_hash"),
                param(_IDEMPOTENCY, "created_at"),
                comment_id,
            ),
        )
        if shape.has_idempotency
        else None
    )
    if stored is None:
        return insert_comment, insert_jobs, insert_record
    statement = select(stored.c.id).add_cte(insert_jobs.cte("jobs"))
    if insert_record is not None:
        statement = statement.add_cte(insert_record.cte("idempotency"))
    return statement, None, None


def _idempotent_replay(
    svc: Services, site: SiteRef, key: str, request_hash: str | None
) -> Accepted | None:
    with svc.sessions() as s:
        row = s.execute(
            select(IdempotencyRecord, Comment.thread_id, Comment.created_at)
            .join(Comment, Comment.id == IdempotencyRecord.comment_id)
            .where(IdempotencyRecord.site_id == site.id, IdempotencyRecord.key == key)
        ).first()
    if row is None:
        return None
    record, thread_id, created_at = row
    ttl = timedelta(hours=svc.settings.idempotency_ttl_hours)
    if record.created_at < utcnow() - ttl:
        return None
    if record.request_hash != (request_hash or ""):
        raise IdempotencyKeyReused()
    return Accepted(
        id=record.comment_id, thread_id=thread_id, created_at=created_at, is_replay=True
    )


def _refuse_duplicate_or_flood(
    s: Session,
    site: SiteRef,
    thread_id: str,
    author_hash: str,
    ip_hash: str | None,
    text_hash: str,
    now: datetime,
    flood_interval: float,
) -> None:
    """One round trip for both checks: a duplicate (409) wins over a flood (429), so a
    double-clicked submit is reported as what it is."""
    duplicate = (
        select(Comment.id)
        .where(
            Comment.site_id == site.id,
            Comment.thread_id == thread_id,
            Comment.author_hash == author_hash,
            Comment.text_hash == text_hash,
        )
        .limit(1)
        .scalar_subquery()
    )
    columns = [duplicate.label("duplicate")]
    if flood_interval > 0:
        same_source = Comment.author_hash == author_hash
        if ip_hash is not None:
            same_source = or_(same_source, Comment.ip_hash == ip_hash)
        last = (
            select(func.max(Comment.created_at))
            .where(
                Comment.site_id == site.id,
                Comment.created_at > now - timedelta(seconds=flood_interval),
                same_source,
            )
            .scalar_subquery()
        )
        columns.append(last.label("last"))
    row = s.execute(select(*columns)).one()
    if row[0] is not None:
        raise DuplicateComment()
    last_at = row[1] if flood_interval > 0 else None
    if last_at is not None:
        if isinstance(last_at, str):  # SQLite returns the aggregate of a subquery as text
            last_at = datetime.fromisoformat(last_at)
        if last_at.tzinfo is None:
            last_at = last_at.replace(tzinfo=UTC)
        wait = flood_interval - (now - last_at).total_seconds()
        raise Flooded(retry_after=max(1, math.ceil(wait)))


def _require_parent(s: Session, site: SiteRef, submission: Submission) -> None:
    parent = s.scalar(
        select(Comment.id).where(
            Comment.id == submission.parent_id,
            Comment.site_id == site.id,
            Comment.thread_id == submission.thread_id,
            Comment.status == Status.PUBLISHED.value,
        )
    )
    if parent is None:
        raise ParentNotFound()


# --- checks (called by workers) ---------------------------------------------------------------


@dataclass(frozen=True)
class CheckWork:
    """What a worker needs to run one check: no email, no IP."""

    comment_id: str
    check: str
    text: str
    author_name: str
    author_url: str | None
    lang_hint: str | None
    is_honeypot_filled: bool
    seconds_to_submit: float | None
    user_agent: str | None
    referrer: str | None
    attempt: int


@dataclass(frozen=True)
class CheckRecord:
    """A detector's result as the pipeline stores it."""

    score: float | None
    verdict: str
    reasons: tuple[str, ...]
    evidence: tuple[dict[str, Any], ...] = ()
    model: str = "none"
    lang: str | None = None
    signals: dict[str, float] = field(default_factory=dict)
    duration_ms: float | None = None


UNAVAILABLE = CheckRecord(score=None, verdict="unavailable", reasons=("check_unavailable",))


def start_check(svc: Services, comment_id: str, check: str) -> CheckWork | None:
    """Count a delivery and return the work, or None when there is nothing to do.

    Idempotent: a missing comment, an already recorded result or an already decided comment
    is a normal ``None``. The delivery is counted *before* the detector runs, so a check that
    kills its worker is bounded (see :func:`is_over_attempt_limit`).
    """
    works = start_checks(svc, [comment_id], check)
    return works[0] if works else None


def start_checks(
    svc: Services,
    comment_ids: Sequence[str],
    checks: str | Sequence[str],
    task_id: str | None = None,
    claim: int = 0,
) -> list[CheckWork]:
    """:func:`start_check` for a batch, of one check or several: one transaction, two
    statements whatever its size (three with ``claim``).

    Returns the work of the (id, check) pairs that still need running, sorted by id then
    check; the others (missing, already recorded, already decided, or claimed by another
    task: see :func:`claim_checks`) are simply absent. ``task_id`` is the running task's:
    the jobs it claimed in an earlier life (a redelivery after its worker died, a retry) are
    taken back with its own, each a counted delivery. With ``claim``, a delivery whose jobs
    are all at their first attempt also claims up to that many jobs of each check from the
    backlog, in the same transaction.
    """
    ids = sorted(set(comment_ids))
    if not ids:
        return []
    names = _check_list(checks)
    start = (_start_statement(), {"checks": names, "ids": ids, "me": task_id})
    return _count_deliveries(svc, start, _claim_step(names, claim, ids, task_id))


def _check_list(checks: str | Sequence[str]) -> list[str]:
    return [checks] if isinstance(checks, str) else sorted(set(checks))


def _count_deliveries(
    svc: Services,
    start: tuple[Any, dict[str, Any]] | None,
    claim: tuple[Any, dict[str, Any]] | None,
) -> list[CheckWork]:
    """Run the counting ``UPDATE … RETURNING comment_id, check, attempt_count`` of a start
    and then, when every job it counted is at its first attempt, of a claim; then read the
    work for the jobs counted. One transaction (``start_checks`` and ``claim_checks``).

    Core statements built once, on a plain connection: this runs for every message a worker
    takes, and the ORM session's execution and statement building cost more than the SQL.
    """
    with svc.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # No wait for the WAL flush: a count lost with a PostgreSQL crash only allows
            # one more attempt, and this commit is on every message's path.
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        attempts: dict[str, dict[str, int]] = {}

        def count(step: tuple[Any, dict[str, Any]]) -> None:
            for comment_id, check, attempt in conn.execute(*step):
                attempts.setdefault(comment_id, {})[check] = attempt

        if start is not None:
            count(start)
        # A disturbed delivery (a job seen before) runs what it has, alone.
        if claim is not None and all(a == 1 for by in attempts.values() for a in by.values()):
            count(claim)
        if not attempts:
            return []
        rows = conn.execute(_works_statement(), {"ids": sorted(attempts)}).all()
    return [
        CheckWork(
            comment_id=row.id,
            check=check,
            text=row.text,
            author_name=row.author_name,
            author_url=row.author_url,
            lang_hint=row.lang_hint,
            is_honeypot_filled=bool(row.is_honeypot_filled),
            seconds_to_submit=row.seconds_to_submit,
            user_agent=row.user_agent,
            referrer=row.referrer,
            attempt=attempt,
        )
        for row in rows
        for check, attempt in sorted(attempts[row.id].items())
    ]


@functools.cache
def _start_statement() -> Any:
    """Count a delivery of each of ``checks`` for ``ids`` (unless another task claimed it)
    and of the jobs task ``me`` claimed, while the job is unfinished and the comment still
    pending (SQLite's RETURNING cannot read a joined table, hence EXISTS)."""
    jobs, comments = _JOBS.c, _COMMENTS.c
    pending = (
        select(comments.id)
        .where(comments.id == jobs.comment_id, comments.status == Status.PENDING.value)
        .exists()
    )
    me = bindparam("me", type_=jobs.claimed_by.type)
    return (
        update(_JOBS)
        .where(
            jobs.check.in_(bindparam("checks", expanding=True)),
            or_(
                and_(
                    jobs.comment_id.in_(bindparam("ids", expanding=True)),
                    or_(jobs.claimed_by.is_(None), jobs.claimed_by == me),
                ),
                jobs.claimed_by == me,  # ix_check_jobs_claimed_by
            ),
            jobs.completed_at.is_(None),
            pending,
        )
        .values(attempt_count=jobs.attempt_count + 1)
        .returning(jobs.comment_id, jobs.check, jobs.attempt_count)
    )


@functools.cache
def _works_statement() -> Any:
    """The comments' columns a detector needs, for the pending ones of ``ids``, sorted by id."""
    c = _COMMENTS.c
    return (
        select(
            c.id,
            c.text,
            c.author_name,
            c.author_url,
            c.lang_hint,
            c.is_honeypot_filled,
            c.seconds_to_submit,
            c.user_agent,
            c.referrer,
        )
        # Pending comments only: a claim counts jobs without looking at their comments (see
        # _claim_statement), so a job of a comment decided meanwhile is counted, not run.
        .where(c.id.in_(bindparam("ids", expanding=True)), c.status == Status.PENDING.value)
        .order_by(c.id)
    )


def claim_checks(
    svc: Services,
    checks: str | Sequence[str],
    limit: int,
    exclude: Sequence[str] = (),
    task_id: str | None = None,
) -> list[CheckWork]:
    """Take up to ``limit`` jobs of each of ``checks`` from the backlog for task ``task_id``,
    so that the checks of many comments run, record and decide as one batch, whatever
    messages they came with.

    Only never-delivered, unfinished jobs (``attempt_count = 0``) are taken, oldest first,
    skipping rows another worker holds; each is stamped with ``task_id``. A claim is a
    counted delivery like any other, so the crash bound holds, and a job is claimed at most
    once. The job's own message, when it arrives, leaves a claimed job alone (it is a cheap
    "skipped"); if the claiming worker dies, the redelivery of its message takes its claims
    back (:func:`start_checks`), and on a broker that does not redeliver the relay releases
    the claim when it re-sends the job (:func:`relay_outbox`).
    """
    return _count_deliveries(svc, None, _claim_step(_check_list(checks), limit, exclude, task_id))


def _claim_step(
    names: list[str], limit: int, exclude: Sequence[str], task_id: str | None
) -> tuple[Any, dict[str, Any]] | None:
    if limit <= 0:
        return None
    params: dict[str, Any] = {f"check_{i}": name for i, name in enumerate(names)}
    params.update(limit=limit, now=utcnow(), exclude=list(exclude), me=task_id)
    return _claim_statement(len(names), bool(exclude)), params


@functools.cache
def _claim_statement(check_count: int, has_exclude: bool) -> Any:
    # No "comment still pending" test here, unlike start_checks: with it the planner joined
    # every unfinished job before sorting (60 ms per claim with 10,000 pending comments).
    # Without it the claim walks ix_check_jobs_claimable and stops at the limit, once per
    # check (one walk each: an IN list of checks would sort the whole backlog).
    # The work is then read for pending comments only (_works_statement): a claimed job of a
    # comment no longer pending is counted once (so never claimed again) and not run.
    # The walks are joined by UNION ALL of derived tables (one IN): with an OR of one IN per
    # walk the planner could not join on the key and scanned the whole table (90 ms with
    # 400,000 jobs).
    walks: list[Any] = []
    for i in range(check_count):
        jobs = _JOBS.alias(f"waiting_{i}").c
        waiting = (
            select(jobs.id)
            .where(
                jobs.check == bindparam(f"check_{i}"),
                jobs.completed_at.is_(None),
                jobs.attempt_count == 0,
                jobs.created_at <= bindparam("now", type_=jobs.created_at.type),
            )
            .order_by(jobs.created_at)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
        )
        if has_exclude:
            waiting = waiting.where(jobs.comment_id.not_in(bindparam("exclude", expanding=True)))
        walks.append(waiting)
    if len(walks) == 1:
        claimed: Any = walks[0].scalar_subquery()
    else:
        derived = [walk.subquery(f"walk_{i}") for i, walk in enumerate(walks)]
        claimed = union_all(*(select(d.c.id) for d in derived))
    return (
        update(_JOBS)
        .where(_JOBS.c.id.in_(claimed))
        .values(
            attempt_count=_JOBS.c.attempt_count + 1,
            claimed_by=bindparam("me", type_=_JOBS.c.claimed_by.type),
        )
        .returning(_JOBS.c.comment_id, _JOBS.c.check, _JOBS.c.attempt_count)
    )


def release_claims(svc: Services, works: Sequence[CheckWork]) -> None:
    """Let the jobs of ``works`` be run by their own messages again (a worker isolating the
    jobs of a batch whose earlier delivery died sends each in a message of its own)."""
    if works:
        pairs = sorted({(w.comment_id, w.check) for w in works})
        with svc.engine.begin() as conn:
            conn.execute(_release_statement(), {"pairs": pairs})


@functools.cache
def _release_statement() -> Any:
    jobs = _JOBS.c
    return (
        update(_JOBS)
        .where(tuple_(jobs.comment_id, jobs.check).in_(bindparam("pairs", expanding=True)))
        .values(claimed_by=None)
    )


def is_over_attempt_limit(svc: Services, work: CheckWork) -> bool:
    """A delivery past retries + re-sends is given up (the comment is then held)."""
    return work.attempt >= svc.settings.check_max_retries + svc.settings.relay_max_sends + 2


@dataclass(frozen=True)
class Recorded:
    is_new: bool
    decided: Status | None


def record_check(svc: Services, comment_id: str, check: str, record: CheckRecord) -> Recorded:
    """Store one check's result and, when every check of the comment has one, decide.

    Idempotent: a second result for the same check is ignored (the first wins), and the
    decision is a guarded update from ``pending``, so a redelivered task never decides twice.
    """
    return record_checks(svc, [(comment_id, check, record)])[comment_id]


def record_checks(
    svc: Services, records: Sequence[tuple[str, str, CheckRecord]]
) -> dict[str, Recorded]:
    """:func:`record_check` for a batch of ``(comment id, check, record)``, in one transaction.

    The statements do not grow with the batch: lock the comments (by id, so concurrent batches
    never deadlock), read their jobs and results, insert the new results, complete the jobs
    (one UPDATE for every check), then decide every comment whose checks are all in (see
    :func:`_decide_batch`). Same idempotency as :func:`record_check`; the first record of a
    (comment, check) in ``records`` wins.
    """
    by_key: dict[tuple[str, str], CheckRecord] = {}
    for comment_id, check, record in records:
        by_key.setdefault((comment_id, check), record)
    report = {comment_id: Recorded(False, None) for comment_id, _ in by_key}
    if not by_key:
        return report
    ids = sorted(report)
    with svc.unit_of_work() as s:
        # This function's own Core statements go straight to the transaction's connection:
        # nothing is pending in the session before them, so they need no ORM autoflush.
        conn = s.connection()
        # Serialize the checks of one comment so the last one sees every result.
        comments = s.scalars(
            select(Comment).where(Comment.id.in_(ids)).order_by(Comment.id).with_for_update()
        ).all()
        if not comments:
            return report
        found = [c.id for c in comments]
        # Every check each comment needs, with its result where there is one: one query serves
        # both the idempotency test and the decision below.
        pairs = conn.execute(
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
            .where(CheckJob.comment_id.in_(found))
        ).all()
        required: dict[str, list[str]] = {comment_id: [] for comment_id in found}
        outcomes: dict[str, dict[str, CheckOutcome]] = {comment_id: {} for comment_id in found}
        for row in pairs:
            required[row.comment_id].append(row.check)
            if row.result_check is not None:
                outcomes[row.comment_id][row.result_check] = CheckOutcome(
                    check=row.result_check,
                    verdict=row.verdict,
                    reasons=tuple(row.reasons or ()),
                    signals=dict(row.signals or {}),
                    score=row.score,
                )
        now = utcnow()
        new_rows: list[dict[str, Any]] = []
        new_langs: list[dict[str, Any]] = []
        completed: set[tuple[str, str]] = set()  # (comment id, check) whose job is now done
        by_comment = {c.id: c for c in comments}
        for (comment_id, check), record in by_key.items():
            comment = by_comment.get(comment_id)
            if comment is None:
                continue
            completed.add((comment_id, check))
            if check in outcomes[comment_id]:
                continue
            report[comment_id] = Recorded(True, None)
            new_rows.append(
                {
                    "comment_id": comment.id,
                    "check": check,
                    "score": record.score,
                    "verdict": record.verdict,
                    "reasons": list(record.reasons),
                    "evidence": list(record.evidence),
                    "signals": dict(record.signals),
                    "model": record.model,
                    "lang": record.lang,
                    "duration_ms": record.duration_ms,
                    "created_at": now,
                }
            )
            outcomes[comment.id][check] = CheckOutcome(
                check=check,
                verdict=record.verdict,
                reasons=tuple(record.reasons),
                signals=dict(record.signals),
                score=record.score,
            )
            if comment.lang is None and record.lang:
                new_langs.append({"b_id": comment.id, "lang": record.lang})
                set_committed_value(comment, "lang", record.lang)
        if new_rows:
            conn.execute(insert(_RESULTS), new_rows)
        if new_langs:
            table = _COMMENTS
            conn.execute(
                update(table).where(table.c.id == bindparam("b_id")).values(lang=bindparam("lang")),
                new_langs,
            )
        if completed:
            # One statement for every check, so its row locks are taken in one index order,
            # as the counting UPDATE of start_checks takes them (no lock-order deadlock).
            conn.execute(_complete_jobs_statement(), {"now": now, "pairs": sorted(completed)})
        complete = [
            c
            for c in comments
            if c.status == Status.PENDING.value and not set(required[c.id]) - set(outcomes[c.id])
        ]
        decided = _decide_batch(svc, s, complete, now, required, outcomes)
    send_after_commit(svc, s)  # the decisions' webhook events, once they are committed
    for comment_id, status in decided.items():
        report[comment_id] = Recorded(report[comment_id].is_new, status)
    return report


@functools.cache
def _complete_jobs_statement() -> Any:
    jobs = _JOBS.c
    return (
        update(_JOBS)
        .where(
            tuple_(jobs.comment_id, jobs.check).in_(bindparam("pairs", expanding=True)),
            jobs.completed_at.is_(None),
        )
        .values(completed_at=bindparam("now", type_=jobs.completed_at.type), claimed_by=None)
    )


def _decide_batch(
    svc: Services,
    s: Session,
    comments: Sequence[Comment],
    now: datetime,
    required: dict[str, list[str]],
    outcomes: dict[str, dict[str, CheckOutcome]],
) -> dict[str, Status]:
    """Decide each (locked, pending, fully checked) comment by the policy table; one guarded
    UPDATE per distinct decision. Returns the comments this call changed."""
    if not comments:
        return {}
    from service.moderation import known_spammers, published_count

    spammers = known_spammers(s, svc.vault, comments)
    policies: dict[int, Policy] = {}
    groups: dict[tuple[Status, tuple[str, ...], str | None], list[Comment]] = {}
    for comment in comments:
        policy = policies.get(comment.site_id)
        if policy is None:
            site = s.get(Site, comment.site_id)
            policy = policies[comment.site_id] = site_policy(svc, site.policy if site else None)
        is_first_time = policy.premoderation == "first_time" and not _has_published(s, comment)
        is_trusted = policy.trust_after > 0 and (
            published_count(s, comment, policy.trust_after) >= policy.trust_after
        )
        checks = tuple(required[comment.id])
        decision = decide(
            DecisionContext(
                outcomes=outcomes[comment.id],
                is_honeypot_filled=comment.is_honeypot_filled,
                is_first_time_author=is_first_time,
                text=comment.text,
                lang=comment.lang,
                is_trusted_author=is_trusted,
                is_known_spammer=comment.id in spammers,
            ),
            policy,
            checks,
        )
        # Shadow mode publishes; the audit row says what the policy would have done.
        note = f"shadow mode: would be {decision.shadowed}" if decision.shadowed else None
        groups.setdefault((decision.status, tuple(decision.reasons), note), []).append(comment)
    decided: dict[str, Status] = {}
    for (status, reasons, note), group in groups.items():
        for comment in transition_many(
            s, group, Status.PENDING, status, reasons, SYSTEM_ACTOR, now, note
        ):
            decided[comment.id] = status
    return decided


def site_policy(svc: Services, overrides: dict[str, Any] | None) -> Policy:
    """The settings' default policy with a site's stored overrides on top."""
    return Policy(
        max_links=svc.settings.policy_max_links,
        premoderation=svc.settings.policy_premoderation,
    ).with_overrides(overrides)


def _has_published(s: Session, comment: Comment) -> bool:
    if comment.author_hash is None:
        return False
    return (
        s.scalar(
            select(Comment.id)
            .where(
                Comment.site_id == comment.site_id,
                Comment.author_hash == comment.author_hash,
                Comment.status == Status.PUBLISHED.value,
            )
            .limit(1)
        )
        is not None
    )


def _transition_values(
    expected: Status, target: Status, reasons: Sequence[str], now: datetime
) -> dict[str, Any]:
    ensure_transition(expected, target)
    values: dict[str, Any] = {"status": target.value, "reasons": list(reasons)}
    if expected is Status.PENDING:
        # The automatic decision (its latency is a pipeline metric; moderators come later).
        values["decided_at"] = now
    if target is Status.PUBLISHED:
        values["published_at"] = now
    return values


def transition(
    s: Session,
    comment: Comment,
    expected: Status,
    target: Status,
    reasons: Sequence[str],
    actor: str,
    now: datetime,
    note: str | None = None,
) -> bool:
    """Guarded status change (``WHERE status = expected``) plus its audit row and, when the
    site has a webhook, its event's delivery row (sent after the commit by the caller with
    :func:`service.webhooks.send_after_commit`).

    Returns False, changing nothing, when the comment is no longer in ``expected``.
    """
    values = _transition_values(expected, target, reasons, now)
    result = s.execute(
        update(Comment)
        .where(Comment.id == comment.id, Comment.status == expected.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    s.add(
        AuditEvent(
            comment_id=comment.id,
            site_id=comment.site_id,
            actor=actor,
            from_status=expected.value,
            to_status=target.value,
            reasons=list(reasons),
            note=note,
            created_at=now,
        )
    )
    # Mirror the guarded UPDATE on the loaded object without another round trip (and
    # without marking it dirty: the row is already written).
    for name, value in values.items():
        set_committed_value(comment, name, value)
    add_delivery(s, comment, target, now)
    return True


def transition_many(
    s: Session,
    comments: Sequence[Comment],
    expected: Status,
    target: Status,
    reasons: Sequence[str],
    actor: str,
    now: datetime,
    note: str | None = None,
) -> list[Comment]:
    """:func:`transition` for several comments with the same change: one guarded UPDATE …
    RETURNING and one multi-row audit INSERT. Returns the comments it changed (the others
    were no longer in ``expected``); each changed one gets its audit row and delivery row."""
    if not comments:
        return []
    values = _transition_values(expected, target, reasons, now)
    table = _COMMENTS
    changed_ids = set(
        s.scalars(
            update(table)
            .where(table.c.id.in_([c.id for c in comments]), table.c.status == expected.value)
            .values(**values)
            .returning(table.c.id)
        ).all()
    )
    changed = [c for c in comments if c.id in changed_ids]
    if not changed:
        return []
    s.execute(
        insert(_AUDIT),
        [
            {
                "comment_id": c.id,
                "site_id": c.site_id,
                "actor": actor,
                "from_status": expected.value,
                "to_status": target.value,
                "reasons": list(reasons),
                "note": note,
                "created_at": now,
            }
            for c in changed
        ],
    )
    for comment in changed:
        for name, value in values.items():
            set_committed_value(comment, name, value)
        add_delivery(s, comment, target, now)
    return changed


# --- the outbox relay (called by the scheduler) -----------------------------------------------


@dataclass(frozen=True)
class RelayReport:
    sent: int
    given_up: int
    failed: int


def relay_outbox(svc: Services) -> RelayReport:
    """Re-send every unfinished check that is due; give up after ``relay_max_sends``.

    Idempotent and safe to run concurrently (rows are locked with SKIP LOCKED on
    PostgreSQL; SQLite serializes writers). A send that fails is not counted, so a long
    broker outage never turns into ``check_unavailable``: the checks go out when it returns.
    """
    settings = svc.settings
    now = utcnow()
    sent = failed = 0
    give_up: list[tuple[str, str]] = []
    with svc.unit_of_work() as s:
        due = s.scalars(
            select(CheckJob)
            .where(CheckJob.completed_at.is_(None), CheckJob.next_send_at <= now)
            .order_by(CheckJob.next_send_at)
            .limit(settings.relay_batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        for job in due:
            if job.check not in CHECK_TASKS:
                # No task runs this check (removed from the configuration with jobs still
                # out?): it is unavailable. Held, never published unchecked, and the relay
                # goes on with the other rows instead of failing on this one every run.
                log.warning("relay: no task for this check; given up", extra={"check": job.check})
                give_up.append((job.comment_id, job.check))
                continue
            if job.send_count >= settings.relay_max_sends:
                give_up.append((job.comment_id, job.check))
                continue
            if not svc.producer.send_check(job.comment_id, job.check):
                failed += 1
                break  # the broker is down: the rest waits for the next run
            job.claimed_by = None  # a claimer that died holds it no more: the message runs it
            job.send_count += 1
            backoff = settings.relay_stale_seconds * (2 ** (job.send_count - 1))
            job.next_send_at = now + timedelta(seconds=backoff)
            sent += 1
    if give_up:
        record_checks(svc, [(cid, check, UNAVAILABLE) for cid, check in give_up])
    if sent or give_up or failed:
        log.info("relay", extra={"sent": sent, "given_up": len(give_up), "failed": failed})
    return RelayReport(sent=sent, given_up=len(give_up), failed=failed)


def purge_expired_idempotency_keys(svc: Services) -> int:
    """Forget Idempotency-Keys older than their TTL. Idempotent."""
    cutoff = utcnow() - timedelta(hours=svc.settings.idempotency_ttl_hours)
    with svc.unit_of_work() as s:
        result = s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentView:
    id: str
    thread_id: str
    parent_id: str | None
    status: str
    author_name: str
    author_url: str | None
    text: str
    created_at: datetime
    published_at: datetime | None
    reasons: tuple[str, ...]


def _view(c: Comment) -> CommentView:
    return CommentView(
        id=c.id,
        thread_id=c.thread_id,
        parent_id=c.parent_id,
        status=c.status,
        author_name=c.author_name,
        author_url=c.author_url,
        text=c.text,
        created_at=c.created_at,
        published_at=c.published_at,
        reasons=tuple(c.reasons or ()),
    )


def get_comment(svc: Services, site: SiteRef, comment_id: str) -> CommentView:
    """A comment of the caller's own site; another site's comment is simply not found."""
    with svc.sessions() as s:
        c = s.scalar(select(Comment).where(Comment.id == comment_id, Comment.site_id == site.id))
        if c is None:
            raise NotFound()
        return _view(c)


@dataclass(frozen=True)
class ThreadPage:
    items: list[CommentView]
    next_cursor: str | None


def _encode_cursor(created_at: datetime, comment_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), comment_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, comment_id = json.loads(raw)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None or not isinstance(comment_id, str):
            raise ValueError("bad cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    return moment, comment_id


def list_thread(
    svc: Services, site_slug: str, thread_id: str, limit: int, cursor: str | None
) -> ThreadPage:
    """Published comments of a thread, oldest first, keyset-paginated.

    The hot read path: one Core query (no ORM objects) joined on the site's slug; the site
    is looked up on its own only when the page is empty, to tell 404 from an empty thread.
    """
    after = _decode_cursor(cursor) if cursor else None
    params: dict[str, Any] = {"slug": site_slug, "thread_id": thread_id, "limit": limit + 1}
    if after is not None:
        params["after_created_at"], params["after_id"] = after
    with svc.read_connection() as conn:
        rows = conn.execute(_thread_page_statement(after is not None), params).all()
        if not rows and conn.scalar(select(Site.id).where(Site.slug == site_slug)) is None:
            raise NotFound()
    items = [
        CommentView(
            id=r.id,
            thread_id=r.thread_id,
            parent_id=r.parent_id,
            status=r.status,
            author_name=r.author_name,
            author_url=r.author_url,
            text=r.text,
            created_at=r.created_at,
            published_at=r.published_at,
            reasons=(),
        )
        for r in rows[:limit]
    ]
    next_cursor = (
        _encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit and items else None
    )
    return ThreadPage(items, next_cursor)


_VIEW_COLUMNS = (
    Comment.id,
    Comment.thread_id,
    Comment.parent_id,
    Comment.status,
    Comment.author_name,
    Comment.author_url,
    Comment.text,
    Comment.created_at,
    Comment.published_at,
)


@functools.cache
def _thread_page_statement(has_cursor: bool) -> Any:
    """The thread page query, built once (building a statement costs as much as running it):
    parameters ``slug``, ``thread_id``, ``limit`` and, after a cursor, ``after_created_at`` and
    ``after_id``."""
    query = (
        select(*_VIEW_COLUMNS)
        .join(Site, Site.id == Comment.site_id)
        .where(
            Site.slug == bindparam("slug"),
            Comment.thread_id == bindparam("thread_id"),
            Comment.status == Status.PUBLISHED.value,
        )
    )
    if has_cursor:
        after_created_at = bindparam("after_created_at", type_=Comment.created_at.type)
        query = query.where(
            or_(
                Comment.created_at > after_created_at,
                and_(Comment.created_at == after_created_at, Comment.id > bindparam("after_id")),
            )
        )
    return query.order_by(Comment.created_at, Comment.id).limit(bindparam("limit"))


# --- health -------------------------------------------------------------------------------------


def is_database_ready(svc: Services) -> bool:
    try:
        with svc.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False
    return True
