"""The news-comment spam audit: its counting on a small labelled fixture, and the shipped file."""

from __future__ import annotations

import csv
from pathlib import Path

from workers.training.audit import AUDIT_PATH, audit_spam


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def test_audit_counts_holds_against_labels(tmp_path: Path) -> None:
    texts = ["buy now", "good article", "earn daily", "nice", "call me", "ok"]
    _write(tmp_path / "news" / "train.csv", ["text", "label"], [[t, "ok"] for t in texts])
    audit = tmp_path / "audit.csv"
    # Rows 0, 2 and 4 are spam; 0, 1, 2 were drawn as holds, 3 and 4 at random from the rest.
    _write(
        audit,
        ["dataset", "row", "label", "drawn"],
        [
            ["news", 0, "spam", "held"],
            ["news", 1, "ham", "held"],
            ["news", 2, "spam", "held"],
            ["news", 3, "ham", "random"],
            ["news", 4, "spam", "random"],
        ],
    )
    # This detector holds "buy now", "good article" and the unlabelled "ok".
    held_words = {"buy now", "good article", "ok"}
    result = audit_spam(lambda batch: [t in held_words for t in batch], tmp_path, audit)
    assert result["comments"] == 6
    assert result["held"] == 3 and result["unlabelled_held"] == 1
    assert result["spam_held"] == 1 and result["precision"] == 0.5
    assert result["recall_known"] == round(1 / 3, 3)
    # Half the random draw is spam and 3 comments were not drawn as holds: 2 + 0.5 × 3.
    assert result["spam_estimate"] == round(2 + 1.5)


def test_shipped_audit_has_no_text_and_only_known_labels() -> None:
    with AUDIT_PATH.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["dataset", "row", "label", "drawn"]
        rows = list(reader)
    assert len(rows) > 1000
    assert {r["label"] for r in rows} == {"spam", "ham"}
    assert {r["drawn"] for r in rows} == {"held", "random"}
    assert {r["dataset"] for r in rows} == {"trac1_en", "trac1_hi"}
    assert len({(r["dataset"], r["row"]) for r in rows}) == len(rows)
