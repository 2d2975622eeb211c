"""Read statements on the comments, built once and cached."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    or_,
    select,
)

from service.db.models import (
    Comment,
    Site,
)
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
