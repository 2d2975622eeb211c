"""The spam detector's rules as a table of small named rules (in the manner of Mailman's chains).

A rule looks at one :class:`Comment` (the submission plus what every rule shares: the
normalized text, the links and phone numbers found in it) and returns its :class:`Hit`\\ s:
a stable reason code, a weight (see :mod:`workers.checks.scoring`), whether the hit is only a
*soft* hint, and evidence spans into the original text. :data:`RULES` runs in order; the order
fixes the order of reasons and evidence in a result, so append new rules at the end.

*Hard* hits are evidence a spammer needs (a contact, a shortener, a blatant offer, …); *soft*
hits are hints that also occur in ordinary messages (one link, a money amount, all caps), and
the spam model may veto a hold built from soft hits alone (:mod:`workers.checks.spam`).

Contract: pure, every rule is callable on its own (``rule.find(comment)``) and never raises on
odd text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import regex

from workers.checks.base import CheckInput, Evidence
from workers.checks.links import MESSAGING_HOSTS, SHORTENERS, find_links, host_of
from workers.checks.normalize import TOKEN_RE, Lexicon, NormalizedText, normalize
from workers.checks.scoring import SUSPECT

# Indian mobile numbers, international numbers with a "+", and long bare digit runs.
# Run on the normalized text so Devanagari digits count too.
PHONE_RE = regex.compile(
    r"""(?x)(?<![\d])(?:
      (?:\+?91[\s-]?|0)?[6-9]\d{4}[\s-]?\d{5}
    | \+\d{1,3}[\s-]?\d{2,5}[\s-]?\d{3,5}[\s-]?\d{3,5}
    | \d{10,13}
    )(?![\d])"""
)
MESSAGING_RE = regex.compile(
    r"(?i)(?<![\p{L}\p{M}])(?:whats\s?app|watsapp|whatsaap|watsap|wtsp|telegram|"
    r"व्हाट्सएप|व्हाट्सऐप|वॉट्सऐप|वाट्सएप|टेलीग्राम)(?![\p{L}\p{M}])"
)
MONEY_RE = regex.compile(
    r"(?ix)(?:[₹$£€]|\brs\.?|\binr\b|\busd\b)\s?\d[\d,]*(?:\.\d+)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:rs\b|rupees\b|rupaye\b|रुपये|रुपए|लाख|lakh\b|k\b)"
)

W_HONEYPOT = 1.0
W_PHRASE = {1: 0.25, 2: 0.45, 3: 0.7}
W_LINK = 0.15  # one link is normal in a news comment; the site policy counts them
W_EXTRA_LINK = 0.15
W_SHORTENER = 0.45
W_PHONE = 0.45
W_MESSAGING_MENTION = 0.15  # "WhatsApp university" is a common news-comment topic
W_MESSAGING_CONTACT = 0.6  # a messenger named next to a number or a wa.me/t.me link
W_MONEY = 0.1
W_SHOUTING = 0.3
W_REPETITION = 0.35
W_AUTHOR_NAME = 0.5
W_AUTHOR_URL = 0.2
W_TOO_FAST = SUSPECT
TOO_FAST_SECONDS = 3.0
SHOUTING_MIN_LETTERS = 12
SHOUTING_UPPER_SHARE = 0.7
REPETITION_MIN_TOKENS = 6
# The author's name counts only with phrases at least this severe (or a link in it).
AUTHOR_PHRASE_SEVERITY = 2


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of evidence a rule found: ``reason`` code, noisy-OR ``weight``, soft or hard,
    the spans it points at, and numeric ``signals`` for the site policy."""

    reason: str
    weight: float
    is_soft: bool = False
    evidence: tuple[Evidence, ...] = ()
    signals: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Comment:
    """What the rules look at: the submission and the lexicon the detector holds.

    The normalized text, the links and the phone numbers are computed once, on first use,
    and shared by every rule that reads them.
    """

    item: CheckInput
    phrases: Lexicon

    @property
    def text(self) -> str:
        return self.item.text

    @cached_property
    def norm(self) -> NormalizedText:
        return normalize(self.item.text)

    @cached_property
    def links(self) -> list[tuple[int, int, str]]:
        """``(start, end, host)`` of every link in the text."""
        return find_links(self.item.text)

    @cached_property
    def phones(self) -> list[tuple[int, int]]:
        """Original-text spans of the phone numbers (found in the normalized text)."""
        norm = self.norm
        return [norm.to_original(m.start(), m.end()) for m in PHONE_RE.finditer(norm.text)]

    @cached_property
    def has_messaging_link(self) -> bool:
        return any(host in MESSAGING_HOSTS for _, _, host in self.links)


@dataclass(frozen=True, slots=True)
class SpamRule:
    """A named rule: ``find`` returns its hits on one comment (none when it does not fire)."""

    name: str
    find: Callable[[Comment], Sequence[Hit]]


def honeypot(c: Comment) -> list[Hit]:
    """The site's hidden trap field was filled in: only a bot does that."""
    return [Hit("honeypot", W_HONEYPOT)] if c.item.is_honeypot_filled else []


def too_fast(c: Comment) -> list[Hit]:
    """Submitted within :data:`TOO_FAST_SECONDS` of the form being shown."""
    seconds = c.item.seconds_to_submit
    if seconds is not None and seconds < TOO_FAST_SECONDS:
        return [Hit("too_fast", W_TOO_FAST)]
    return []


def links(c: Comment) -> list[Hit]:
    """Every link is a soft hint; a shortener or a messenger link (wa.me, t.me) is hard.

    One rule for the three kinds so that each link's evidence stays together, in text order.
    """
    hits: list[Hit] = []
    for i, (start, end, host) in enumerate(c.links):
        weight = W_LINK if i == 0 else W_EXTRA_LINK
        hits.append(Hit("links", weight, True, (Evidence(start, end, "link"),)))
        if host in SHORTENERS:
            hits.append(Hit("shortener", W_SHORTENER, False, (Evidence(start, end, "shortener"),)))
        if host in MESSAGING_HOSTS:
            span = (Evidence(start, end, "messaging_handle"),)
            hits.append(Hit("messaging_handle", W_MESSAGING_CONTACT, False, span))
    return hits


def phone_numbers(c: Comment) -> list[Hit]:
    """Each phone number is a contact: hard."""
    return [
        Hit("phone_number", W_PHONE, False, (Evidence(start, end, "phone_number"),))
        for start, end in c.phones
    ]


def messaging_mentions(c: Comment) -> list[Hit]:
    """A messenger named in words: hard next to a contact (a number or a messenger link),
    else a soft hint ("WhatsApp university" is a common news-comment topic)."""
    is_contact = bool(c.phones) or c.has_messaging_link
    weight = W_MESSAGING_CONTACT if is_contact else W_MESSAGING_MENTION
    return [
        Hit(
            "messaging_handle",
            weight,
            not is_contact,
            (Evidence(m.start(), m.end(), "messaging_handle"),),
        )
        for m in MESSAGING_RE.finditer(c.text)
    ]


def spam_phrases(c: Comment) -> list[Hit]:
    """Lexicon phrases (``lexicons/spam_phrases.txt``); only severity 3 is hard."""
    hits: list[Hit] = []
    for match in c.phrases.find(c.norm):
        severity = match.entry.severity
        span = (Evidence(match.start, match.end, f"spam_phrase:{match.entry.category}"),)
        hits.append(Hit("spam_phrase", W_PHRASE.get(severity, W_PHRASE[1]), severity < 3, span))
    return hits


def money(c: Comment) -> list[Hit]:
    """Each money amount (₹, Rs, lakh, $ …) is a soft hint."""
    return [
        Hit("money", W_MONEY, True, (Evidence(m.start(), m.end(), "money"),))
        for m in MONEY_RE.finditer(c.text)
    ]


_ASCII_LETTER = regex.compile(r"[A-Za-z]")
_ASCII_UPPER = regex.compile(r"[A-Z]")


def is_shouting(text: str) -> bool:
    """At least :data:`SHOUTING_MIN_LETTERS` Latin letters, mostly capitals."""
    letters = len(_ASCII_LETTER.findall(text))
    if letters < SHOUTING_MIN_LETTERS:
        return False
    return len(_ASCII_UPPER.findall(text)) / letters >= SHOUTING_UPPER_SHARE


def shouting(c: Comment) -> list[Hit]:
    """ALL CAPS, a soft hint; the evidence is the whole text."""
    if is_shouting(c.text):
        return [Hit("shouting", W_SHOUTING, True, (Evidence(0, len(c.text), "shouting"),))]
    return []


def is_repetitive(folded: str) -> bool:
    """True when one word makes up half of a 6+ word comment, or words are mostly repeats."""
    tokens = TOKEN_RE.findall(folded)
    if len(tokens) < REPETITION_MIN_TOKENS:
        return False
    counts = Counter(tokens)
    top = counts.most_common(1)[0][1]
    return top / len(tokens) >= 0.5 or len(counts) / len(tokens) < 0.3


def repetition(c: Comment) -> list[Hit]:
    """The same words over and over, a soft hint."""
    return [Hit("repetition", W_REPETITION, True)] if is_repetitive(c.norm.text) else []


def author_name_keywords(c: Comment) -> list[Hit]:
    """The author's name carries a strong spam phrase or a link ("Cheap Loans", "site.com")."""
    name = c.item.author_name
    if not name:
        return []
    strong = [
        m for m in c.phrases.find(normalize(name)) if m.entry.severity >= AUTHOR_PHRASE_SEVERITY
    ]
    if strong or find_links(name):
        return [Hit("author_name_keywords", W_AUTHOR_NAME)]
    return []


def is_spammy_url(url: str, phrases: Lexicon) -> bool:
    """A shortener or messenger host, or a strong spam phrase in the URL's words."""
    host = host_of(url.strip())
    if host in SHORTENERS or host in MESSAGING_HOSTS:
        return True
    words = " ".join(regex.split(r"[^\p{L}\p{N}]+", url))
    return any(m.entry.severity >= AUTHOR_PHRASE_SEVERITY for m in phrases.find(normalize(words)))


def author_url(c: Comment) -> list[Hit]:
    """The author's website is a shortener, a messenger or spam words: a soft hint."""
    if c.item.author_url and is_spammy_url(c.item.author_url, c.phrases):
        return [Hit("author_url", W_AUTHOR_URL, True, signals=(("author_url_spammy", 1.0),))]
    return []


RULES: tuple[SpamRule, ...] = (
    SpamRule("honeypot", honeypot),
    SpamRule("too_fast", too_fast),
    SpamRule("links", links),
    SpamRule("phone_numbers", phone_numbers),
    SpamRule("messaging_mentions", messaging_mentions),
    SpamRule("spam_phrases", spam_phrases),
    SpamRule("money", money),
    SpamRule("shouting", shouting),
    SpamRule("repetition", repetition),
    SpamRule("author_name_keywords", author_name_keywords),
    SpamRule("author_url", author_url),
)
