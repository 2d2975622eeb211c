"""Finding links in comment text: URLs, ``www.`` addresses and bare domains.

Contract: pure; spans index the text given. A link is what a reader could follow: ``https://…``,
``www.…``, ``example.com`` or ``example.com/x``. E-mail addresses are not links, and a domain
whose TLD doubles as a word after a missing space (``good.in my view``) needs a path.
"""

from __future__ import annotations

import regex

# TLDs that are rarely ordinary words, so "example.com" without a scheme is still a link.
_TLDS = (
    r"com|net|org|info|biz|io|ly|gl|gd|xyz|tk|ml|ga|cf|gq|ru|cn|uk|cc|pw|icu|buzz|ws|ee|at|to|"
    r"co\.in|gov\.in|nic\.in|ac\.in|org\.in|net\.in|co\.uk"
)
# TLDs that double as words after a missing space ("good.in my view"): need a path or www.
_WORDLIKE_TLDS = (
    r"in|me|us|co|app|live|shop|store|fun|win|link|click|site|online|today|blog|news|top|club|vip"
)
URL_RE = regex.compile(
    rf"""(?ix)
    \bhttps?://[^\s<>"'()]+
    | \bwww\.[^\s<>"'()]+
    | (?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>"'()]*)?
    | (?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_WORDLIKE_TLDS})/[^\s<>"'()]*
    """
)
# What every link above contains ("://", "www." or a dot before a TLD): a cheap necessary
# condition, since URL_RE tries its bare-domain branches at every word of a long comment
# (docs/benchmarks.md, "Detector code").
_MAY_HOLD_LINK = regex.compile(rf"(?i)://|www\.|\.(?:{_TLDS})\b|\.(?:{_WORDLIKE_TLDS})/")
SHORTENERS = frozenset(
    "bit.ly bitly.com tinyurl.com goo.gl t.co ow.ly is.gd v.gd buff.ly cutt.ly rebrand.ly "
    "shorturl.at rb.gy t.ly tiny.cc s.id shorte.st adf.ly tiny.one".split()
)
MESSAGING_HOSTS = frozenset("wa.me chat.whatsapp.com api.whatsapp.com t.me telegram.me".split())
_HOST = regex.compile(r"(?i)^(?:https?://)?(?:www\.)?([^/?#:]+)")


def host_of(url: str) -> str:
    """Lower-cased host of ``url`` (scheme and ``www.`` optional)."""
    match = _HOST.match(url)
    return match.group(1).lower() if match else ""


def find_links(text: str) -> list[tuple[int, int, str]]:
    """Links in ``text`` as ``(start, end, host)``: URLs, ``www.`` and bare domains."""
    out: list[tuple[int, int, str]] = []
    if not _MAY_HOLD_LINK.search(text):
        return out
    for m in URL_RE.finditer(text):
        out.append((m.start(), m.end(), host_of(m.group())))
    return out
