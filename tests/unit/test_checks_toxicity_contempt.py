"""Issue 13, rules 6: political contempt from news words (chor, dalal, bhakt, Pappu) only in an
insulting construction; harmless fixed phrases ("3 Idiots", "Pappu Yadav") never count."""

from __future__ import annotations

import pytest

from workers.checks.base import CheckInput
from workers.checks.contempt_patterns import drop_safe, find_contempt
from workers.checks.normalize import LexiconEntry, LexiconMatch, normalize
from workers.checks.registry import get_detector


def verdict(text: str) -> str:
    return get_detector("toxicity").run(CheckInput(text=text)).verdict


@pytest.mark.parametrize(
    "text",
    [
        "ye neta chor hai",
        "tum chor ho",
        "chor sarkar ko hatao",
        "choron ki party",
        "ये नेता चोर है",
        "चोर सरकार",
        "tum log dalal ho",
        "dalal media",
        "दलाल मीडिया",
        "tum andhbhakt",
        "bhakt mandali aa gayi",
        "pappu ke chamche",
        "rahul pappu",
        "You people are anti-nationals",
        "anti nationals like you",
    ],
)
def test_insulting_constructions_are_found(text: str) -> None:
    hits = find_contempt(normalize(text))
    assert [m.entry.term for m in hits] == ["pattern:contempt"], text
    assert all(m.entry.severity == 1 for m in hits)


@pytest.mark.parametrize(
    "text",
    [
        "police ne chor ko station ke bahar pakad liya",
        "पुलिस ने तीन चोरों को गिरफ्तार किया",
        "Chor Bazaar mein purane camera sasti mil jaate hain",
        "property dalal ne 2% commission maanga",
        "Sensex closed higher on Dalal Street",
        "प्रॉपर्टी दलाल ने फर्जी कागज बनाकर प्लॉट बेचा",
        "bhakt log subah 4 baje se line mein khade the",
        "नवरात्रि पर मंदिर में हजारों भक्त दर्शन के लिए पहुंचे।",
        "Pappu Yadav ne Purnia se nomination bhara",
        "The judge said criticism of the government is not anti-national.",
    ],
)
def test_news_uses_are_not_found_and_stay_clean(text: str) -> None:
    assert find_contempt(normalize(text)) == [], text
    assert verdict(text) == "clean", text


@pytest.mark.parametrize(
    "text",
    [
        "ye neta chor hai, jail mein daalo isko",  # two mild hits
        "tum chor ho",  # a mild hit aimed at the reader
        "You people are anti-nationals, leave the country",
        "इस चोर सरकार को सबक सिखाना होगा",
        "Go to hell you traitor",
        "Shame on you, you sold your soul",
    ],
)
def test_contempt_with_a_second_signal_is_held(text: str) -> None:
    assert verdict(text) != "clean", text


@pytest.mark.parametrize(
    "text", ["ye neta chor hai", "Shame on the government for ignoring the floods", "Feku ki rally"]
)
def test_one_mild_signal_alone_is_published(text: str) -> None:
    assert verdict(text) == "clean", text


def test_hits_inside_harmless_phrases_are_dropped() -> None:
    norm = normalize("3 Idiots is a film; these idiots are not")
    entry = LexiconEntry("idiot*", "insult", 2)
    hits = [LexiconMatch(2, 8, entry), LexiconMatch(26, 32, entry)]
    assert drop_safe(norm, hits) == [hits[1]]
    assert verdict("3 Idiots is still my favourite film") == "clean"
    assert verdict("April Fools' Day prank by the bank fooled many") == "clean"
