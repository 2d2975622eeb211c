"""Rule-based Devanagari → Latin transliteration and a spelling *skeleton* shared by both scripts.

One curated lexicon entry should match the ways people actually write it: ``चूतिया``,
``chutiya``, ``chootiya``, ``chutia``, ``chuttiya``; ``हरामज़ादा``, ``haramzada``,
``haraamjaada``. Two steps make that possible without listing every variant:

- :func:`romanize` writes a Devanagari word in Latin letters the way Hinglish is typed:
  ITRANS-like letters (``aa``, ``ee``, ``oo``, ``chh``), the inherent vowel written as ``a``
  and dropped where Hindi drops it (word-final, and between a vowel-consonant and a
  consonant-vowel: ``हरामजादा`` → ``haraamjaadaa``, ``भड़वा`` → ``bhadvaa``);
- :func:`skeleton` folds the common Hinglish spelling alternations to one key: ``aa/a``,
  ``ee/i``, ``oo/u``, ``z/j``, ``w/v``, ``ph/f``, ``q/k``, ``ai/e``, ``iy + vowel/i``,
  doubled letters. ``ch`` and ``chh`` are **not** folded: ``chhoot`` (exemption, a news
  word) must not meet ``choot``; :func:`entry_skeletons` adds the ``ch``/``chh`` twin only for
  long entries written with ``chh``.

Both functions are pure and cached; the matcher that uses them is
:class:`workers.checks.variants.VariantLexicon`.
"""

from __future__ import annotations

from functools import lru_cache

import regex

_CONSONANTS = {
    "क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "n", "च": "ch", "छ": "chh", "ज": "j",
    "झ": "jh", "ञ": "n", "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n", "त": "t",
    "थ": "th", "द": "d", "ध": "dh", "न": "n", "प": "p", "फ": "ph", "ब": "b", "भ": "bh",
    "म": "m", "य": "y", "र": "r", "ल": "l", "व": "v", "श": "sh", "ष": "sh", "स": "s",
    "ह": "h", "ळ": "l",
}  # fmt: skip
_VOWEL_SIGNS = {
    "ा": "aa", "ि": "i", "ी": "ee", "ु": "u", "ू": "oo", "ृ": "ri", "े": "e", "ै": "ai",
    "ो": "o", "ौ": "au", "ॅ": "e", "ॉ": "o",
}  # fmt: skip
_VOWELS = {
    "अ": "a", "आ": "aa", "इ": "i", "ई": "ee", "उ": "u", "ऊ": "oo", "ऋ": "ri", "ए": "e",
    "ऐ": "ai", "ओ": "o", "औ": "au", "ऍ": "e", "ऑ": "o",
}  # fmt: skip
_VIRAMA = "्"
_NASALS = {"ं": "n", "ँ": "n"}
_VISARGA = "ः"
_NUKTA = "़"

_SKELETON_RULES: tuple[tuple[regex.Pattern[str], str], ...] = tuple(
    (regex.compile(pattern), repl)
    for pattern, repl in (
        (r"z", "j"),
        (r"w", "v"),
        (r"ph", "f"),
        (r"q", "k"),
        (r"ee|ii", "i"),
        (r"oo|uu", "u"),
        (r"ai|ae", "e"),
        (r"au", "o"),
        (r"(?<=i)y(?=[aeou])", ""),  # chutiya / chutia
        # Doubled letters and elongation (kutta/kuta, chuuutiya); not "hh", which would fold
        # chh into ch.
        (r"([^h])\1+", r"\1"),
    )
)
_LATIN_WORD = regex.compile(r"[a-z]+")


def has_devanagari(word: str) -> bool:
    return any("\u0900" <= c <= "\u097f" for c in word)


@lru_cache(maxsize=65536)
def romanize(word: str) -> str:
    """One Devanagari word in Hinglish-style Latin letters (other characters are dropped)."""
    # Each syllable: (consonant letters or "", vowel letters, vowel is the inherent schwa).
    syllables: list[list[str | bool]] = []
    for ch in word:
        if ch in _CONSONANTS:
            syllables.append([_CONSONANTS[ch], "a", True])
        elif ch in _VOWELS:
            syllables.append(["", _VOWELS[ch], False])
        elif ch in _VOWEL_SIGNS and syllables:
            syllables[-1][1], syllables[-1][2] = _VOWEL_SIGNS[ch], False
        elif ch == _VIRAMA and syllables:
            syllables[-1][1], syllables[-1][2] = "", False
        elif ch in _NASALS and syllables:
            syllables[-1][1] = f"{syllables[-1][1]}n"
            syllables[-1][2] = False
        elif ch == _VISARGA and syllables:
            syllables[-1][1] = f"{syllables[-1][1]}h"
        # nukta, digits and anything else carry no letter of their own here
    _drop_schwas(syllables)
    return "".join(f"{c}{v}" for c, v, _ in syllables)


def _drop_schwas(syllables: list[list[str | bool]]) -> None:
    """Hindi schwa deletion, right to left: word-final, and in V C _ C V (not word-initial)."""
    n = len(syllables)
    if n > 1 and syllables[-1][2]:
        syllables[-1][1] = ""
    for i in range(n - 2, 0, -1):
        cons, vowel, schwa = syllables[i]
        if not (schwa and cons and vowel == "a"):
            continue
        before_has_vowel = bool(syllables[i - 1][1])
        after = syllables[i + 1]
        if before_has_vowel and after[0] and after[1]:
            syllables[i][1] = ""


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """The spelling key of one token: Devanagari is romanized first, then the folds apply.

    Returns ``""`` for tokens with no Latin letters left (digits, other scripts).
    """
    latin = romanize(word) if has_devanagari(word) else word.lower()
    if not _LATIN_WORD.fullmatch(latin):
        return ""
    for pattern, repl in _SKELETON_RULES:
        latin = pattern.sub(repl, latin)
    return latin


def entry_skeletons(word: str, min_chh_len: int = 5) -> set[str]:
    """The skeletons one lexicon word stands for: its own and, for a long word written with
    ``chh``, its ``ch`` spelling (``chhinal`` → ``chinal``). Never the other way: ``chh`` words
    are the innocent ones (``chhutti`` holidays, ``chhod`` leave, ``chhakka`` a six), and
    ``चूतियों`` must not meet ``छुट्टियों``."""
    base = skeleton(word)
    keys = {base} if base else set()
    if base and len(base) >= min_chh_len and "chh" in base:
        keys.add(base.replace("chh", "ch"))
    return keys
