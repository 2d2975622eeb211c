"""Near-duplicate lookup against recently confirmed spam (in memory, bounded).

Spam campaigns post one template with small edits. The pipeline may feed confirmed spam
(moderator "spam" decisions, blatant verdicts) with :meth:`RecentSpamIndex.add`; the spam
detector asks :meth:`RecentSpamIndex.similarity`. Pure and per process: nothing is shared
between workers, so a fresh worker simply starts empty.
"""

from __future__ import annotations

import zlib
from collections import Counter, deque
from threading import Lock

from workers.checks.normalize import NormalizedText
from workers.checks.textmodel import model_view

SHINGLE = 5
MIN_SHINGLES = 8  # below this a text is too short to call a duplicate


def shingles(text: str, norm: NormalizedText | None = None) -> frozenset[int]:
    """Hashed character 5-grams of the model view (whitespace collapsed); ``norm`` may pass
    an already computed ``normalize(text)``."""
    view = " ".join(model_view(text, norm=norm).split())
    return frozenset(
        zlib.crc32(view[i : i + SHINGLE].encode("utf-8")) for i in range(len(view) - SHINGLE + 1)
    )


class RecentSpamIndex:
    """The last ``capacity`` spam texts, searchable by Jaccard similarity of shingles.

    Thread-safe; ``add`` evicts the oldest text when full. ``similarity`` costs
    O(shingles of the query × texts sharing them).
    """

    def __init__(self, capacity: int = 2000) -> None:
        self._capacity = capacity
        self._docs: dict[int, frozenset[int]] = {}
        self._order: deque[int] = deque()
        self._postings: dict[int, set[int]] = {}
        self._next_id = 0
        self._lock = Lock()

    def add(self, text: str) -> None:
        """Remember ``text`` as confirmed spam (ignored when too short)."""
        grams = shingles(text)
        if len(grams) < MIN_SHINGLES:
            return
        with self._lock:
            if len(self._order) >= self._capacity:
                self._evict(self._order.popleft())
            doc_id = self._next_id
            self._next_id += 1
            self._docs[doc_id] = grams
            self._order.append(doc_id)
            for g in grams:
                self._postings.setdefault(g, set()).add(doc_id)

    def _evict(self, doc_id: int) -> None:
        for g in self._docs.pop(doc_id):
            ids = self._postings.get(g)
            if ids is not None:
                ids.discard(doc_id)
                if not ids:
                    del self._postings[g]

    def similarity(self, text: str, norm: NormalizedText | None = None) -> float:
        """Highest Jaccard similarity (0–1) between ``text`` and a remembered spam text
        (``norm``: ``normalize(text)`` if the caller has it)."""
        if not self._docs:
            return 0.0
        grams = shingles(text, norm)
        if len(grams) < MIN_SHINGLES:
            return 0.0
        with self._lock:
            overlap: Counter[int] = Counter()
            for g in grams:
                overlap.update(self._postings.get(g, ()))
            best = 0.0
            for doc_id, shared in overlap.items():
                union = len(grams) + len(self._docs[doc_id]) - shared
                best = max(best, shared / union)
        return best
