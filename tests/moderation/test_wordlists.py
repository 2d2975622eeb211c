"""Blocked/watched word matching keeps Devanagari words whole (pure, fast)."""

from __future__ import annotations

import pytest

from service.domain.wordlists import find_words, fold_word, is_valid_entry

DEVANAGARI = "कमल"  # lotus (ka-ma-la)


@pytest.mark.parametrize(
    ("text", "entries", "expected"),
    [
        # Devanagari: the whole word, whatever surrounds it
        ("झील में कमल खिला है।", [DEVANAGARI], ["कमल"]),
        ("कमल, कमल!", [DEVANAGARI], ["कमल", "कमल"]),
        # a different vowel sign is a different word: कमाल (amazing) ≠ कमल (lotus)
        ("क्या कमाल का लेख है", [DEVANAGARI], []),
        # ... and so are a virama (कम्ल) and an added vowel sign at the end (कमला)
        ("कम्ल कमला", [DEVANAGARI], []),
        # the blocked word never matches inside a longer word, even at a vowel sign boundary
        ("कमीनापन", ["कमीना"], []),
        ("तू कमीना है", ["कमीना"], ["कमीना"]),
        ("तू कमीनी है", ["कमीना"], []),
        # nukta: precomposed क़ (U+0958) and क + ़ are the same letter
        ("\u0958\u0932\u092e उठाओ", ["\u0915\u093c\u0932\u092e"], ["\u0958\u0932\u092e"]),
        # ... but a nukta makes another letter: ज़मीन ≠ जमीन
        ("जमीन", ["ज\u093cमीन"], []),
        # an invisible joiner cannot split a word to dodge the list
        ("तू कमी\u200dना है", ["कमीना"], ["कमी\u200dना"]),
        # Hinglish and English: case-insensitive whole words
        ("Ye banda CHUTIYA hai", ["chutiya"], ["CHUTIYA"]),
        ("chutiyapa band karo", ["chutiya"], []),
        ("What an Idiot.", ["idiot"], ["Idiot"]),
        ("idiotic", ["idiot"], []),
        # a trailing * matches longer words; phrases match word sequences
        ("Play casinos online", ["casino*"], ["casinos"]),
        ("free  money now", ["free money"], ["free  money"]),
        ("free moneys", ["free money"], []),
    ],
)
def test_find_words(text: str, entries: list[str], expected: list[str]) -> None:
    assert [text[m.start : m.end] for m in find_words(text, entries)] == expected


def test_fold_and_validity() -> None:
    assert fold_word("\u0958") == fold_word("\u0915\u093c")
    assert fold_word("ABC") == "abc"
    assert is_valid_entry("कमल") and is_valid_entry("casino*")
    assert not is_valid_entry("  ") and not is_valid_entry("***") and not is_valid_entry("x" * 101)
