"""Blocked and watched word lists, matched so Devanagari words stay whole.

A *word* is a run of letters, combining marks and digits (``[\\p{L}\\p{M}\\p{N}]``): Devanagari
vowel signs (मात्रा), virama (्) and nukta (़) are combining marks, so they belong to the word
they sit in. Python's ``re`` ``\\w``/``\\b`` treat them as non-word characters and would split
``कमीना`` into pieces — matching ``कमीन`` inside ``कमीनी`` — hence the ``regex`` module here.

Matching is exact per word after folding that never changes meaning: Unicode NFC (so a
precomposed nukta letter such as ``क़`` U+0958 equals ``क`` + ``़``), case folding for Latin
(Hinglish and English), and removal of invisible format characters used to split a word
(zero-width joiners, soft hyphens). A different vowel sign is a different word: ``कमीना`` does
not match ``कमीनी``. An entry may be a phrase (several words in a row), and an entry ending in
``*`` also matches longer words starting with it (``casino*`` → ``casinos``).

Pure: no I/O; compiled lists are cached.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import regex

# Letters, combining marks (vowel signs, virama, nukta, anusvara …), digits, and format
# characters (ZWJ/ZWNJ/soft hyphen) so an invisible character cannot split a word in two.
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}\p{Cf}]+")
_FORMAT = regex.compile(r"\p{Cf}")

MAX_ENTRY_CHARS = 100
MAX_ENTRIES = 2000


def fold_word(word: str) -> str:
    """The comparable form of one word (see the module docstring)."""
    return unicodedata.normalize("NFC", _FORMAT.sub("", word)).casefold()


@dataclass(frozen=True, slots=True)
class WordMatch:
    """``text[start:end]`` matched list entry ``entry``."""

    entry: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Entry:
    source: str
    words: tuple[str, ...]
    is_prefix: bool


def _compile_entry(raw: str) -> _Entry | None:
    stripped = raw.strip()
    is_prefix = stripped.endswith("*")
    words = tuple(w for w in (fold_word(m) for m in _WORD.findall(stripped.rstrip("*"))) if w)
    return _Entry(raw, words, is_prefix) if words else None


@dataclass(frozen=True, slots=True)
class _Compiled:
    # Entries by their first word (exact first word), plus one-word prefix entries.
    by_first: dict[str, tuple[_Entry, ...]]
    prefixes: tuple[_Entry, ...]


@lru_cache(maxsize=256)
def _compile(entries: tuple[str, ...]) -> _Compiled:
    by_first: dict[str, list[_Entry]] = {}
    prefixes: list[_Entry] = []
    for entry in (e for e in (_compile_entry(raw) for raw in entries) if e is not None):
        if entry.is_prefix and len(entry.words) == 1:
            prefixes.append(entry)
        else:
            by_first.setdefault(entry.words[0], []).append(entry)
    return _Compiled({k: tuple(v) for k, v in by_first.items()}, tuple(prefixes))


def is_valid_entry(raw: str) -> bool:
    """An entry must contain at least one word and fit :data:`MAX_ENTRY_CHARS`."""
    return 0 < len(raw) <= MAX_ENTRY_CHARS and _compile_entry(raw) is not None


def find_words(text: str, entries: Sequence[str] | Iterable[str]) -> list[WordMatch]:
    """Every occurrence of every entry in ``text``, in text order (spans on the original)."""
    compiled = _compile(tuple(entries))
    if not (compiled.by_first or compiled.prefixes) or not text:
        return []
    tokens = [(m.start(), m.end(), fold_word(m.group())) for m in _WORD.finditer(text)]
    folded = [t[2] for t in tokens]
    matches: list[WordMatch] = []
    for i, (start, end, word) in enumerate(tokens):
        for entry in compiled.prefixes:
            if word.startswith(entry.words[0]):
                matches.append(WordMatch(entry.source, start, end))
        for entry in compiled.by_first.get(word, ()):
            n = len(entry.words)
            window = folded[i : i + n]
            if len(window) < n or window[:-1] != list(entry.words[:-1]):
                continue
            last, wanted = window[-1], entry.words[-1]
            if last == wanted or (entry.is_prefix and last.startswith(wanted)):
                matches.append(WordMatch(entry.source, start, tokens[i + n - 1][1]))
    return matches


def contains_any(text: str, entries: Sequence[str] | Iterable[str]) -> bool:
    return bool(find_words(text, entries))
