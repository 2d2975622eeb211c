"""The import parsers, pure: fixture exports in, entries and positioned malformed ones out."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.domain.imports.csvfile import parse_label_csv
from service.domain.imports.disqus import html_to_text, parse_disqus
from service.domain.imports.records import Entry, ExportRefused, Malformed, State
from service.domain.imports.wordpress import parse_wordpress

FIXTURES = Path(__file__).parent / "fixtures"


def _wordpress(**kwargs: bool) -> list[Entry | Malformed]:
    with (FIXTURES / "wordpress.xml").open("rb") as f:
        return list(parse_wordpress(f, **kwargs))


def test_wordpress_states_threads_parents_and_positions() -> None:
    entries = _wordpress()
    good = {e.source_id: e for e in entries if isinstance(e, Entry)}
    assert [e.state for e in good.values()][:5] == [
        State.APPROVED,
        State.APPROVED,
        State.SPAM,
        State.TRASH,
        State.PENDING,
    ]
    reply = good["2"]
    assert reply.parent_source_id == "1" and reply.thread_id == "101"
    assert reply.thread_url == "https://samachar.example/2024/02/budget-kisan/"
    assert reply.created_at == datetime(2024, 2, 2, 10, 30, tzinfo=UTC)  # the GMT date
    assert good["1"].text.startswith("बहुत अच्छा")
    assert "6" not in good  # the pingback is skipped by default
    bad = [e for e in entries if isinstance(e, Malformed)]
    assert [(m.position, m.reason, m.source_id) for m in bad] == [(124, "invalid_date", "8")]


def test_wordpress_keeps_pingbacks_when_asked() -> None:
    ids = {e.source_id for e in _wordpress(keep_pingbacks=True) if isinstance(e, Entry)}
    assert "6" in ids


def test_disqus_threads_spam_deleted_and_html() -> None:
    with (FIXTURES / "disqus.xml").open("rb") as f:
        entries = list(parse_disqus(f))
    good = {e.source_id: e for e in entries if isinstance(e, Entry)}
    assert good["7001"].thread_id == "article-cricket-final"
    assert good["7001"].text == "क्या शानदार मैच था!\nKohli ne kamaal kar diya."
    assert good["7002"].parent_source_id == "7001"
    assert good["7003"].state is State.SPAM and "https://earn.example/join" in good["7003"].text
    deleted = good["7004"]
    assert deleted.state is State.TRASH and deleted.author_email is None
    assert deleted.thread_id == "https://khabar.example/election-live"  # no identifier
    assert [(m.position, m.reason) for m in entries if isinstance(m, Malformed)] == [
        (73, "unknown_thread")
    ]


def test_html_to_text_keeps_a_link_once() -> None:
    assert html_to_text('<p>see <a href="https://x.example">https://x.example</a></p>') == (
        "see https://x.example"
    )


def test_label_csv_rows_and_positions() -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    with (FIXTURES / "labels.csv").open(encoding="utf-8", newline="") as f:
        entries = list(parse_label_csv(f, started))
    good = [e for e in entries if isinstance(e, Entry)]
    assert [e.label for e in good] == ["ok", "toxic", "spam", "ham", "ok"]
    assert good[0].lang == "hi" and good[1].lang == "hi-Latn"
    assert good[-1].thread_id == "csv-import" and good[-1].created_at > started
    assert [(m.position, m.reason) for m in entries if isinstance(m, Malformed)] == [
        (6, "unknown_label"),
        (7, "invalid_date"),
    ]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss><channel><item><title>&lol2;</title></item></channel></rss>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&secret;</title></item></channel></rss>
"""


@pytest.mark.parametrize("document", [BOMB, EXTERNAL])
def test_entity_declarations_are_refused(document: bytes) -> None:
    with pytest.raises(ExportRefused, match="entit"):
        list(parse_wordpress(io.BytesIO(document)))


def test_broken_xml_names_its_line() -> None:
    with pytest.raises(ExportRefused, match="line 3"):
        list(parse_wordpress(io.BytesIO(b"<rss>\n<channel>\n<item></channel></rss>")))
