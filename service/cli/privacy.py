"""``commentmod keys|authors``: secrets and the erasure of an author's personal data."""

from __future__ import annotations

import argparse
from typing import Any

from service.cli.common import fail, print_json
from service.domain.privacy import PrivacyConfigError, generate_email_key, generate_hash_key
from service.ratelimit import RateLimiter
from service.settings import Settings
from service.usecases.privacy import InvalidEmail, erase_author_on_site, rotate_email_keys
from service.usecases.services import NotFound, build_services
from service.usecases.webhooks import (
    rotate_webhook_secrets,
)


def cmd_keys_generate(_: Settings, __: argparse.Namespace) -> int:
    print(f"COMMENTMOD_EMAIL_KEYS={generate_email_key()}")
    print(f"COMMENTMOD_HASH_KEY={generate_hash_key()}")
    return 0


def cmd_keys_rotate(settings: Settings, _: argparse.Namespace) -> int:
    """Re-encrypt stored emails and webhook secrets under the first COMMENTMOD_EMAIL_KEYS key."""
    svc = build_services(settings)
    try:
        rotated = rotate_email_keys(svc)
        secrets = rotate_webhook_secrets(svc)  # encrypted with the same keys
    except PrivacyConfigError as exc:
        return fail(str(exc))
    finally:
        svc.close()
    print_json({"rotated": rotated, "webhook_secrets": secrets})
    return 0


def cmd_authors_erase(settings: Settings, args: argparse.Namespace) -> int:
    """Erase an author's personal data on one site (the email is never printed)."""

    svc = build_services(settings)
    try:
        erasure = erase_author_on_site(svc, args.site, args.email)
        limiter = RateLimiter.from_settings(settings)
        try:
            for key in erasure.ip_limit_keys:
                limiter.forget("ip", key)
        finally:
            limiter.close()
    except NotFound:
        return fail(f"unknown site: {args.site}")
    except InvalidEmail:
        return fail("not a valid email address")
    finally:
        svc.close()
    print_json({"site": args.site, "erased": erasure.count})
    return 0


def add_commands(sub: Any) -> None:
    keys = sub.add_parser("keys", help="generate or rotate the secrets").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    keys.add_parser(
        "generate", help="print new COMMENTMOD_EMAIL_KEYS / COMMENTMOD_HASH_KEY"
    ).set_defaults(func=cmd_keys_generate)
    keys.add_parser(
        "rotate", help="re-encrypt stored emails with the first COMMENTMOD_EMAIL_KEYS key"
    ).set_defaults(func=cmd_keys_rotate)

    authors = sub.add_parser("authors", help="authors' personal data").add_subparsers(
        dest="authors_command", required=True, metavar="ACTION"
    )
    erase = authors.add_parser("erase", help="erase an author's personal data on a site")
    erase.add_argument("--site", required=True, help="the site's slug")
    erase.add_argument("email", help="the author's email address (never printed)")
    erase.set_defaults(func=cmd_authors_erase)
