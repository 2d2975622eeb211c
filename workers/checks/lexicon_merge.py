"""Build ``lexicons/toxicity_permissive.txt`` from the permissively licensed word lists.

Sources (``../shared/data/lexicons_permissive/``, licences and attribution in docs/models.md
and NOTICE): mathpalnaman/hinglish-profanity (MIT), LDNOOBW ``hi`` (CC BY 4.0), LDNOOBW V2
``hi.txt`` (CC0) and surajJha/profanity-hindi (MIT). Modified: filtered and normalised.

What is dropped, and why (the lists were not made for news comments):
- every LDNOOBW V2 line that its notes file flags (Sinhala script, romanized Sinhala,
  mistranslated harmless Devanagari, news/medical/legal vocabulary, news false-positive risks),
  and every line in Sinhala script;
- mathpal entries marked ``ambiguous`` (lauda, laura, lode, mc, bc, rand, sala, कुत्ता, …);
- surajJha's Marathi entries;
- :data:`DENY` — words that are ordinary Hindi/Hinglish/English news vocabulary, names or
  community names (slurs only in context, handled by the hate patterns instead);
- terms already in the hand-written lexicons (those keep their curated severity).

Severity: mathpal's 4/3 → 3, 2 → 2, 1 → 1; a multi-word phrase from the other lists → 3 (they
are "teri maa ki …"-style abuse); a single word from the other lists → 2. Category: ``sexual``
for obvious sexual terms is not attempted; everything is ``profanity`` except mathpal's.

Run: ``python -m workers.checks.lexicon_merge [--src DIR]`` (rewrites the file; deterministic).
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from workers.checks.normalize import parse_lexicon_lines

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SRC = REPO_ROOT.parent / "shared" / "data" / "lexicons_permissive"
LEXICON_DIR = Path(__file__).parent / "lexicons"
OUT_FILE = LEXICON_DIR / "toxicity_permissive.txt"
CURATED = ("toxicity_en.txt", "toxicity_hi.txt", "toxicity_hi_latn.txt")

MARATHI = frozenset(
    {"tuzya aaichi kanda puchi", "bhadavya", "jhavadya", "lavadya", "raandichya", "muttha"}
)
# Ordinary words, names and community names that the lists carry (README "False-positive
# risks"), plus what a check against TRAC-1 *train* non-aggressive comments showed to fire
# mostly on ordinary text (docs/models.md, "Issue 13 lexicon merge").
DENY = frozenset(
    """
    aand chod chut gand gaand madar maadar maal goli thana chakke chakka pataka patakha kutta
    kutte kuttey kuttay suar saala sala saale tau najayaz jra jda bihari gujjar bhangi hijra
    hijda chinki paki balatkar balatkaar balatkari hawas tatti gasti mutth muttha bulli
    bhikaar land lund lauda laura lode rand bc mc suzit ullu bakwas pappu bawasir
    burr gucchi gucchu chude chutan kanjar kutti choope gandit bhundi ghassa sdom भगशेफ
    """.split()
)
# Phrases that are ordinary Hinglish ("bhai chhod" = "leave it, bro") or harmless.
DENY_PHRASES = frozenset(
    {
        "maal chhodna", "bhai chhod", "bhai chhod bhayee chod", "bhen chhod",
        "bhen chhod bhaynchod", "padosi ki aulaad", "bell bula", "एक्स रेटेड",
    }
)  # fmt: skip
# Mild words (insulting, not obscene): they hold only with a second hit or a "you".
MILD = frozenset({"camina", "tharak", "tharki", "फूहड़"})


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip().lower())


def _is_sinhala(text: str) -> bool:
    return any("\u0d80" <= c <= "\u0dff" for c in text)


def _mathpal(src: Path) -> Iterator[tuple[str, int]]:
    folder = src / "hinglish_profanity_mathpal"
    for name in ("hi-deva.json", "hi-latin.json"):
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        for item in [*data.get("terms", []), *data.get("phrases", [])]:
            if item.get("ambiguous"):
                continue
            sev = {4: 3, 3: 3, 2: 2, 1: 1}.get(int(item.get("severity", 2)), 2)
            yield _nfc(item["term"]), sev


def _plain(path: Path, skip_lines: frozenset[int] = frozenset()) -> Iterator[tuple[str, int]]:
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        term = _nfc(raw)
        if not term or number in skip_lines or _is_sinhala(term) or term in MARATHI:
            continue
        yield term, 3 if " " in term else 2


def _flagged_v2_lines(src: Path) -> frozenset[int]:
    rows = (src / "ldnoobw_v2" / "NOTES_flagged_lines.tsv").read_text(encoding="utf-8")
    return frozenset(int(line.split("\t")[0]) for line in rows.splitlines()[1:] if line.strip())


def merged_entries(src: Path) -> list[tuple[str, int]]:
    """``(term, severity)`` pairs after the filters in the module docstring, sorted."""
    curated = {
        e.term
        for name in CURATED
        for e in parse_lexicon_lines((LEXICON_DIR / name).read_text(encoding="utf-8").splitlines())
    }
    best: dict[str, int] = {}
    sources = (
        _mathpal(src),
        _plain(src / "ldnoobw" / "hi"),
        _plain(src / "ldnoobw_v2" / "hi.txt", _flagged_v2_lines(src)),
        _plain(src / "profanity_hindi_surajjha" / "hindi-bad-words.txt"),
    )
    for source in sources:
        for term, sev in source:
            words = term.split()
            if term in curated or term in DENY_PHRASES or (len(words) == 1 and term in DENY):
                continue
            sev = 1 if term in MILD else sev
            if any(
                not (c.isalpha() or c in " \u093c" or unicodedata.category(c) == "Mn") for c in term
            ):
                continue  # punctuation, digits and hyphenated oddities
            best[term] = max(sev, best.get(term, 0))
    return sorted(best.items())


def write(src: Path = DEFAULT_SRC, out: Path = OUT_FILE) -> int:
    """Rewrite ``out``; returns the number of entries."""
    entries = merged_entries(src)
    header = [
        "# GENERATED by `python -m workers.checks.lexicon_merge`; do not edit by hand.",
        "# Derived from permissively licensed lists (MIT, CC BY 4.0, CC0); see NOTICE and",
        "# docs/models.md. Modified: filtered and normalised. term<TAB>category<TAB>severity",
    ]
    lines = [f"{term}\tprofanity\t{sev}" for term, sev in entries]
    out.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    return len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    args = parser.parse_args()
    print(write(args.src), "entries written to", OUT_FILE)


if __name__ == "__main__":
    main()
