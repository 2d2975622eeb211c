"""Privacy use cases: erase an author's personal data, re-encrypt emails after a key rotation.

Erasure policy (docs/reliability.md, "Erasure"): every comment the author posted on the site
keeps its text and status (the published text is the site's publication; a site that wants
the text gone takes the comment down or rejects it) but loses everything that identifies
the author: the encrypted email is deleted, the name becomes ``ERASED_NAME``, the website,
truncated IP, IP hash, user agent and referrer are cleared, and the author hash is replaced
by a random value per comment, so the comments can no longer be linked to each other or to
the email (flood control, duplicates, trust and the moderators' ``author_key`` forget them).
Stored webhook event payloads of those comments lose the name and URL as well; the site's
spam memory forgets the author's hash, IP hashes and the domain of the author's URL; the
Idempotency-Key records of those comments are deleted; and the caller (API, CLI) drops the
rate-limit counters of the IP hashes returned (:attr:`Erasure.ip_limit_keys`). One audit row per
comment records that it happened, never what was erased.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from email_validator import EmailNotValidError, validate_email

from service.db.models import Comment
from service.db.spam_memory import Key
from service.domain.privacy import (
    PrivacyConfigError,
)
from service.usecases.services import NotFound, Services, SiteRef, UseCaseError, utcnow
from service.usecases.spam_memory import linked_domains
from service.usecases.submission import ip_limit_key
from service.usecases.webhooks import scrub_author

log = logging.getLogger(__name__)


ERASED_NAME = "[erased]"


ERASURE_ACTOR = "erasure"


ERASURE_REASON = "personal_data_erased"


class InvalidEmail(UseCaseError, ValueError):
    """The address is not an email (the message never carries it)."""


def normalize_email(raw: str) -> str:
    """The same normalization as a submission, so the keyed hash matches."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail("invalid_email") from exc


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: how many comments, and the rate-limit keys (scope ``ip``) of the
    author's IP hashes, whose counters (outside the database) the caller drops with
    ``RateLimiter.forget``."""

    count: int
    ip_limit_keys: frozenset[str]


def _author_memory_keys(svc: Services, author_hash: str, comments: Sequence[Comment]) -> list[Key]:
    """The spam-memory keys that identify the author: its hash, its IPs and the domain of
    its URL (domains linked from the text stay: the text is the site's publication)."""
    keys: list[Key] = [("author", author_hash)]
    for comment in comments:
        if comment.ip_hash:
            keys.append(("ip", comment.ip_hash))
        if comment.author_url:
            keys += [
                ("domain", svc.vault.keyed_hash("domain", d))
                for d in linked_domains("", comment.author_url)
            ]
    return list(dict.fromkeys(keys))


def erase_author(svc: Services, site: SiteRef, email: str) -> Erasure:
    """Erase the personal data of ``email``'s author on ``site`` (module docstring).

    Idempotent: a second call finds nothing to erase (count 0).
    """
    author_hash = svc.vault.author_key(normalize_email(email))
    now = utcnow()
    with svc.uow() as uow:
        comments = uow.comments.of_author_for_update(site.id, author_hash)
        ip_limit_keys = frozenset(ip_limit_key(site.id, c.ip_hash) for c in comments if c.ip_hash)
        uow.spam_memory.forget(site.id, _author_memory_keys(svc, author_hash, comments))
        uow.idempotency.delete_for_comments([c.id for c in comments])
        for comment in comments:
            comment.author_email_encrypted = None
            comment.author_hash = secrets.token_hex(32)  # unlinkable, and never a real HMAC
            comment.author_name = ERASED_NAME
            comment.author_url = None
            comment.ip_truncated = None
            comment.ip_hash = None
            comment.user_agent = None
            comment.referrer = None
            uow.audit.add(
                comment.id,
                comment.site_id,
                ERASURE_ACTOR,
                comment.status,
                comment.status,
                [ERASURE_REASON],
                now,
            )
        # Webhook events not yet delivered carry the author's name and URL too.
        scrub_author(uow, [c.id for c in comments], ERASED_NAME)
        count = len(comments)
    log.info("author erased", extra={"site_id": site.id, "comments": count})
    return Erasure(count, ip_limit_keys)


def rotate_email_keys(svc: Services, batch_size: int = 500) -> int:
    """Re-encrypt every stored email under the primary key (the first of
    ``COMMENTMOD_EMAIL_KEYS``); afterwards the old keys can be removed. Returns the count.

    Idempotent and resumable: batches commit one by one in id order; running it again
    simply re-encrypts under the same primary key.
    """
    rotated = 0
    after = ""
    while True:
        with svc.uow() as uow:
            batch = uow.comments.with_email_after(after, batch_size)
            for comment in batch:
                try:
                    comment.author_email_encrypted = svc.vault.rotate(
                        str(comment.author_email_encrypted)
                    )
                except InvalidToken as exc:  # the message must not carry the token
                    raise PrivacyConfigError(
                        "no configured email key decrypts a stored email"
                    ) from exc
            rotated += len(batch)
            if len(batch) < batch_size:
                break
            after = batch[-1].id
    log.info("email keys rotated", extra={"comments": rotated})
    return rotated


def erase_author_on_site(svc: Services, site_slug: str, email: str) -> Erasure:
    """:func:`erase_author` for the operator, who names the site by its slug (raises
    :class:`NotFound` for an unknown site)."""
    with svc.uow() as uow:
        site = uow.sites.by_slug(site_slug)
        if site is None:
            raise NotFound("unknown site")
        ref = SiteRef(site.id, site.slug, {})
    return erase_author(svc, ref, email)
