"""Hand-written news-comment sanity sets (workers/training/sanity/), through the real registry.

The sets are not drawn from the shared dev splits and are never trained on. They measure what
a news site notices first: ordinary comments (numbers, places such as Assam or Scunthorpe,
words such as "assignment", criticism, crime and war reporting) must be published, and
obvious abuse and spam in all three languages must not be.
"""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from workers.checks.base import CheckInput, CheckResult
from workers.checks.registry import get_detector
from workers.training.data import SANITY_DIR


def read(name: str) -> list[dict[str, str]]:
    with (SANITY_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def run(check: str, text: str) -> CheckResult:
    return get_detector(check).run(CheckInput(text=text))  # type: ignore[arg-type]


def test_sets_are_large_and_cover_three_languages() -> None:
    benign, abusive, spam = read("benign"), read("abusive"), read("spam")
    assert len(benign) >= 360 and len(abusive) >= 95 and len(spam) >= 40
    for rows in (benign, abusive, spam):
        langs = Counter(r["lang"] for r in rows)
        assert all(langs[lang] >= len(rows) // 4 for lang in ("en", "hi", "hi-Latn")), langs


def test_benign_comments_are_published() -> None:
    rows = read("benign")
    held = []
    for row in rows:
        verdicts = {check: run(check, row["text"]).verdict for check in ("spam", "toxicity")}
        assert "blatant" not in verdicts.values(), (row["text"], verdicts)
        if set(verdicts.values()) != {"clean"}:
            held.append((row["text"], verdicts))
    assert 1 - len(held) / len(rows) >= 0.98, held


@pytest.mark.parametrize(
    ("name", "check", "share"), [("abusive", "toxicity", 0.95), ("spam", "spam", 0.90)]
)
def test_positives_are_not_published(name: str, check: str, share: float) -> None:
    rows = read(name)
    missed = [r["text"] for r in rows if run(check, r["text"]).verdict == "clean"]
    assert 1 - len(missed) / len(rows) >= share, missed


@pytest.mark.parametrize(
    "text",
    [
        "पुतिन और किम की यह संधि एशिया की सुरक्षा के लिए चिंता का विषय है।",
        "Bahut badhiya article hai, poora context mil gaya. Dhanyavaad!",
        "A thoughtful article, thank you for the background.",
        "An ordinary, pleasant remark about the article.",
        "Thoughtful point number 1.",
        "Thoughtful point number 0.",
        "Thank you for this report, point 10 was new to me.",
        "Thank you for this report, point 47 was new to me.",
        "Benchmark comment s0-1-2: a calm, ordinary remark about the article.",
        "Why is nobody talking about the floods in Assam?",
        "This class assignment was hard",
    ],
)
def test_reported_false_positives_are_clean(text: str) -> None:
    assert run("spam", text).verdict == "clean"
    assert run("toxicity", text).verdict == "clean"


@pytest.mark.parametrize(
    "text",
    [
        "Buy cheap viagra and cialis online, no prescription! Best casino bonus, click "
        "www.pills-cheap.biz",
        "घर बैठे कमाएं 50000 रुपये महीना! अभी व्हाट्सएप करें 9876543210, लॉटरी जीतें",
    ],
)
def test_pipeline_spam_examples_are_blatant(text: str) -> None:
    assert run("spam", text).verdict == "blatant"


@pytest.mark.parametrize(
    "text",
    [
        "You are a fucking idiot and a moron, shut up",
        "तू हरामी कमीना है, साले कुत्ते",
        "tu chutiya hai madarchod saale harami",
    ],
)
def test_pipeline_abuse_examples_are_held_or_rejected(text: str) -> None:
    assert run("toxicity", text).verdict in {"suspect", "blatant"}
