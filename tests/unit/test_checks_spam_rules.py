"""Each spam rule on its own: what it finds, its weight, soft or hard, and its evidence."""

from __future__ import annotations

import pytest

from workers.checks import spam_rules as r
from workers.checks.base import CheckInput, Evidence
from workers.checks.spam import SpamDetector, run_rules

PHRASES = SpamDetector().phrases


def comment(text: str, **kwargs: object) -> r.Comment:
    item = CheckInput(text=text, **kwargs)  # type: ignore[arg-type]
    return r.Comment(item, PHRASES)


def test_rule_names_are_unique_and_every_rule_is_quiet_on_plain_text() -> None:
    names = [rule.name for rule in r.RULES]
    assert len(names) == len(set(names))
    plain = comment("The council met on Tuesday and agreed on the new budget.")
    assert {rule.name: list(rule.find(plain)) for rule in r.RULES} == {n: [] for n in names}


def test_honeypot_is_hard_and_certain() -> None:
    assert r.honeypot(comment("hi", is_honeypot_filled=True)) == [r.Hit("honeypot", 1.0)]
    assert r.honeypot(comment("hi")) == []


@pytest.mark.parametrize(("seconds", "fires"), [(None, False), (0.5, True), (3.0, False)])
def test_too_fast(seconds: float | None, fires: bool) -> None:
    hits = r.too_fast(comment("hi", seconds_to_submit=seconds))
    assert hits == ([r.Hit("too_fast", r.W_TOO_FAST)] if fires else [])


def test_links_plain_is_soft_shortener_and_messenger_are_hard() -> None:
    text = "see https://example.com and bit.ly/x or wa.me/919876543210"
    hits = r.links(comment(text))
    assert [(h.reason, h.is_soft) for h in hits] == [
        ("links", True),
        ("links", True),
        ("shortener", False),
        ("links", True),
        ("messaging_handle", False),
    ]
    assert hits[0].evidence == (Evidence(4, 23, "link"),)
    assert hits[2].evidence[0].label == "shortener"
    messenger = hits[4].evidence[0]
    assert text[messenger.start : messenger.end] == "wa.me/919876543210"


def test_phone_numbers_map_back_to_the_original_text() -> None:
    text = "call ९८७६५४३२१० today"  # Devanagari digits
    (hit,) = r.phone_numbers(comment(text))
    assert (hit.reason, hit.weight, hit.is_soft) == ("phone_number", r.W_PHONE, False)
    span = hit.evidence[0]
    assert text[span.start : span.end] == "९८७६५४३२१०"


def test_messaging_mention_is_soft_alone_and_hard_next_to_a_contact() -> None:
    (mention,) = r.messaging_mentions(comment("WhatsApp university strikes again"))
    assert (mention.weight, mention.is_soft) == (r.W_MESSAGING_MENTION, True)
    (contact,) = r.messaging_mentions(comment("whatsapp 9876543210"))
    assert (contact.weight, contact.is_soft) == (r.W_MESSAGING_CONTACT, False)
    (linked,) = r.messaging_mentions(comment("join telegram t.me/deals"))
    assert not linked.is_soft


def test_spam_phrases_label_their_category_and_only_severity_three_is_hard() -> None:
    hits = r.spam_phrases(comment("Buy cheap viagra online, no prescription!"))
    assert hits and all(h.reason == "spam_phrase" for h in hits)
    assert all(h.evidence[0].label.startswith("spam_phrase:") for h in hits)
    assert any(not h.is_soft for h in hits)
    assert all(h.is_soft == (h.weight < r.W_PHRASE[3]) for h in hits)


def test_money_is_a_soft_hint_per_amount() -> None:
    hits = r.money(comment("It cost ₹500 and then Rs. 1,200 more"))
    assert [h.evidence[0].label for h in hits] == ["money", "money"]
    assert all(h.is_soft and h.weight == r.W_MONEY for h in hits)


def test_shouting_needs_enough_letters() -> None:
    (hit,) = r.shouting(comment("THIS IS THE BEST OFFER EVER"))
    assert hit.is_soft and hit.evidence == (Evidence(0, 27, "shouting"),)
    assert r.shouting(comment("OK FINE")) == []


def test_repetition() -> None:
    assert r.repetition(comment("win win win win win win prize"))[0].reason == "repetition"
    assert r.repetition(comment("win win win")) == []  # too short to judge


def test_author_name_with_a_strong_phrase_or_a_link() -> None:
    assert r.author_name_keywords(comment("hi", author_name="cheap-pills.com"))
    assert r.author_name_keywords(comment("hi", author_name="Asha Verma")) == []


def test_author_url_sets_its_signal() -> None:
    (hit,) = r.author_url(comment("hi", author_url="https://bit.ly/abc"))
    assert hit.signals == (("author_url_spammy", 1.0),) and hit.is_soft
    assert r.author_url(comment("hi", author_url="https://asha.example.org")) == []


def test_the_loop_keeps_rule_order_lists_a_reason_once_and_counts_signals() -> None:
    found = run_rules(comment("bit.ly/a bit.ly/b call 9876543210", seconds_to_submit=1.0))
    assert found.reasons == ["too_fast", "links", "shortener", "phone_number"]
    assert found.signals == {"seconds_to_submit": 1.0, "links": 2.0, "phone_numbers": 1.0}
    assert len(found.weights) == 6 and len(found.hard) == 4
    assert [e.label for e in found.evidence] == [
        "link",
        "shortener",
        "link",
        "shortener",
        "phone_number",
    ]


def test_a_table_of_one_rule_runs_only_that_rule() -> None:
    only_money = (r.SpamRule("money", r.money),)
    found = run_rules(comment("₹500 at bit.ly/x", is_honeypot_filled=True), only_money)
    assert found.reasons == ["money"]
