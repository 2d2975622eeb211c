"""Comments: the guarded status updates, the lookups the submission guards and the policy
need, the moderators' queue, and the public thread page (a hot single statement)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, and_, bindparam, cast, exists, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service.db.models import CheckResultRow, Comment, Site
from service.db.tables import COMMENTS
from service.domain.statuses import Status

VIEW_COLUMNS = (
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


@dataclass(frozen=True)
class QueueQuery:
    """The moderators' queue filter, as the storage applies it."""

    site_ids: set[int]
    status: str
    lang: str | None = None
    check: str | None = None
    reason: str | None = None
    author_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: tuple[datetime, str] | None = None
    newest_first: bool = False


class Comments:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, comment_id: str) -> Comment | None:
        return self.s.get(Comment, comment_id)

    def get_in_site(self, site_id: int, comment_id: str) -> Comment | None:
        return self.s.scalar(
            select(Comment).where(Comment.id == comment_id, Comment.site_id == site_id)
        )

    def lock(self, ids: Sequence[str]) -> Sequence[Comment]:
        """The comments of ``ids``, locked in id order (concurrent batches never deadlock)."""
        return self.s.scalars(
            select(Comment).where(Comment.id.in_(ids)).order_by(Comment.id).with_for_update()
        ).all()

    def guarded_update(self, comment: Comment, expected: str, values: dict[str, Any]) -> bool:
        """``UPDATE … WHERE status = expected``; on success the loaded object mirrors the
        new values without another round trip (and without being marked dirty)."""
        result = self.s.execute(
            update(Comment)
            .where(Comment.id == comment.id, Comment.status == expected)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        _mirror(comment, values)
        return True

    def guarded_update_many(
        self, comments: Sequence[Comment], expected: str, values: dict[str, Any]
    ) -> list[Comment]:
        """:meth:`guarded_update` for several comments in one UPDATE … RETURNING; returns
        the ones it changed."""
        table = COMMENTS
        changed_ids = set(
            self.s.scalars(
                update(table)
                .where(table.c.id.in_([c.id for c in comments]), table.c.status == expected)
                .values(**values)
                .returning(table.c.id)
            ).all()
        )
        changed = [c for c in comments if c.id in changed_ids]
        for comment in changed:
            _mirror(comment, values)
        return changed

    def set_languages(self, languages: dict[Comment, str]) -> None:
        """Store the language the first check detected (one executemany)."""
        if not languages:
            return
        self.s.connection().execute(
            update(COMMENTS)
            .where(COMMENTS.c.id == bindparam("b_id"))
            .values(lang=bindparam("lang")),
            [{"b_id": c.id, "lang": lang} for c, lang in languages.items()],
        )
        for comment, lang in languages.items():
            set_committed_value(comment, "lang", lang)

    def has_published(self, comment: Comment) -> bool:
        """Whether the comment's author has a published comment on its site."""
        if comment.author_hash is None:
            return False
        found = self.s.scalar(
            select(Comment.id)
            .where(
                Comment.site_id == comment.site_id,
                Comment.author_hash == comment.author_hash,
                Comment.status == Status.PUBLISHED.value,
            )
            .limit(1)
        )
        return found is not None

    def published_count(self, comment: Comment, cap: int) -> int:
        """Published comments of the comment's author on its site (counting stops at
        ``cap``)."""
        if comment.author_hash is None:
            return 0
        ids = (
            select(Comment.id)
            .where(
                Comment.site_id == comment.site_id,
                Comment.author_hash == comment.author_hash,
                Comment.status == Status.PUBLISHED.value,
                Comment.id != comment.id,
            )
            .limit(cap)
            .subquery()
        )
        return int(self.s.scalar(select(func.count()).select_from(ids)) or 0)

    def duplicate_and_last(
        self,
        site_id: int,
        thread_id: str,
        author_hash: str,
        ip_hash: str | None,
        text_hash: str,
        flood_since: datetime | None,
    ) -> tuple[str | None, Any]:
        """In one round trip: a duplicate's id (same thread, author and text) and, with
        ``flood_since``, the newest time the author or IP commented since then."""
        duplicate = (
            select(Comment.id)
            .where(
                Comment.site_id == site_id,
                Comment.thread_id == thread_id,
                Comment.author_hash == author_hash,
                Comment.text_hash == text_hash,
            )
            .limit(1)
            .scalar_subquery()
        )
        columns = [duplicate.label("duplicate")]
        if flood_since is not None:
            same_source = Comment.author_hash == author_hash
            if ip_hash is not None:
                same_source = or_(same_source, Comment.ip_hash == ip_hash)
            last = (
                select(func.max(Comment.created_at))
                .where(
                    Comment.site_id == site_id,
                    Comment.created_at > flood_since,
                    same_source,
                )
                .scalar_subquery()
            )
            columns.append(last.label("last"))
        row = self.s.execute(select(*columns)).one()
        return row[0], row[1] if flood_since is not None else None

    def is_published_in_thread(self, site_id: int, thread_id: str, comment_id: str) -> bool:
        found = self.s.scalar(
            select(Comment.id).where(
                Comment.id == comment_id,
                Comment.site_id == site_id,
                Comment.thread_id == thread_id,
                Comment.status == Status.PUBLISHED.value,
            )
        )
        return found is not None

    def queue(self, q: QueueQuery, limit: int) -> Sequence[Comment]:
        """The moderators' queue: comments matching ``q``, by (created_at, id), oldest first
        or (``newest_first``) newest first, after the keyset ``q.after`` in that order."""
        query = _queue_filters(select(Comment), q)
        if q.after is not None and q.newest_first:
            query = query.where(_before(q.after[0], q.after[1]))
        elif q.after is not None:
            query = query.where(_after(q.after[0], q.after[1]))
        order = (
            (Comment.created_at.desc(), Comment.id.desc())
            if q.newest_first
            else (Comment.created_at, Comment.id)
        )
        return self.s.scalars(query.order_by(*order).limit(limit)).all()

    def queue_by_uncertainty(
        self, q: QueueQuery, after: tuple[float, datetime, str] | None, limit: int
    ) -> list[tuple[Comment, float]]:
        """The queue ordered by the models' uncertainty: ``|score − 0.5|`` (0: the model
        cannot tell), the smallest over the comment's scored checks (``q.check``'s only
        when given), ties by (created_at, id); comments without a score last (rank 1).
        Keyset-paginated after ``(rank, created_at, id)``; each comment with its rank."""
        margin = select(func.min(func.abs(CheckResultRow.score - 0.5))).where(
            CheckResultRow.comment_id == Comment.id, CheckResultRow.score.is_not(None)
        )
        if q.check:
            margin = margin.where(CheckResultRow.check == q.check)
        rank = func.coalesce(margin.scalar_subquery(), 1.0)
        query = _queue_filters(select(Comment, rank), q)
        if after is not None:
            query = query.where(
                or_(rank > after[0], and_(rank == after[0], _after(after[1], after[2])))
            )
        rows = self.s.execute(query.order_by(rank, Comment.created_at, Comment.id).limit(limit))
        return [(comment, float(value)) for comment, value in rows.tuples()]

    def author_counts(self, comment: Comment) -> dict[str, int]:
        """The author's comments on the comment's site, counted by status."""
        rows = self.s.execute(
            select(Comment.status, func.count())
            .where(_same_author(comment))
            .group_by(Comment.status)
        ).tuples()
        return {status: int(count) for status, count in rows}

    def author_recent(self, comment: Comment, limit: int) -> list[Row[Any]]:
        """The author's other comments on the site, newest first: id, thread_id, status,
        created_at."""
        return list(
            self.s.execute(
                select(Comment.id, Comment.thread_id, Comment.status, Comment.created_at)
                .where(_same_author(comment), Comment.id != comment.id)
                .order_by(Comment.created_at.desc())
                .limit(limit)
            ).all()
        )

    def of_author_for_update(self, site_id: int, author_hash: str) -> Sequence[Comment]:
        return self.s.scalars(
            select(Comment)
            .where(Comment.site_id == site_id, Comment.author_hash == author_hash)
            .with_for_update()
        ).all()

    def with_email_after(self, after: str, limit: int) -> Sequence[Comment]:
        """The next ``limit`` comments holding an encrypted email, by id, locked."""
        return self.s.scalars(
            select(Comment)
            .where(Comment.author_email_encrypted.is_not(None), Comment.id > after)
            .order_by(Comment.id)
            .limit(limit)
            .with_for_update()
        ).all()


def _same_author(comment: Comment) -> Any:
    return and_(Comment.site_id == comment.site_id, Comment.author_hash == comment.author_hash)


def _mirror(comment: Comment, values: dict[str, Any]) -> None:
    for name, value in values.items():
        set_committed_value(comment, name, value)


def thread_page(
    conn: Connection,
    site_slug: str,
    thread_id: str,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[Row[Any]] | None:
    """Up to ``limit`` published comments of a thread after the keyset ``after``, oldest
    first (one Core statement joined on the site's slug); ``None`` when the page is empty
    because the site does not exist (looked up only then)."""
    params: dict[str, Any] = {"slug": site_slug, "thread_id": thread_id, "limit": limit}
    if after is not None:
        params["after_created_at"], params["after_id"] = after
    rows = list(conn.execute(thread_page_statement(after is not None), params).all())
    if not rows and conn.scalar(select(Site.id).where(Site.slug == site_slug)) is None:
        return None
    return rows


@functools.cache
def thread_page_statement(has_cursor: bool) -> Any:
    """The thread page query, built once (building a statement costs as much as running it):
    parameters ``slug``, ``thread_id``, ``limit`` and, after a cursor, ``after_created_at`` and
    ``after_id``."""
    query = (
        select(*VIEW_COLUMNS)
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


def _queue_filters(query: Any, q: QueueQuery) -> Any:
    """``query`` narrowed to the queue filter ``q`` (every field but the keyset)."""
    query = query.where(Comment.site_id.in_(q.site_ids), Comment.status == q.status)
    if q.lang:
        query = query.where(Comment.lang == q.lang)
    if q.check:
        query = query.where(
            exists().where(
                CheckResultRow.comment_id == Comment.id,
                CheckResultRow.check == q.check,
                CheckResultRow.verdict != "clean",
            )
        )
    if q.reason:
        # reasons is a JSON list of snake_case codes: match the quoted code exactly.
        query = query.where(
            cast(Comment.reasons, String).contains(f'"{q.reason}"', autoescape=True)
        )
    if q.author_key:
        query = query.where(Comment.author_hash == q.author_key)
    if q.since:
        query = query.where(Comment.created_at >= q.since)
    if q.until:
        query = query.where(Comment.created_at < q.until)
    return query


def _after(created_at: datetime, comment_id: str) -> Any:
    return or_(
        Comment.created_at > created_at,
        and_(Comment.created_at == created_at, Comment.id > comment_id),
    )


def _before(created_at: datetime, comment_id: str) -> Any:
    return or_(
        Comment.created_at < created_at,
        and_(Comment.created_at == created_at, Comment.id < comment_id),
    )
