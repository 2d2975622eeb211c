"""Public and site reads of comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.db.comments import thread_page
from service.db.models import (
    Comment,
)
from service.usecases.services import (
    NotFound,
    Services,
    SiteRef,
    decode_cursor,
    encode_cursor,
)


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
    with svc.uow() as uow:
        c = uow.comments.get_in_site(site.id, comment_id)
        if c is None:
            raise NotFound()
        return _view(c)


@dataclass(frozen=True)
class ThreadPage:
    items: list[CommentView]
    next_cursor: str | None


def list_thread(
    svc: Services, site_slug: str, thread_id: str, limit: int, cursor: str | None
) -> ThreadPage:
    """Published comments of a thread, oldest first, keyset-paginated.

    The hot read path: one Core query (no ORM objects) joined on the site's slug; the site
    is looked up on its own only when the page is empty, to tell 404 from an empty thread.
    """
    after = decode_cursor(cursor) if cursor else None
    with svc.storage.reader() as conn:
        rows = thread_page(conn, site_slug, thread_id, limit + 1, after)
    if rows is None:
        raise NotFound("unknown site", resource="site")
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
        encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit and items else None
    )
    return ThreadPage(items, next_cursor)
