"""Toxicity detector: abuse in three languages, severity, spans into the original text."""

from __future__ import annotations

import pytest

from workers.checks.base import CheckInput, CheckResult
from workers.checks.registry import get_detector
from workers.checks.toxicity import ToxicityDetector


def run(text: str) -> CheckResult:
    return get_detector("toxicity").run(CheckInput(text=text))


@pytest.mark.parametrize(
    "text",
    [
        "you are a fucking idiot",
        "तू हरामी कमीना है",
        "साले कुत्ते",
        "tu chutiya hai",
        "madarchod",
        "saale harami",
        "f u c k you",
        "ѕhut up you іdiot",
        "bhenchod kya bakwas hai",
        # Release 4 lexicon: vocatives, "like a dog", "go drown", and two mild words together.
        "sharam karo kamino",
        "ye log kutte ki tarah bhonkte hai",
        "चुल्लू भर पानी में डूब मरो",
        "bikau media ke dalal",
        "गद्दार देशद्रोही नेता",
    ],
)
def test_plain_abuse_is_not_clean(text: str) -> None:
    assert run(text).verdict in {"suspect", "blatant"}


@pytest.mark.parametrize(
    "text",
    [
        "I will kill you",
        "tujhe jaan se maar dunga",
        "तुझे गोली मार दूंगा",
        "you fucking nigger",
        "katue sab desh ke gaddar hai",
        "teri maa ki chut",
    ],
)
def test_severe_abuse_threats_and_slurs_are_blatant(text: str) -> None:
    result = run(text)
    assert result.verdict == "blatant", result
    assert result.signals["severity"] == 3


@pytest.mark.parametrize(
    "text",
    [
        "पुतिन और किम की यह संधि एशिया की सुरक्षा के लिए चिंता का विषय है।",
        "Bahut badhiya article hai, poora context mil gaya. Dhanyavaad!",
        "The rape accused was arrested; the court will hear the murder case next week.",
        "Bharat ki kootneeti is baar safal rahi",
        "Chhod do yaar, politics mein sab chalta hai",
        "आवारा कुत्तों की समस्या पर नगर निगम को ध्यान देना चाहिए।",
        # Mild words that are also ordinary ("years", "dogs", "traitor" in a report) stay clean.
        "Pichhle 10 salo se sadak nahi bani",
        "सालो से इस पुल का काम अधूरा है",
        "The court called the spy a traitor to the nation.",
        "Israel and Hamas war: both sides have killed civilians, the UN said.",
    ],
)
def test_ordinary_comments_are_clean(text: str) -> None:
    result = run(text)
    assert result.verdict == "clean", result


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe United beat Sussex 2-1",
        "The shiitake stall passed its assessment",
        "Essex",
        "This class assignment was hard",
        "Why is nobody talking about the floods in Assam?",
    ],
)
def test_scunthorpe_words_give_no_lexicon_hit_and_are_published(text: str) -> None:
    # Neither the lexicon nor the model (word-weighted features, calibrated threshold) may
    # hold these; this test used to allow a model hold ("known limitation"), no longer.
    assert ToxicityDetector().run(CheckInput(text=text)).verdict == "clean"
    result = run(text)
    assert result.evidence == () and result.verdict == "clean"


def test_reasons_and_severity() -> None:
    result = run("you are a fucking idiot")
    assert {"profanity", "insult"} <= set(result.reasons)
    assert result.signals["severity"] >= 2
    threat = run("I will kill you")
    assert "threat" in threat.reasons


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ｙｏｕ ａｒｅ ａｎ ｉｄｉｏｔ", ["ｉｄｉｏｔ"]),
        ("ok\u200b fu\u200bck\u200b you", ["fu\u200bck"]),
        ("सुन बे हरा\u200dमी", ["हरा\u200dमी"]),
        ("kya c.h.u.t.i.y.a hai tu", ["c.h.u.t.i.y.a"]),
        ("सुन बे हरामज़ादे", ["हरामज़ादे"]),
        ("chuuuuutiyaaa", ["chuuuuutiyaaa"]),
    ],
)
def test_evidence_spans_index_the_original_text(text: str, expected: list[str]) -> None:
    # Lexicon evidence only (the model's evidence has no span): rules-only detector.
    result = ToxicityDetector().run(CheckInput(text=text))
    assert [text[e.start : e.end] for e in result.evidence] == expected


def test_rules_only_detector_works_without_artifacts() -> None:
    detector = ToxicityDetector()
    assert detector.model.startswith("toxicity-rules@")
    assert detector.run(CheckInput(text="madarchod")).verdict == "blatant"
    assert detector.run(CheckInput(text="nice article")).verdict == "clean"


@pytest.mark.parametrize(
    ("text", "masked"),
    [("you are a f*cking idiot", "f*cking"), ("tu ch*tiya hai", "ch*tiya"), ("sh!t", "sh!t")],
)
def test_masked_profanity_is_evidence_on_the_original_text(text: str, masked: str) -> None:
    result = get_detector("toxicity").run(CheckInput(text=text))
    spans = [text[e.start : e.end] for e in result.evidence]
    assert masked in spans


@pytest.mark.parametrize("text", ["5*3 = 15, a*b = c", "This is *really* important.", "Note*"])
def test_symbols_in_harmless_text_are_not_profanity(text: str) -> None:
    assert get_detector("toxicity").run(CheckInput(text=text)).evidence == ()
