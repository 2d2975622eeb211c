"""Language identification for one comment: ``en``, ``hi``, ``hi-Latn``, ``mixed`` or ``und``.

No offline detector knows romanized Hindi, so this one is built from two word statistics:
- script share (Devanagari vs Latin letters, after URLs and @handles are removed);
- for Latin text, hand-written romanized-Hindi words (``lexicons/hinglish_words.txt``) against
  English words seen in the permissively licensed English sets (``artifacts/english_words.txt``,
  rebuilt by :func:`workers.training.training.train_all`).

Contract: pure, never raises, O(len(text)).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import regex

from workers.checks.normalize import TOKEN_RE, normalize, parse_lexicon_lines

_HERE = Path(__file__).parent
HINGLISH_WORDS_PATH = _HERE / "lexicons" / "hinglish_words.txt"
# Single-word Hinglish abuse terms are Hindi evidence too ("madarchod" alone is not English).
HINGLISH_ABUSE_PATH = _HERE / "lexicons" / "toxicity_hi_latn.txt"
ENGLISH_WORDS_PATH = _HERE / "artifacts" / "english_words.txt"

_NOISE = regex.compile(r"https?://\S+|www\.\S+|[@#][\w.]+", regex.IGNORECASE)
_DEVANAGARI = regex.compile(r"\p{Devanagari}")
_LATIN = regex.compile(r"\p{Latin}")
_LETTER = regex.compile(r"\p{L}")
_LONG_RUN = regex.compile(r"(.)\1{2,}")

# Share of letters a second script needs before a comment counts as ``mixed``.
MIXED_SCRIPT_SHARE = 0.2
# Share of recognised words that must be Hindi for Latin text to be ``hi-Latn``.
HINGLISH_WORD_SHARE = 0.3
MAX_CHARS = 500
_WEAK = 0.5


@cache
def _hinglish_words() -> dict[str, float]:
    words: dict[str, float] = {}
    for entry in parse_lexicon_lines(HINGLISH_ABUSE_PATH.read_text(encoding="utf-8").splitlines()):
        term = entry.term.rstrip("*")
        # Two-letter abbreviations ("bc", "mc") are too ambiguous to identify a language.
        if " " not in term and len(term) > 2:
            words[term] = 1.0
    for raw in HINGLISH_WORDS_PATH.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        word, _, strength = raw.partition("\t")
        words[word.strip()] = _WEAK if strength.strip() == "weak" else 1.0
    return words


@cache
def _english_words() -> frozenset[str]:
    return frozenset(ENGLISH_WORDS_PATH.read_text(encoding="utf-8").split())


def _latin_language(text: str) -> str:
    hinglish = _hinglish_words()
    english = _english_words()
    hi = en = 0.0
    for word in TOKEN_RE.findall(normalize(text).text):
        # Elongated spellings ("chuuutiya", "nahiii") count as the plain word.
        weight = hinglish.get(word, hinglish.get(_LONG_RUN.sub(r"\1", word)))
        if weight is not None:
            hi += weight
            en += 1.0 - weight
        elif word in english:
            en += 1.0
    if hi >= 1.0 and hi / (hi + en) >= HINGLISH_WORD_SHARE:
        return "hi-Latn"
    return "en"


def detect_language(text: str) -> str:
    """Return ``hi`` (Devanagari), ``hi-Latn`` (romanized Hindi / Hinglish), ``en``,
    ``mixed`` (Devanagari and Latin both substantial) or ``und`` (no letters / other script).

    Only the first :data:`MAX_CHARS` characters are read: enough to tell, and it bounds latency.
    """
    cleaned = _NOISE.sub(" ", text[:MAX_CHARS])
    deva = len(_DEVANAGARI.findall(cleaned))
    latin = len(_LATIN.findall(cleaned))
    letters = len(_LETTER.findall(cleaned))
    if deva + latin == 0 or (deva + latin) < 0.5 * letters:
        return "und"
    minority = min(deva, latin) / (deva + latin)
    if minority >= MIXED_SCRIPT_SHARE:
        return "mixed"
    if deva > latin:
        return "hi"
    return _latin_language(cleaned)
