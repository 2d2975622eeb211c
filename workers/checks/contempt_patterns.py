"""Political contempt built from words that are also ordinary news vocabulary (issue 13).

``chor`` is "thief" in a crime report, ``bhakt`` a temple devotee, ``dalal`` a property broker
(and ``Dalal Street``), ``Pappu`` a nickname and an MP's name. None of them is in a word list.
:func:`find_contempt` matches them only in an insulting construction:

- predicative or vocative: "ye neta chor hai", "tum chor ho", "tu dalal", "tum bhakt";
- a contemptuous compound: "chor sarkar", "choron ki party", "dalal media", "bhakt mandali",
  "pappu ke chamche", "चोर नेता";
- name-calling of the reader: "anti-nationals like you", "you anti-nationals".

Every hit is ``insult`` at severity 1 (mild): it holds a comment only together with another hit
or a second-person word, as the mild political words of the lexicons do.

:func:`drop_safe` removes lexicon hits inside fixed harmless phrases: film titles and names
("3 Idiots", "Pappu Yadav"), "April Fools", "bloody Sunday".
Patterns run on :func:`workers.checks.normalize.normalize` output (casefolded, nukta dropped).
"""

from __future__ import annotations

import regex

from workers.checks.normalize import LexiconEntry, LexiconMatch, NormalizedText

_B = r"(?<![\p{L}\p{M}\p{N}])"
_E = r"(?![\p{L}\p{M}\p{N}])"

_COP_LATN = r"(?:hai|hain|ho|h|he|hay)"
_YOU_LATN = r"(?:tum|tu|tum\s+log|ye|yeh|sab|saa?re)"
_POLITY_LATN = r"(?:sarkar|neta|netao|netaon|party|media|patrakar|patrakaro|patrakaron|pm|cm)"
_CHOR_LATN = (
    rf"chor\s+{_COP_LATN}|{_YOU_LATN}\s+chor|chor\s+{_POLITY_LATN}|choro?n?\s+ki\s+(?:sarkar|party)"
    r"|cho[wu]?kidaa?r\s+(?:hi\s+)?chor|chor\s+chor\s+mause?re"
)
_DALAL_LATN = (
    rf"dalaa?l\s+(?:{_COP_LATN}|media|patrakar\w*|anchor)|{_YOU_LATN}\s+dalaa?l"
    r"|(?:media|sarkar|pakistan|china|modi|congress|bjp)\s+(?:ke|ka|ki)\s+dalaa?l\w*|dalaa?lo"
)
_BHAKT_LATN = rf"{_YOU_LATN}\s+(?:andh\s*)?bhakt\w*|bhakt\s+(?:mandali|gang|brigade|sena)|bhakts"
_PAPPU_LATN = (
    rf"pappu\s+(?:{_COP_LATN}|ke\s+chamch\w*|ki\s+(?:sarkar|party|sena)|gang|sena)"
    r"|(?:tu|tum|ye|yeh|rahul|raga)\s+pappu"
)

_COP_HI = r"(?:है|हैं|हो)"
_YOU_HI = r"(?:तुम|तू|तुम\s+लोग|ये|सब|सारे)"
_POLITY_HI = r"(?:सरकार|नेता|नेताओं|पार्टी|मीडिया|पत्रकार|पत्रकारों)"
_CHOR_HI = (
    rf"चोर\s+{_COP_HI}|{_YOU_HI}\s+चोर|चोर\s+{_POLITY_HI}|चोरों\s+की\s+(?:सरकार|पार्टी)"
    r"|चौकीदार\s+(?:ही\s+)?चोर"
)
_DALAL_HI = rf"दलाल\s+(?:{_COP_HI}|मीडिया|पत्रकार\w*)|{_YOU_HI}\s+दलाल|(?:मीडिया|सरकार)\s+के\s+दलाल"
_BHAKT_HI = rf"{_YOU_HI}\s+(?:अंध)?भक्त\w*|भक्त\s+(?:मंडली|गैंग)|अंधे\s+भक्त\w*"
_PAPPU_HI = rf"पप्पू\s+(?:{_COP_HI}|के\s+चमच\w*|की\s+(?:सरकार|पार्टी))|(?:तू|तुम|ये|राहुल)\s+पप्पू"

_ANTINATIONAL = (
    r"anti[\s-]*nationals?\s+like\s+(?:you|u)|(?:you|u)\s+(?:people\s+|guys\s+)?(?:are\s+|r\s+)?(?:an\s+|the\s+)?"
    r"anti[\s-]*nationals?"
)

_CONTEMPT_RE = regex.compile(
    rf"{_B}(?:{_CHOR_LATN}|{_DALAL_LATN}|{_BHAKT_LATN}|{_PAPPU_LATN}|{_CHOR_HI}|{_DALAL_HI}|"
    rf"{_BHAKT_HI}|{_PAPPU_HI}|{_ANTINATIONAL}){_E}"
)
CONTEMPT_ENTRY = LexiconEntry("pattern:contempt", "insult", 1)

SAFE_PHRASES_RE = regex.compile(
    rf"{_B}(?:(?:3|three)\s+idiots|april\s+fools?|pappu\s+yadav|पप्पू\s+यादव|bloody\s+sunday"
    rf"|bloody\s+mary|fool\s*'?s\s+gold){_E}"
)


def find_contempt(norm: NormalizedText) -> list[LexiconMatch]:
    """Contempt constructions in ``norm`` (offsets into the original text)."""
    hits: list[LexiconMatch] = []
    for m in _CONTEMPT_RE.finditer(norm.text):
        start, end = norm.to_original(m.start(), m.end())
        hits.append(LexiconMatch(start, end, CONTEMPT_ENTRY))
    return hits


def drop_safe(norm: NormalizedText, matches: list[LexiconMatch]) -> list[LexiconMatch]:
    """``matches`` without those inside a harmless fixed phrase (:data:`SAFE_PHRASES_RE`)."""
    spans = [norm.to_original(m.start(), m.end()) for m in SAFE_PHRASES_RE.finditer(norm.text)]
    if not spans:
        return matches
    return [m for m in matches if not any(s <= m.start and m.end <= e for s, e in spans)]
