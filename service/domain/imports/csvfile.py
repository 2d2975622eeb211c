"""Label-only CSV: ``text,label[,lang,created_at,thread_id]`` with a header row. A label is a
check's own (``spam``/``ham``, ``toxic``/``ok``); the comment's status follows from it."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TextIO

from service.domain.imports.records import Entry, Malformed, State, parse_gmt
from service.domain.submission import LANG_TAG

CSV_THREAD = "csv-import"
REQUIRED = ("text", "label")
# The state a check's label implies for the comment it labels.
LABEL_STATES: dict[str, State] = {
    "spam": State.SPAM,
    "ham": State.APPROVED,
    "toxic": State.TRASH,
    "ok": State.APPROVED,
}


class CsvHeaderMissing(ValueError):
    pass


def parse_label_csv(
    stream: TextIO, started_at: datetime, labels: Mapping[str, State] = LABEL_STATES
) -> Iterator[Entry | Malformed]:
    """Yield each row. Without ``created_at`` a row is stamped ``started_at`` plus its row
    number in microseconds, so the file's order stays the labels' time order. The source id
    is a digest of the row's thread, time and text: the same row twice is one comment."""
    reader = csv.DictReader(stream)
    if reader.fieldnames is None or not set(REQUIRED) <= set(reader.fieldnames):
        raise CsvHeaderMissing("the CSV needs a header row with at least text,label")
    line = reader.line_num + 1
    for number, row in enumerate(reader, start=1):
        yield _entry(line, number, row, started_at, labels)
        line = reader.line_num + 1


def _entry(
    line: int,
    number: int,
    row: dict[str, str | None],
    started_at: datetime,
    labels: Mapping[str, State],
) -> Entry | Malformed:
    label = (row.get("label") or "").strip().lower()
    if label not in labels:
        return Malformed(line, "unknown_label")
    raw_time = (row.get("created_at") or "").strip()
    created_at = parse_gmt(raw_time) if raw_time else started_at + timedelta(microseconds=number)
    if created_at is None:
        return Malformed(line, "invalid_date")
    lang = (row.get("lang") or "").strip() or None
    if lang is not None and not LANG_TAG.match(lang):
        return Malformed(line, "invalid_lang")
    thread_id = (row.get("thread_id") or "").strip() or CSV_THREAD
    text = row.get("text") or ""
    digest = hashlib.sha256(f"{thread_id}\n{raw_time}\n{text}".encode()).hexdigest()
    return Entry(
        position=line,
        source_id=digest[:40],
        thread_id=thread_id,
        text=text,
        created_at=created_at,
        state=labels[label],
        lang=lang,
        label=label,
    )
