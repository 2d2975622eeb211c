"""Spam detector behaviours the pipeline relies on (default artifacts loaded)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workers.checks.base import CheckInput, CheckResult
from workers.checks.links import find_links
from workers.checks.registry import get_detector
from workers.checks.spam import SpamDetector
from workers.checks.textmodel import N_FEATURES, TextModel


def run(text: str, **kwargs: object) -> CheckResult:
    return get_detector("spam").run(CheckInput(text=text, **kwargs))  # type: ignore[arg-type]


CLEAN = [
    "पुतिन और किम की यह संधि एशिया की सुरक्षा के लिए चिंता का विषय है।",
    "Bahut badhiya article hai, poora context mil gaya. Dhanyavaad!",
    "In 2019 the government promised 2 crore jobs; unemployment is still 7.8% in 2024.",
    "The accused in the Delhi murder case was arrested after 3 days, police said.",
    "Putin and Kim's treaty will worry Japan. The war in Ukraine is far from over.",
    "Rahul Gandhi and Narendra Modi both spoke about inflation at the rally on 15 August.",
    "Good analysis. The RBI report (https://rbi.org.in/Scripts/Annual.aspx) says the same thing.",
    "मोदी सरकार ने 2014 में 15 लाख का वादा किया था, वो कहाँ गया?",
    "Sab neta ek jaise hain, chunav ke baad koi nahi aata.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_ordinary_comments_are_clean(text: str) -> None:
    result = run(text)
    assert result.verdict == "clean", result


BLATANT = [
    "Buy cheap viagra online, no prescription! Visit www.pills-cheap.com now",
    "Earn 50000 per month from home!!! WhatsApp 9876543210",
    "घर बैठे पैसे कमाएं! रोज ₹5000 कमाएं, व्हाट्सएप करें 9876543210",
    "Ghar baithe paise kamaye, online kamai 5000 rozana, whatsapp karein 9876543210",
    "Best online casino bonus, join now at bit.ly/xyz123",
    "Instant loan approved in 5 minutes, no credit check! Call +91 98765 43210",
    "Double your bitcoin in 24 hours, guaranteed returns. Telegram t.me/cryptoking",
    "Satta matka king result fast, sampark kare 9876543210",
]


@pytest.mark.parametrize("text", BLATANT)
def test_obvious_spam_is_blatant(text: str) -> None:
    result = run(text)
    assert result.verdict == "blatant", result


def test_honeypot_is_blatant_with_score_one() -> None:
    result = run("Nice article", is_honeypot_filled=True)
    assert (result.verdict, result.score) == ("blatant", 1.0)
    assert "honeypot" in result.reasons


def test_too_fast_alone_is_at_most_suspect() -> None:
    fast = run("Nice article, thanks", seconds_to_submit=1.2)
    slow = run("Nice article, thanks", seconds_to_submit=45.0)
    assert "too_fast" in fast.reasons and "too_fast" not in slow.reasons
    assert fast.verdict == "suspect" and fast.score > slow.score
    assert slow.verdict == "clean"


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("no links here, e.g. this. Mr.Modi said so.", 0),
        ("see https://example.com/a and www.example.org", 2),
        ("visit example.com/x today", 1),
        ("go to example.com", 1),
        ("one http://a.in/x two bit.ly/abc three t.me/chan", 3),
        ("It was good.in my view", 0),
        ("mail me at someone@example.com", 0),
    ],
)
def test_links_signal_counts_links_in_text(text: str, links: int) -> None:
    result = run(text)
    assert result.signals["links"] == links
    spans = [text[e.start : e.end] for e in result.evidence if e.label == "link"]
    assert len(spans) == links
    if links:
        assert "links" in result.reasons


def test_links_not_counted_from_author_url() -> None:
    result = run("Nice", author_url="http://bit.ly/spam")
    assert result.signals["links"] == 0
    assert "author_url" in result.reasons


def test_link_evidence_spans_are_exact() -> None:
    text = "Read https://example.com/x?y=1 and bit.ly/abc"
    assert [text[s:e] for s, e, _ in find_links(text)] == [
        "https://example.com/x?y=1",
        "bit.ly/abc",
    ]
    result = run(text)
    assert "shortener" in result.reasons


def test_phone_in_devanagari_digits_maps_to_original_span() -> None:
    text = "संपर्क करें ९८७६५४३२१० पर"
    result = run(text)
    assert "phone_number" in result.reasons
    spans = [text[e.start : e.end] for e in result.evidence if e.label == "phone_number"]
    assert spans == ["९८७६५४३२१०"]


def test_a_year_or_price_is_not_a_phone_number() -> None:
    result = run("In 2019 it cost Rs 45,000 and in 2024 it was 52000.")
    assert "phone_number" not in result.reasons


def test_shouting_and_repetition() -> None:
    assert "shouting" in run("BUY NOW THIS IS THE BEST OFFER EVER").reasons
    assert "shouting" not in run("The BJP and the INC met in Delhi today").reasons
    assert "repetition" in run("subscribe subscribe subscribe subscribe subscribe now").reasons


def test_author_name_keywords() -> None:
    result = run("Thanks for sharing", author_name="Cheap Viagra Online Pharmacy")
    assert "author_name_keywords" in result.reasons
    assert "author_name_keywords" not in run("Thanks", author_name="Rahul Sharma").reasons


def test_result_contract() -> None:
    result = run("Earn money from home, call 9876543210")
    assert result.check == "spam"
    assert 0.0 <= result.score <= 1.0
    assert result.model.count("@") == 1
    assert all(
        0 <= e.start < e.end <= len("Earn money from home, call 9876543210")
        for e in result.evidence
    )
    assert result.lang == "en"


@pytest.mark.parametrize("text", ["", " ", "\u200b", "😀" * 500, "a" * 20000, "\x00\x01"])
def test_odd_text_never_raises(text: str) -> None:
    result = run(text)
    assert result.verdict in {"clean", "suspect", "blatant"}


def _constant_model(probability: float, **meta: object) -> TextModel:
    """A stub artifact that scores every text ``probability`` (bias only, zero weights)."""
    bias = math.log(probability / (1.0 - probability))
    return TextModel(
        "stub", "0", np.zeros(N_FEATURES), np.ones(N_FEATURES), bias, {"threshold": 0.5, **meta}
    )


def test_a_confidently_ham_model_vetoes_soft_hints_only() -> None:
    soft_only = "FREE GIFT FOR EVERY READER WHO COMMENTS TODAY"  # offer phrase + shouting
    assert SpamDetector().run(CheckInput(text=soft_only)).verdict == "suspect"
    vetoed = SpamDetector(model_artifact=_constant_model(0.02, ham_bar=0.1))
    result = vetoed.run(CheckInput(text=soft_only))
    assert result.verdict == "clean" and result.signals["model_veto"] == 1.0
    assert "spam_phrase" in result.reasons  # the evidence is still reported
    # Not vetoed: a model that is unsure, or a hard rule (a phone number).
    unsure = SpamDetector(model_artifact=_constant_model(0.2, ham_bar=0.1))
    assert unsure.run(CheckInput(text=soft_only)).verdict != "clean"
    with_phone = vetoed.run(CheckInput(text=soft_only + " CALL 9876543210"))
    assert with_phone.verdict != "clean" and "model_veto" not in with_phone.signals


def test_the_model_alone_needs_its_strictest_bar_when_no_rule_found_anything() -> None:
    # threshold 0.5 (supported), threshold_alone 0.65 (a soft hint), threshold_bare 0.8 (none).
    detector = SpamDetector(
        model_artifact=_constant_model(0.7, threshold_alone=0.65, threshold_bare=0.8)
    )
    bare = detector.run(CheckInput(text="Thoughtful piece on the monsoon session of parliament."))
    assert bare.verdict == "clean" and "spam_model" not in bare.reasons
    one_link = detector.run(CheckInput(text="Thoughtful piece, see https://example.org/a"))
    assert one_link.verdict == "suspect" and "spam_model" in one_link.reasons
    # Without a bare bar the artifact's threshold_alone applies to every unsupported comment.
    older = SpamDetector(model_artifact=_constant_model(0.7, threshold_alone=0.65))
    unsupported = older.run(CheckInput(text="Thoughtful piece on the monsoon session."))
    assert unsupported.verdict == "suspect"
