"""The storage a composition root opens once, and the unit of work use cases run in.

One way to open a transaction: ``with svc.uow() as uow:`` (a :class:`UnitOfWork`). It
commits once when the block ends without error and rolls back otherwise; the repositories it
carries share its session and never commit. The few hot single-statement paths (the
submission, the public thread page) are functions in their repository modules that take the
:class:`Storage` or one of its connections (:meth:`Storage.reader`): one statement is its own
transaction there (autocommit on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from service.db.audit import AuditLog
from service.db.comments import Comments
from service.db.dashboard import DashboardQueries
from service.db.deliveries import Deliveries
from service.db.engine import is_postgresql, make_engine, make_session_factory
from service.db.idempotency import IdempotencyRecords
from service.db.imports import ImportedComments
from service.db.jobs import CheckJobs
from service.db.labels import Labels
from service.db.metrics import MetricsQueries
from service.db.moderators import Moderators
from service.db.results import CheckResults
from service.db.site_models import SiteModels, SiteTrainings
from service.db.sites import Sites
from service.db.spam_memory import SpamMemory
from service.settings import Settings


class UnitOfWork:
    """One transaction and the repositories that work inside it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sites = Sites(session)
        self.moderators = Moderators(session)
        self.comments = Comments(session)
        self.jobs = CheckJobs(session)
        self.results = CheckResults(session)
        self.audit = AuditLog(session)
        self.deliveries = Deliveries(session)
        self.spam_memory = SpamMemory(session)
        self.labels = Labels(session)
        self.idempotency = IdempotencyRecords(session)
        self.imports = ImportedComments(session)
        self.metrics = MetricsQueries(session)
        self.dashboard = DashboardQueries(session)
        self.site_models = SiteModels(session)
        self.site_trainings = SiteTrainings(session)

    def new_deliveries(self) -> list[str]:
        """The webhook deliveries this unit of work created (taken once, after the commit)."""
        return self.deliveries.take_new()


@dataclass
class Storage:
    engine: Engine
    sessions: sessionmaker[Session]
    # PostgreSQL only: a separate autocommit pool for single statements (no BEGIN/COMMIT).
    autocommit_engine: Engine | None = None

    @contextmanager
    def uow(self, *, relaxed_durability: bool = False) -> Iterator[UnitOfWork]:
        """One transaction: commits on success, rolls back on any error.

        ``relaxed_durability`` (PostgreSQL) does not wait for the WAL flush at commit: for
        bookkeeping whose loss in a database crash is harmless (a delivery count).
        """
        with self.sessions() as session, session.begin():
            if relaxed_durability and is_postgresql(self.engine):
                session.connection().exec_driver_sql("SET LOCAL synchronous_commit = off")
            yield UnitOfWork(session)

    @contextmanager
    def single_statement(self) -> Iterator[Connection]:
        """A connection on which each statement commits on its own (autocommit on
        PostgreSQL, so BEGIN and COMMIT cost no extra round trips)."""
        if self.autocommit_engine is not None:
            with self.autocommit_engine.connect() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def local_transaction(self) -> Iterator[Connection]:
        """A plain Core transaction (SQLite's form of a multi-statement single write)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A connection for single-statement reads (autocommit on PostgreSQL)."""
        with (self.autocommit_engine or self.engine).connect() as conn:
            yield conn

    @property
    def is_postgresql(self) -> bool:
        return is_postgresql(self.engine)

    def is_ready(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self.autocommit_engine is not None:
            self.autocommit_engine.dispose()


def open_storage(settings: Settings) -> Storage:
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_recycle=settings.db_pool_recycle_seconds,
    )
    autocommit_engine = (
        make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            pool_recycle=settings.db_pool_recycle_seconds,
            autocommit=True,
        )
        if is_postgresql(engine)
        else None
    )
    return Storage(engine, make_session_factory(engine), autocommit_engine)
