"""Cross-script, cross-spelling lexicon matching: one curated entry, all its common spellings.

:class:`VariantLexicon` indexes every entry of the toxicity lexicons by the
:func:`workers.checks.transliterate.skeleton` of its words and looks tokens of a comment up by
their skeleton, so ``चूतिया`` in the Devanagari list also catches ``chootiya``/``chuttiya``,
and ``haramzada`` in the Hinglish list catches ``हरामजादा``. It runs after the exact
:class:`workers.checks.normalize.Lexicon` and only reports hits that do not overlap the exact
ones.

Precision guards (Scunthorpe and news vocabulary):
- whole tokens only; a one-word entry needs a skeleton of at least
  :data:`MIN_SKELETON_LEN` letters (``bc``, ``mc``, ``chut`` stay exact-only);
- the skeletons of :data:`SAFE_WORDS_FILE` (news words and names: ``land``, ``chot``,
  ``maal``, ``Gandhi``, ``chhoot``, ``साला`` …) are never matched by a variant;
- ``prefix*`` entries match by prefix only when the prefix skeleton is long (≥ 6).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from workers.checks.normalize import (
    TOKEN_RE,
    LexiconEntry,
    LexiconMatch,
    NormalizedText,
    normalize,
    parse_lexicon_lines,
)
from workers.checks.transliterate import entry_skeletons, skeleton

SAFE_WORDS_FILE = Path(__file__).parent / "lexicons" / "safe_words.txt"
MIN_SKELETON_LEN = 5
MIN_PREFIX_LEN = 6
MAX_WORDS = 6


def load_safe_skeletons(path: Path = SAFE_WORDS_FILE) -> frozenset[str]:
    """Skeletons of the words a variant must never match (one word per line, ``#`` comments)."""
    words = [e.term for e in parse_lexicon_lines(path.read_text(encoding="utf-8").splitlines())]
    return frozenset(skeleton(w) for w in words) - {""}


class VariantLexicon:
    """Entries keyed by word skeletons; see the module docstring for the guards."""

    def __init__(self, entries: Iterable[LexiconEntry], safe: frozenset[str]) -> None:
        self._exact: dict[tuple[str, ...], LexiconEntry] = {}
        self._prefix: dict[str, LexiconEntry] = {}
        self._safe = safe
        self.max_words = 1
        for entry in entries:
            self._add(entry)

    def _add(self, entry: LexiconEntry) -> None:
        term = entry.term
        is_prefix = term.endswith("*")
        words = TOKEN_RE.findall(normalize(term.rstrip("*")).text)
        if not words or len(words) > MAX_WORDS:
            return
        keys = [entry_skeletons(w) for w in words]
        if any(not k for k in keys):
            return
        if is_prefix and len(words) == 1:
            for key in keys[0]:
                if len(key) >= MIN_PREFIX_LEN:
                    self._keep(self._prefix, key, entry)
            return
        if len(words) == 1:
            for key in keys[0]:
                if len(key) >= MIN_SKELETON_LEN and key not in self._safe:
                    self._keep(self._exact, (key,), entry)
            return
        # Multi-word: every combination would explode; the first spelling of each word plus
        # the ch/chh twin of the whole phrase is enough in practice.
        first = tuple(sorted(k)[0] for k in keys)
        self._keep(self._exact, first, entry)
        self.max_words = max(self.max_words, len(words))

    @staticmethod
    def _keep(index: dict, key: object, entry: LexiconEntry) -> None:
        old = index.get(key)
        if old is None or entry.severity > old.severity:
            index[key] = entry

    def find(self, norm: NormalizedText, taken: Iterable[LexiconMatch] = ()) -> list[LexiconMatch]:
        """Hits in ``norm`` that overlap none of ``taken`` (original-text offsets)."""
        spans = [(m.start, m.end) for m in taken]
        tokens = [(m.start(), m.end(), skeleton(m.group())) for m in TOKEN_RE.finditer(norm.text)]
        keys = [t[2] for t in tokens]
        hits: list[LexiconMatch] = []
        i = 0
        while i < len(tokens):
            found = self._match_at(keys, i)
            if found is None:
                i += 1
                continue
            length, entry = found
            start, end = norm.to_original(tokens[i][0], tokens[i + length - 1][1])
            if not any(s < end and start < e for s, e in spans):
                hits.append(LexiconMatch(start, end, entry))
            i += length
        return hits

    def _match_at(self, keys: list[str], i: int) -> tuple[int, LexiconEntry] | None:
        for length in range(min(self.max_words, len(keys) - i), 0, -1):
            window = tuple(keys[i : i + length])
            if length == 1 and window[0] in self._safe:
                return None
            entry = self._exact.get(window)
            if entry is not None:
                return length, entry
        key = keys[i]
        if key and key not in self._safe:
            for plen in range(len(key), MIN_PREFIX_LEN - 1, -1):
                entry = self._prefix.get(key[:plen])
                if entry is not None:
                    return 1, entry
        return None
