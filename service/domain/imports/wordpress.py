"""WordPress WXR exports: every ``wp:comment`` of every ``item`` (post), with its post's id
as the thread and its link as the thread URL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from service.domain.imports.records import (
    ANONYMOUS,
    Entry,
    Malformed,
    State,
    parse_gmt,
)
from service.domain.imports.xmlstream import XmlEvent, local, namespace, xml_events

WP_NAMESPACE_PREFIX = "http://wordpress.org/export/"
APPROVED: dict[str, State] = {
    "1": State.APPROVED,
    "0": State.PENDING,
    "spam": State.SPAM,
    "trash": State.TRASH,
}
PINGBACK_TYPES = frozenset({"pingback", "trackback"})


def _is_wp(event: XmlEvent) -> bool:
    return namespace(event.name).startswith(WP_NAMESPACE_PREFIX)


def parse_wordpress(
    stream: BinaryIO, *, keep_pingbacks: bool = False
) -> Iterator[Entry | Malformed]:
    """Yield each comment of the export (pingbacks and trackbacks only with
    ``keep_pingbacks``). The comments of one post are yielded when the post ends, so its id
    and link are known whatever the order of its elements; memory holds one post."""
    item_depth = 0
    post: dict[str, str] = {}
    comments: list[tuple[int, dict[str, str]]] = []
    fields: dict[str, str] | None = None
    comment_depth = 0
    for event in xml_events(stream):
        name = local(event.name)
        if event.kind == "start":
            if name == "item" and not namespace(event.name):
                item_depth, post, comments = event.depth, {}, []
            elif name == "comment" and _is_wp(event) and item_depth:
                fields, comment_depth = {}, event.depth
                comments.append((event.line, fields))
            continue
        if fields is not None and event.depth == comment_depth + 1 and _is_wp(event):
            fields[name] = event.text
        elif fields is not None and event.depth == comment_depth:
            fields = None
        elif item_depth and event.depth == item_depth + 1:
            if name in ("post_id", "post_type") and _is_wp(event):
                post[name] = event.text.strip()
            elif name == "link" and not namespace(event.name):
                post["link"] = event.text.strip()
        elif item_depth and event.depth == item_depth and name == "item":
            item_depth = 0
            for line, comment in comments:
                entry = _entry(line, post, comment, keep_pingbacks)
                if entry is not None:
                    yield entry


def _entry(
    line: int, post: dict[str, str], c: dict[str, str], keep_pingbacks: bool
) -> Entry | Malformed | None:
    source_id = c.get("comment_id", "").strip()
    if (c.get("comment_type") or "").strip() in PINGBACK_TYPES and not keep_pingbacks:
        return None
    if not source_id:
        return Malformed(line, "missing_comment_id")
    state = APPROVED.get((c.get("comment_approved") or "").strip())
    if state is None:
        return Malformed(line, "unknown_approved_state", source_id)
    thread_id = post.get("post_id", "")
    if not thread_id:
        return Malformed(line, "missing_post_id", source_id)
    created_at = parse_gmt(c.get("comment_date_gmt", "")) or parse_gmt(c.get("comment_date", ""))
    if created_at is None:
        return Malformed(line, "invalid_date", source_id)
    parent = (c.get("comment_parent") or "").strip()
    return Entry(
        position=line,
        source_id=source_id,
        thread_id=thread_id,
        thread_url=post.get("link") or None,
        text=c.get("comment_content", ""),
        created_at=created_at,
        state=state,
        parent_source_id=parent if parent not in ("", "0") else None,
        author_name=c.get("comment_author", "").strip() or ANONYMOUS,
        author_email=c.get("comment_author_email", "").strip() or None,
        author_url=c.get("comment_author_url", "").strip() or None,
        author_ip=c.get("comment_author_IP", "").strip() or None,
    )
