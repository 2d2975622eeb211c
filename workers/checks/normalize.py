"""Text normalization for matching, with an offset map back to the original text.

Contract: :func:`normalize` never raises and returns a :class:`NormalizedText` whose
``starts``/``ends`` map every normalized character back to the original characters that
produced it, so a match found on the normalized text is reported as ``original[start:end]``.

What is folded (all of it only *for matching*; the stored comment is never changed):
- Unicode compatibility forms (NFKD per character, so fullwidth/ligatures/precomposed nukta
  letters decompose) and Latin diacritics (``fück`` → ``fuck``);
- zero-width and bidi-control characters are dropped;
- case (``casefold``), Cyrillic/Greek look-alikes of Latin letters;
- Devanagari: nukta dropped (ज़ → ज), chandrabindu → anusvara, Devanagari digits → ASCII;
- leetspeak inside words (``sh1t``, ``@ss``, ``$hit``; a bare number such as ``2019`` stays);
- single letters split by separators (``f u c k``, ``c.h.u.t.i.y.a``) are joined.
Letters masked by symbols (``f*ck``, ``sh!t``) are not folded here (the hidden letter is not
known); :class:`Lexicon` matches such words against its one-word entries.
Elongation (``chuuuutiya``) is not folded here: :class:`Lexicon` matches repeated letters, so
the double letters that distinguish words (``chhod`` vs ``chod``) survive.
The character tables (invisible, look-alike, leetspeak, Devanagari signs) are in
:mod:`workers.checks.normalize_tables`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex

from workers.checks.normalize_tables import (
    ANUSVARA,
    CHANDRABINDU,
    HOMOGLYPHS,
    INVISIBLE,
    LATIN_COMBINING,
    LEET,
    MAX_LEET_RUN,
    NUKTA,
)

# Three or more single letters split by one or two separator characters: "f u c k", "c.h.u.t".
_SEPARATED_LETTERS = regex.compile(
    r"(?<![\p{L}\p{M}])\p{L}\p{M}*(?:[ .\-_*|+~,:/]{1,2}\p{L}\p{M}*(?![\p{L}\p{M}])){2,}"
)
_SEPARATOR = regex.compile(r"[ .\-_*|+~,:/]")

TOKEN_RE = regex.compile(r"[\p{L}\p{M}\p{N}]+")

# A word with symbols standing in for letters: "f*ck", "f**k", "sh!t", "ch*tiya", "a**hole".
# Each mask run (1–3 of ``* ! # %``) must sit *between* letters, so footnote marks ("report*"),
# markdown emphasis ("*really*", "**bold**") and arithmetic ("5*3") never qualify.
MASK_CHARS = "*!#%"
_MASKED_WORD = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}*!#%])[\p{L}\p{M}]+(?:[*!#%]{1,3}[\p{L}\p{M}]+)+(?![\p{L}\p{M}\p{N}*!#%])"
)
# At least this many characters, and no more masked than real letters ("a*b" and "f***" are
# not matched; "f**k" and "sh!t" are).
MASKED_MIN_LENGTH = 4


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """``text`` is the folded form of ``original``; ``text[i]`` came from
    ``original[starts[i]:ends[i]]``."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalized span ``[start, end)`` (non-empty) to a span of the original."""
        return self.starts[start], self.ends[end - 1]


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    out: list[str] = []
    for c in unicodedata.normalize("NFKD", ch):
        code = ord(c)
        if code in LATIN_COMBINING or c == NUKTA or code in INVISIBLE:
            continue
        if c == CHANDRABINDU:
            out.append(ANUSVARA)
            continue
        if "\u0966" <= c <= "\u096f":  # Devanagari digits
            out.append(chr(code - 0x0966 + 0x30))
            continue
        for f in c.casefold():
            out.append(HOMOGLYPHS.get(f, f))
    return "".join(out)


@lru_cache(maxsize=8192)
def _is_letter(c: str) -> bool:
    return c.isalpha() or unicodedata.category(c).startswith("M")


def _unleet(chars: list[str]) -> None:
    """Replace leet characters in place where a run of them touches a letter."""
    n = len(chars)
    i = 0
    while i < n:
        if chars[i] not in LEET:
            i += 1
            continue
        j = i
        while j < n and chars[j] in LEET:
            j += 1
        touches_letter = (i > 0 and _is_letter(chars[i - 1])) or (j < n and _is_letter(chars[j]))
        if touches_letter and j - i <= MAX_LEET_RUN:
            for k in range(i, j):
                chars[k] = LEET[chars[k]]
        i = j


def normalize(text: str) -> NormalizedText:
    """Fold ``text`` for matching (see the module docstring); never raises."""
    folds = [_fold_char(ch) for ch in text]
    joined = "".join(folds)
    if len(joined) == len(text) and "" not in folds:
        # Fast path, the usual case: every character folded to exactly one character.
        chars = list(joined)
        starts: list[int] = list(range(len(text)))
    else:
        chars = []
        starts = []
        for i, fold in enumerate(folds):
            chars.extend(fold)
            starts.extend([i] * len(fold))
    _unleet(chars)
    folded = "".join(chars)
    if _SEPARATED_LETTERS.search(folded) is None:
        return NormalizedText(text, folded, tuple(starts), tuple(i + 1 for i in starts))
    keep = [True] * len(chars)
    for m in _SEPARATED_LETTERS.finditer(folded):
        for k in range(m.start(), m.end()):
            if _SEPARATOR.fullmatch(chars[k]):
                keep[k] = False
    idx = [k for k in range(len(chars)) if keep[k]]
    return NormalizedText(
        text,
        "".join(chars[k] for k in idx),
        tuple(starts[k] for k in idx),
        tuple(starts[k] + 1 for k in idx),
    )


_REPEATS = regex.compile(r"(.)\1+")


def squeeze(word: str) -> str:
    """Collapse every run of one repeated character to a single character."""
    return _REPEATS.sub(r"\1", word)


def runs(word: str) -> tuple[tuple[str, int], ...]:
    """Run-length encoding of ``word``: ``"kutta"`` → ``(("k",1),("u",1),("t",2),("a",1))``."""
    out: list[tuple[str, int]] = []
    for c in word:
        if out and out[-1][0] == c:
            out[-1] = (c, out[-1][1] + 1)
        else:
            out.append((c, 1))
    return tuple(out)


def _runs_match(token: tuple[tuple[str, int], ...], entry: tuple[tuple[str, int], ...]) -> bool:
    """True when ``token`` spells ``entry`` with some letters elongated.

    A run matches when its length equals the entry's, or when it is 3+ long (elongation:
    "chuuutiya"). A doubled letter alone is not elongation: "chhod" (leave) is not "chod".
    """
    if len(token) < len(entry):
        return False
    for (tc, tn), (ec, en) in zip(token, entry, strict=False):
        if tc != ec or not (tn == en or tn >= max(3, en)):
            return False
    return True


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One term of a word list. ``term`` may hold several words; a trailing ``*`` makes the
    last word a prefix (``fuck*`` matches ``fucking``)."""

    term: str
    category: str
    severity: int


@dataclass(frozen=True, slots=True)
class LexiconMatch:
    """A hit: ``start``/``end`` index the *original* text."""

    start: int
    end: int
    entry: LexiconEntry


@dataclass(frozen=True, slots=True)
class _Compiled:
    entry: LexiconEntry
    words: tuple[tuple[tuple[str, int], ...], ...]  # run-length encoding of each word
    is_prefix: bool


class Lexicon:
    """Whole-word matcher over normalized text (so Scunthorpe/Sussex/shiitake never match).

    Words are tokens of letters, marks and digits (``\\p{L}\\p{M}\\p{N}``), so a Devanagari
    word keeps its vowel signs, virama and nukta. Matching is by token, tolerant of elongation;
    multi-word terms match consecutive tokens. Cost is O(tokens × max words per term).
    """

    def __init__(self, entries: Iterable[LexiconEntry]) -> None:
        self._exact: dict[tuple[str, ...], list[_Compiled]] = {}
        # One-word entries by their first letter, for masked words ("f*ck"): (word, entry).
        self._single: dict[str, list[tuple[str, _Compiled]]] = {}
        # number of words → [(prefix length, {(leading squeezed words..., squeezed prefix): ...})]
        self._prefix: dict[int, list[tuple[int, dict[tuple[str, ...], list[_Compiled]]]]] = {}
        self.max_words = 1
        self.entries: list[LexiconEntry] = []
        # Squeezed first words of every exact term and of every multi-word prefix term, and
        # the squeezed prefixes of one-word prefix terms by length: a token that starts no
        # term is skipped with one set lookup (most tokens of a comment start none).
        self._first_words: set[str] = set()
        self._first_prefixes: dict[int, set[str]] = {}
        for entry in entries:
            self._add(entry)

    def _add(self, entry: LexiconEntry) -> None:
        is_prefix = entry.term.endswith("*")
        words = TOKEN_RE.findall(normalize(entry.term.rstrip("*")).text)
        if not words:
            return
        self.entries.append(entry)
        compiled = _Compiled(entry, tuple(runs(w) for w in words), is_prefix)
        key = tuple(squeeze(w) for w in words)
        self.max_words = max(self.max_words, len(words))
        if len(words) == 1:
            self._single.setdefault(words[0][0], []).append((words[0], compiled))
        if is_prefix and len(words) == 1:
            self._first_prefixes.setdefault(len(key[0]), set()).add(key[0])
        else:
            self._first_words.add(key[0])
        if is_prefix:
            buckets = self._prefix.setdefault(len(words), [])
            bucket = next((b for plen, b in buckets if plen == len(key[-1])), None)
            if bucket is None:
                bucket = {}
                buckets.append((len(key[-1]), bucket))
            bucket.setdefault(key, []).append(compiled)
        else:
            self._exact.setdefault(key, []).append(compiled)

    @classmethod
    def from_file(cls, path: Path) -> Lexicon:
        """Read ``term<TAB>category<TAB>severity`` lines; ``#`` starts a comment line."""
        return cls(parse_lexicon_lines(path.read_text(encoding="utf-8").splitlines()))

    def find(self, norm: NormalizedText) -> list[LexiconMatch]:
        """All hits in ``norm``, longest term first at each position, without overlaps.

        Words with letters masked by symbols ("f*ck", "sh!t") match one-word entries whose
        letters agree at every unmasked position (one symbol = one letter); the hit spans the
        whole masked word in the original text.
        """
        masked = self._find_masked(norm) if any(c in norm.text for c in MASK_CHARS) else []
        blocked = [(m.start, m.end) for m in masked]
        tokens = [(m.start(), m.end(), m.group()) for m in TOKEN_RE.finditer(norm.text)]
        # Squeezing the whole text squeezes each token: separators never join two tokens.
        squeezed = TOKEN_RE.findall(squeeze(norm.text))
        token_runs = _LazyRuns([t[2] for t in tokens])
        hits: list[LexiconMatch] = list(masked)
        i = 0
        while i < len(tokens):
            best = self._match_at(i, squeezed, token_runs) if self._may_start(squeezed[i]) else None
            if best is None:
                i += 1
                continue
            length, entry = best
            start, end = norm.to_original(tokens[i][0], tokens[i + length - 1][1])
            if not any(s < end and start < e for s, e in blocked):
                hits.append(LexiconMatch(start, end, entry))
            i += length
        if masked:
            hits.sort(key=lambda h: h.start)
        return hits

    def _find_masked(self, norm: NormalizedText) -> list[LexiconMatch]:
        hits: list[LexiconMatch] = []
        for m in _MASKED_WORD.finditer(norm.text):
            word = m.group()
            letters = sum(1 for c in word if c not in MASK_CHARS)
            if len(word) < MASKED_MIN_LENGTH or letters < len(word) - letters:
                continue
            entry = self._match_masked(word)
            if entry is not None:
                start, end = norm.to_original(m.start(), m.end())
                hits.append(LexiconMatch(start, end, entry))
        return hits

    def _match_masked(self, word: str) -> LexiconEntry | None:
        """The most severe one-word entry that ``word`` spells with masked letters."""
        best: LexiconEntry | None = None
        for term, compiled in self._single.get(word[0], ()):
            if compiled.is_prefix:
                ok = len(word) >= len(term) and _masked_equal(word[: len(term)], term)
                # The mask must hide part of the entry, not only of the suffix ("fuck*ing").
                ok = ok and any(c in MASK_CHARS for c in word[: len(term)])
            else:
                ok = len(word) == len(term) and _masked_equal(word, term)
            if ok and (best is None or compiled.entry.severity > best.severity):
                best = compiled.entry
        return best

    def _may_start(self, word: str) -> bool:
        """False when no term can start at a token whose squeezed form is ``word``."""
        return word in self._first_words or any(
            word[:plen] in prefixes
            for plen, prefixes in self._first_prefixes.items()
            if len(word) >= plen
        )

    def _match_at(
        self,
        i: int,
        squeezed: list[str],
        token_runs: _LazyRuns,
    ) -> tuple[int, LexiconEntry] | None:
        for length in range(min(self.max_words, len(squeezed) - i), 0, -1):
            window = tuple(squeezed[i : i + length])
            candidates = list(self._exact.get(window, ()))
            for plen, bucket in self._prefix.get(length, ()):
                if len(window[-1]) >= plen:
                    candidates.extend(bucket.get((*window[:-1], window[-1][:plen]), ()))
            for cand in candidates:
                ok = all(
                    _runs_match(token_runs[i + k], cand.words[k])
                    and (
                        (cand.is_prefix and k == length - 1)
                        or len(token_runs[i + k]) == len(cand.words[k])
                    )
                    for k in range(length)
                )
                if ok:
                    return length, cand.entry
        return None


class _LazyRuns:
    """:func:`runs` of each token, computed when a candidate term needs it."""

    __slots__ = ("_cache", "_tokens")

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = tokens
        self._cache: dict[int, tuple[tuple[str, int], ...]] = {}

    def __getitem__(self, i: int) -> tuple[tuple[str, int], ...]:
        found = self._cache.get(i)
        if found is None:
            found = self._cache[i] = runs(self._tokens[i])
        return found


def _masked_equal(masked: str, term: str) -> bool:
    """True when ``masked`` equals ``term`` except where it has a mask symbol."""
    return all(
        m == t or (m in MASK_CHARS and t not in MASK_CHARS)
        for m, t in zip(masked, term, strict=True)
    )


def parse_lexicon_lines(lines: Iterable[str]) -> Iterator[LexiconEntry]:
    """Parse ``term<TAB>category<TAB>severity`` lines (blank lines and ``#`` comments skipped)."""
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        term = parts[0]
        category = parts[1] if len(parts) > 1 and parts[1] else "profanity"
        severity = int(parts[2]) if len(parts) > 2 and parts[2] else 1
        yield LexiconEntry(term, category, severity)
