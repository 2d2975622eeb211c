"""Disqus exports: ``thread`` elements (an article: identifier and link), then ``post``
elements (comments) naming their thread and parent by Disqus id, with ``isSpam`` and
``isDeleted``. A post's message is HTML; it is stored as the text a reader typed."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import BinaryIO

from service.domain.imports.records import ANONYMOUS, Entry, Malformed, State, parse_gmt
from service.domain.imports.xmlstream import local, xml_events

DSQ_ID = "http://disqus.com/disqus-internals id"
BLOCKS = frozenset({"p", "br", "div", "blockquote", "li"})


class _Text(HTMLParser):
    """Paragraphs and line breaks become new lines; a link keeps its address (spam checks
    count links) unless its text already is the address."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: str | None = None
        self.link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
        if tag == "a":
            self.href = dict(attrs).get("href")
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.href:
            shown = "".join(self.link_text).strip()
            if self.href not in shown:
                self.parts.append(f" ({self.href})")
            self.href = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self.href is not None:
            self.link_text.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


def _is_true(raw: str | None) -> bool:
    return (raw or "").strip().lower() == "true"


def parse_disqus(stream: BinaryIO) -> Iterator[Entry | Malformed]:
    """Yield each post of the export. Threads are remembered by Disqus id (an export lists
    them before their posts); memory holds the threads, not the posts."""
    threads: dict[str, tuple[str, str | None]] = {}
    record: dict[str, str] | None = None
    record_kind, record_depth, record_line = "", 0, 0
    for event in xml_events(stream):
        name = local(event.name)
        if event.kind == "start":
            if event.depth == 2 and name in ("thread", "post"):
                record = {"id@": (event.attrs or {}).get(DSQ_ID, "")}
                record_kind, record_depth, record_line = name, event.depth, event.line
            elif record is not None and name in ("thread", "parent"):
                record[f"{name}@"] = (event.attrs or {}).get(DSQ_ID, "")
            continue
        if record is None:
            continue
        if event.depth == record_depth + 1:
            record[name] = event.text
        elif event.depth == record_depth + 2:
            record[f"author/{name}"] = event.text
        elif event.depth == record_depth:
            if record_kind == "thread":
                identifier = record.get("id", "").strip() or record.get("link", "").strip()
                threads[record["id@"]] = (identifier, record.get("link", "").strip() or None)
            else:
                yield _entry(record_line, record, threads)
            record = None


def _entry(
    line: int, post: dict[str, str], threads: dict[str, tuple[str, str | None]]
) -> Entry | Malformed:
    source_id = post.get("id@", "").strip()
    if not source_id:
        return Malformed(line, "missing_post_id")
    thread = threads.get(post.get("thread@", ""))
    if thread is None or not thread[0]:
        return Malformed(line, "unknown_thread", source_id)
    created_at = parse_gmt(post.get("createdAt", ""))
    if created_at is None:
        return Malformed(line, "invalid_date", source_id)
    if _is_true(post.get("isSpam")):
        state = State.SPAM
    elif _is_true(post.get("isDeleted")):
        state = State.TRASH
    elif post.get("isApproved", "true").strip().lower() == "false":
        state = State.PENDING
    else:
        state = State.APPROVED
    return Entry(
        position=line,
        source_id=source_id,
        thread_id=thread[0],
        thread_url=thread[1],
        text=html_to_text(post.get("message", "")),
        created_at=created_at,
        state=state,
        parent_source_id=post.get("parent@") or None,
        author_name=post.get("author/name", "").strip() or ANONYMOUS,
        author_email=post.get("author/email", "").strip() or None,
        author_ip=post.get("ipAddress", "").strip() or None,
    )
