"""The folding tables of :mod:`workers.checks.normalize`: which characters it drops, which
look-alike letters and leetspeak characters it maps to Latin letters, and the Devanagari signs
it folds. Data only; the folding itself (and its offset map) is in ``normalize``.
"""

# Dropped for matching: invisible characters used to split a word so a filter misses it.
INVISIBLE = frozenset(
    [
        0x00AD,  # soft hyphen
        0x034F,  # combining grapheme joiner
        0x061C,  # Arabic letter mark
        0x180E,  # Mongolian vowel separator
        0xFEFF,  # BOM / zero-width no-break space
        *range(0x200B, 0x2010),  # ZWSP, ZWNJ, ZWJ, LRM, RLM
        *range(0x202A, 0x202F),  # bidi embeddings/overrides
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        *range(0x2066, 0x206A),  # bidi isolates
    ]
)

# Lower-case Cyrillic and Greek letters that render like Latin ones (applied after casefold).
HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ɡ": "g", "ʏ": "y", "ɪ": "i", "ո": "n", "ս": "u",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "σ": "o", "ς": "c",
}  # fmt: skip

LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s"}
# Longer digit runs are numbers (prices, years, phone numbers), not disguised letters.
MAX_LEET_RUN = 3

NUKTA = "\u093c"
CHANDRABINDU = "\u0901"
ANUSVARA = "\u0902"
LATIN_COMBINING = range(0x0300, 0x0370)
