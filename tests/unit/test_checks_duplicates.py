"""RecentSpamIndex: near-duplicates found, unrelated text not, capacity bounded."""

from __future__ import annotations

from workers.checks.duplicates import RecentSpamIndex

SPAM = "Make 5000 rupees daily from your phone, no investment, message me on whatsapp now"


def test_near_duplicate_scores_high_and_unrelated_low() -> None:
    index = RecentSpamIndex()
    index.add(SPAM)
    assert index.similarity(SPAM.replace("5000", "7000")) > 0.6
    assert index.similarity("The finance minister presented the budget in parliament today") < 0.2


def test_capacity_evicts_oldest() -> None:
    index = RecentSpamIndex(capacity=1)
    index.add(SPAM)
    index.add("A completely different template about cheap loans and credit cards online")
    assert index.similarity(SPAM) < 0.2


def test_short_texts_are_ignored() -> None:
    index = RecentSpamIndex()
    index.add("hi")
    assert index.similarity("hi") == 0.0
