"""Spam detector: rules for links, contacts, offers, shouting, repetition, bots + a linear model.

Every rule that fires adds a reason code, a weight (see :mod:`workers.checks.scoring`) and
evidence spans into the original text. Stable reason codes: ``honeypot``, ``too_fast``,
``links``, ``shortener``, ``phone_number``, ``messaging_handle``, ``spam_phrase``, ``money``,
``shouting``, ``repetition``, ``author_name_keywords``, ``author_url``, ``near_duplicate``,
``spam_model``. ``signals`` carries ``links`` (number of links in the text — the site policy
decides ``too_many_links``), ``phone_numbers``, ``model_score``, ``seconds_to_submit`` and
``model_veto`` (1 when only soft hints fired and the model was confidently ham: not held).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import regex

from workers.checks.base import CheckInput, CheckName, CheckResult, Evidence
from workers.checks.duplicates import RecentSpamIndex
from workers.checks.language import detect_language
from workers.checks.links import MESSAGING_HOSTS, SHORTENERS, find_links, host_of
from workers.checks.normalize import TOKEN_RE, Lexicon, normalize
from workers.checks.scoring import SUSPECT, decide, model_name, model_weight, noisy_or
from workers.checks.textmodel import TextModel

SPAM_PHRASES_PATH = Path(__file__).parent / "lexicons" / "spam_phrases.txt"

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
# Rules at or above this (more than one plain link or one money amount) support the model.
RULE_SUPPORT = 0.2
W_NEAR_DUPLICATE = 0.7
# A vetoed rules score stays this far below ``suspect`` (see ``SpamDetector.run``).
MODEL_VETO_MARGIN = 0.01
NEAR_DUPLICATE_SIMILARITY = 0.6
TOO_FAST_SECONDS = 3.0
SHOUTING_MIN_LETTERS = 12
SHOUTING_UPPER_SHARE = 0.7
REPETITION_MIN_TOKENS = 6


@dataclass
class SpamDetector:
    """Implements :class:`workers.checks.base.Detector` for ``check="spam"``.

    ``model`` is optional (rules only without it). ``recent_spam`` is the per-process
    near-duplicate index the pipeline may feed. Thread-safe; ``run`` never raises on odd input.
    """

    model_artifact: TextModel | None = None
    phrases: Lexicon = field(default_factory=lambda: Lexicon.from_file(SPAM_PHRASES_PATH))
    recent_spam: RecentSpamIndex = field(default_factory=RecentSpamIndex)
    check: CheckName = field(default="spam", init=False)
    # ``name@version``: the trained model's plus the rules' version, or the rules' alone.
    model: str = field(init=False)

    def __post_init__(self) -> None:
        self.model = model_name("spam", self.model_artifact)

    def run(self, item: CheckInput) -> CheckResult:
        text = item.text
        weights: list[float] = []
        reasons: list[str] = []
        evidence: list[Evidence] = []
        signals: dict[str, float] = {}

        # Weights of the "hard" rules: evidence a spammer needs (a contact, a shortener, a
        # blatant offer, …). The rest are soft hints that also occur in ordinary messages.
        hard: list[float] = []

        def hit(reason: str, weight: float, soft: bool = False) -> None:
            weights.append(weight)
            if not soft:
                hard.append(weight)
            if reason not in reasons:
                reasons.append(reason)

        if item.is_honeypot_filled:
            hit("honeypot", 1.0)
        if item.seconds_to_submit is not None:
            signals["seconds_to_submit"] = float(item.seconds_to_submit)
            if item.seconds_to_submit < TOO_FAST_SECONDS:
                hit("too_fast", W_TOO_FAST)

        links = find_links(text)
        signals["links"] = float(len(links))
        has_messaging_link = False
        for i, (start, end, host) in enumerate(links):
            evidence.append(Evidence(start, end, "link"))
            hit("links", W_LINK if i == 0 else W_EXTRA_LINK, soft=True)
            if host in SHORTENERS:
                evidence.append(Evidence(start, end, "shortener"))
                hit("shortener", W_SHORTENER)
            if host in MESSAGING_HOSTS:
                has_messaging_link = True
                evidence.append(Evidence(start, end, "messaging_handle"))
                hit("messaging_handle", W_MESSAGING_CONTACT)

        norm = normalize(text)
        phones = [norm.to_original(m.start(), m.end()) for m in PHONE_RE.finditer(norm.text)]
        signals["phone_numbers"] = float(len(phones))
        for start, end in phones:
            evidence.append(Evidence(start, end, "phone_number"))
            hit("phone_number", W_PHONE)
        for m in MESSAGING_RE.finditer(text):
            evidence.append(Evidence(m.start(), m.end(), "messaging_handle"))
            contact = phones or has_messaging_link
            if contact:
                hit("messaging_handle", W_MESSAGING_CONTACT)
            else:
                hit("messaging_handle", W_MESSAGING_MENTION, soft=True)

        for match in self.phrases.find(norm):
            label = f"spam_phrase:{match.entry.category}"
            evidence.append(Evidence(match.start, match.end, label))
            severity = match.entry.severity
            hit("spam_phrase", W_PHRASE.get(severity, W_PHRASE[1]), soft=severity < 3)
        for m in MONEY_RE.finditer(text):
            evidence.append(Evidence(m.start(), m.end(), "money"))
            hit("money", W_MONEY, soft=True)

        if _is_shouting(text):
            evidence.append(Evidence(0, len(text), "shouting"))
            hit("shouting", W_SHOUTING, soft=True)
        repeated = _repeated_token(norm.text)
        if repeated:
            hit("repetition", W_REPETITION, soft=True)

        if item.author_name:
            name_norm = normalize(item.author_name)
            strong = [m for m in self.phrases.find(name_norm) if m.entry.severity >= 2]
            if strong or find_links(item.author_name):
                hit("author_name_keywords", W_AUTHOR_NAME)
        if item.author_url and _is_spammy_url(item.author_url, self.phrases):
            signals["author_url_spammy"] = 1.0
            hit("author_url", W_AUTHOR_URL, soft=True)

        if self.recent_spam.similarity(text, norm) >= NEAR_DUPLICATE_SIMILARITY:
            hit("near_duplicate", W_NEAR_DUPLICATE)

        w_model = None
        if self.model_artifact is not None and text.strip():
            model = self.model_artifact
            p = model.predict(text, norm)
            signals["model_score"] = round(p, 4)
            # A comment with nothing a spammer needs (no contact, offer, extra links, …) is held
            # by the model alone only above its stricter bar: the training data's ham is SMS
            # chat and music-video comments, so ordinary news prose ("please check …") can
            # score moderately high.
            if noisy_or(weights) >= RULE_SUPPORT:
                threshold = model.threshold
            elif weights:  # a soft hint (one link, a money amount, …) but no support
                threshold = model.threshold_alone
            else:  # nothing but the model's own view of the words
                threshold = model.threshold_bare
            w_model = model_weight(p, threshold)
            if w_model >= SUSPECT:
                reasons.append("spam_model")
            # Soft hints alone ("free" + all caps, "call now", "XXX") that the model firmly
            # calls ham do not hold a comment: on the training data such holds were all ham.
            # Any hard rule (a contact, a shortener, …) keeps the rules' full weight.
            if p < model.ham_bar and not hard and noisy_or(weights) >= SUSPECT:
                weights = [SUSPECT - MODEL_VETO_MARGIN]
                signals["model_veto"] = 1.0

        score, verdict = decide(weights, w_model)
        return CheckResult(
            check="spam",
            score=round(score, 4),
            verdict=verdict,
            reasons=tuple(reasons),
            evidence=tuple(evidence),
            model=self.model,
            lang=item.lang_hint or detect_language(text),
            signals=signals,
        )


_ASCII_LETTER = regex.compile(r"[A-Za-z]")
_ASCII_UPPER = regex.compile(r"[A-Z]")


def _is_shouting(text: str) -> bool:
    letters = len(_ASCII_LETTER.findall(text))
    if letters < SHOUTING_MIN_LETTERS:
        return False
    return len(_ASCII_UPPER.findall(text)) / letters >= SHOUTING_UPPER_SHARE


def _repeated_token(folded: str) -> bool:
    """True when one word makes up half of a 6+ word comment, or words are mostly repeats."""
    tokens = TOKEN_RE.findall(folded)
    if len(tokens) < REPETITION_MIN_TOKENS:
        return False
    counts = Counter(tokens)
    top = counts.most_common(1)[0][1]
    return top / len(tokens) >= 0.5 or len(counts) / len(tokens) < 0.3


def _is_spammy_url(url: str, phrases: Lexicon) -> bool:
    host = host_of(url.strip())
    if host in SHORTENERS or host in MESSAGING_HOSTS:
        return True
    words = " ".join(regex.split(r"[^\p{L}\p{N}]+", url))
    return any(m.entry.severity >= 2 for m in phrases.find(normalize(words)))
