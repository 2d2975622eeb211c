"""Privacy use cases: erase an author's personal data, re-encrypt emails after a key rotation.

Erasure policy (docs/reliability.md, "Erasure"): every comment the author posted on the site
keeps its text and status (the published text is the site's publication; a site that wants
the text gone takes the comment down or rejects it) but loses everything that identifies
the author: the encrypted email is deleted, the name becomes ``ERASED_NAME``, the website,
truncated IP, IP hash, user agent and referrer are cleared, and the author hash is replaced
by a random value per comment, so the comments can no longer be linked to each other or to
the email (flood control, duplicates, trust and the moderators' ``author_key`` forget them).
Stored webhook event payloads of those comments lose the name and URL as well. One audit
row per comment records that it happened, never what was erased.
"""

from __future__ import annotations

import logging
import secrets

from cryptography.fernet import InvalidToken
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import (
    select,
)

from service.db.models import (
    AuditEvent,
    Comment,
)
from service.domain.privacy import (
    PrivacyConfigError,
)
from service.usecases.services import (
    Services,
    SiteRef,
    utcnow,
)
from service.usecases.webhooks import scrub_author

log = logging.getLogger(__name__)


ERASED_NAME = "[erased]"


ERASURE_ACTOR = "erasure"


ERASURE_REASON = "personal_data_erased"


class InvalidEmail(ValueError):
    """The address is not an email (the message never carries it)."""


def normalize_email(raw: str) -> str:
    """The same normalization as a submission, so the keyed hash matches."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail("invalid_email") from exc


def erase_author(svc: Services, site: SiteRef, email: str) -> int:
    """Erase the personal data of ``email``'s author on ``site``; returns how many comments.

    Idempotent: a second call finds nothing to erase and returns 0.
    """
    author_hash = svc.vault.author_key(normalize_email(email))
    now = utcnow()
    with svc.unit_of_work() as s:
        comments = s.scalars(
            select(Comment)
            .where(Comment.site_id == site.id, Comment.author_hash == author_hash)
            .with_for_update()
        ).all()
        for comment in comments:
            comment.author_email_encrypted = None
            comment.author_hash = secrets.token_hex(32)  # unlinkable, and never a real HMAC
            comment.author_name = ERASED_NAME
            comment.author_url = None
            comment.ip_truncated = None
            comment.ip_hash = None
            comment.user_agent = None
            comment.referrer = None
            s.add(
                AuditEvent(
                    comment_id=comment.id,
                    site_id=comment.site_id,
                    actor=ERASURE_ACTOR,
                    from_status=comment.status,
                    to_status=comment.status,
                    reasons=[ERASURE_REASON],
                    created_at=now,
                )
            )
        # Webhook events not yet delivered carry the author's name and URL too.
        scrub_author(s, [c.id for c in comments], ERASED_NAME)
        count = len(comments)
    log.info("author erased", extra={"site_id": site.id, "comments": count})
    return count


def rotate_email_keys(svc: Services, batch_size: int = 500) -> int:
    """Re-encrypt every stored email under the primary key (the first of
    ``COMMENTMOD_EMAIL_KEYS``); afterwards the old keys can be removed. Returns the count.

    Idempotent and resumable: batches commit one by one in id order; running it again
    simply re-encrypts under the same primary key.
    """
    rotated = 0
    after = ""
    while True:
        with svc.unit_of_work() as s:
            batch = s.scalars(
                select(Comment)
                .where(Comment.author_email_encrypted.is_not(None), Comment.id > after)
                .order_by(Comment.id)
                .limit(batch_size)
                .with_for_update()
            ).all()
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
