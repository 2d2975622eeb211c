"""Evidence spans → text segments for the template: which parts of a comment to mark, and why.

Pure. Offsets are code points into the original text (what the checks return), so a Devanagari
word with vowel signs or a virama is cut exactly where the check cut it; the template escapes
every segment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from service.domain.checks import Evidence


@dataclass(frozen=True)
class Segment:
    text: str
    labels: tuple[str, ...] = ()  # empty: plain text

    @property
    def is_marked(self) -> bool:
        return bool(self.labels)

    @property
    def kind(self) -> str:
        """A CSS class for the mark: ``abuse`` (a toxicity category such as ``insult:2``),
        ``link``, ``contact`` (phone numbers, messaging handles) or ``spam`` (the rest)."""
        if any(":" in label for label in self.labels):
            return "abuse"
        if any(label in {"link", "shortener"} for label in self.labels):
            return "link"
        if any(label in {"phone_number", "messaging_handle"} for label in self.labels):
            return "contact"
        return "spam"


def _spans(text: str, evidence: Iterable[Evidence]) -> list[tuple[int, int, str]]:
    return sorted(
        (e.start, e.end, e.label or "evidence")
        for e in evidence
        if 0 <= e.start < e.end <= len(text)
    )


def segments(text: str, evidence: Iterable[Evidence]) -> list[Segment]:
    """Split ``text`` at every span boundary; each piece carries the labels covering it.
    Overlapping spans from different checks are merged piecewise; empty, backwards or
    out-of-range spans are ignored."""
    spans = _spans(text, evidence)
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[Segment] = []
    for left, right in pairwise(cuts):
        labels = tuple(dict.fromkeys(label for s, e, label in spans if s <= left and right <= e))
        if out and out[-1].labels == labels:
            out[-1] = Segment(out[-1].text + text[left:right], labels)
        else:
            out.append(Segment(text[left:right], labels))
    return out or [Segment(text)]
