"""Safe reads: what the read serializers do to stored text before it leaves the service.

Decision (docs/reliability.md, "Safe reads"): the database keeps exactly what the reader
sent (detectors, moderators and duplicate detection see the original); every read path makes
it safe at serialization time, so a better allow-list later applies to old comments too.

- ``text`` is HTML sanitized by an allow-list (nh3/ammonia): the inline tags WordPress
  allows in comments survive, links get ``rel="nofollow ugc noopener noreferrer"`` and
  only http(s) targets; ``<script>``/``<style>`` lose their content; every other tag and
  attribute (``on*=``, ``style=``, ``javascript:`` URLs) is dropped; text is entity-escaped.
- ``author_name`` is plain text made HTML-safe: no tag at all survives.
- ``author_url`` (already validated http(s), no credentials) has characters that could
  break out of an HTML attribute (quotes, angle brackets, backtick, space) percent-encoded.

All three are idempotent (f(f(x)) == f(x)), so a site that sanitizes again changes nothing,
and they keep ZWJ/ZWNJ (Devanagari spelling needs them). Pure: no Flask, no database.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import nh3

ALLOWED_TAGS = frozenset(
    {"a", "abbr", "b", "blockquote", "br", "cite", "code", "del", "em", "i", "p", "q", "s"}
    | {"strike", "strong"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
URL_SCHEMES = frozenset({"http", "https"})
LINK_REL = "nofollow ugc noopener noreferrer"
# RFC 3986 reserved + unreserved characters, and '%' so encoding twice changes nothing.
_URL_SAFE = ":/?#[]@!$&()*+,;=%~-._"


def safe_html(text: str) -> str:
    """Comment text as HTML safe to insert into a page (allow-listed inline markup)."""
    return nh3.clean(
        text,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def safe_text(text: str) -> str:
    """Plain text (a name) as HTML with no markup at all."""
    return nh3.clean(text, tags=set(), attributes={}, strip_comments=True)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL safe inside a quoted HTML attribute; anything else is dropped."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in URL_SCHEMES:
        return None
    return quote(url, safe=_URL_SAFE)
