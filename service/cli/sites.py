"""``commentmod sites|moderators|labels``: the operator's side of sites and moderators."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from service.cli.common import fail, print_json
from service.domain.checks import CHECKS
from service.domain.policy import PolicyInvalid
from service.settings import Settings
from service.usecases.decisions import export_labels
from service.usecases.policies import get_site_policy, update_site_policy
from service.usecases.services import NotFound, PolicyConflict, SiteExists, build_services
from service.usecases.sites import create_moderator, create_site, revoke_moderator
from service.usecases.webhooks import (
    InvalidWebhookUrl,
    configure_webhook,
    validate_webhook_url,
)


def cmd_sites_create(settings: Settings, args: argparse.Namespace) -> int:
    if args.webhook_url:
        try:
            validate_webhook_url(args.webhook_url)
        except InvalidWebhookUrl as exc:
            return fail(str(exc))
    svc = build_services(settings)
    try:
        site, api_key = create_site(svc, args.slug, args.name)
        secret = configure_webhook(svc, site.slug, args.webhook_url) if args.webhook_url else None
    except SiteExists:
        return fail(f"a site with slug {args.slug!r} already exists")
    finally:
        svc.close()
    out = {"site": site.slug, "id": site.id, "api_key": api_key}
    if secret:
        out.update(webhook_url=args.webhook_url, webhook_secret=secret)
    print_json(out)
    return 0


def cmd_sites_webhook(settings: Settings, args: argparse.Namespace) -> int:
    """Set, rotate (same URL again) or remove (--disable) a site's webhook."""
    if bool(args.url) == bool(args.disable):
        return fail("give --url U or --disable")
    svc = build_services(settings)
    try:
        secret = configure_webhook(svc, args.slug, None if args.disable else args.url)
    except (NotFound, InvalidWebhookUrl) as exc:
        return fail(str(exc))
    finally:
        svc.close()
    print_json({"site": args.slug, "webhook_url": args.url, "webhook_secret": secret})
    return 0


def _policy_value(raw: str) -> Any:
    """``--set key=value``: the value is JSON when it parses (3, true, ["a","b"]), else text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def cmd_sites_policy(settings: Settings, args: argparse.Namespace) -> int:
    """Show a site's policy; with --set/--unset, save the next version of its overrides."""
    svc = build_services(settings)
    try:
        view = get_site_policy(svc, None, args.slug)
        if args.set or args.unset or args.replace is not None:
            overrides = dict(view.overrides) if args.replace is None else {}
            if args.replace:
                overrides = json.loads(Path(args.replace).read_text(encoding="utf-8"))
            for item in args.set or []:
                key, sep, raw = item.partition("=")
                if not sep:
                    return fail(f"--set needs key=value: {key}")
                overrides[key.strip()] = _policy_value(raw)
            for key in args.unset or []:
                overrides.pop(key, None)
            view = update_site_policy(
                svc, None, args.slug, overrides, actor="cli", expected_version=view.version
            )
    except NotFound:
        return fail(f"no site {args.slug!r}")
    except PolicyInvalid as exc:
        return fail("invalid policy: " + json.dumps(exc.fields, sort_keys=True))
    except PolicyConflict:
        return fail("the policy changed meanwhile; run the command again")
    except (OSError, ValueError) as exc:
        return fail(f"cannot read the policy file: {type(exc).__name__}")
    finally:
        svc.close()
    print_json(
        {
            "site": view.site,
            "version": view.version,
            "overrides": view.overrides,
            "effective": view.effective,
            "updated_by": view.updated_by,
            "updated_at": view.updated_at.isoformat() if view.updated_at else None,
            "history": [
                {"version": v.version, "actor": v.actor, "created_at": v.created_at.isoformat()}
                for v in view.history
            ],
        }
    )
    return 0


def cmd_labels_export(settings: Settings, args: argparse.Namespace) -> int:
    """Moderator decisions as a labelled CSV (text,label,lang) the detectors can train on."""
    svc = build_services(settings)
    try:
        with Path(args.file).open("w", encoding="utf-8", newline="") as out:
            count = export_labels(svc, args.site, args.check, out)
    except NotFound:
        return fail(f"no site {args.site!r}")
    finally:
        svc.close()
    print_json({"site": args.site, "check": args.check, "file": args.file, "rows": count})
    return 0


def cmd_moderators_create(settings: Settings, args: argparse.Namespace) -> int:
    svc = build_services(settings)
    try:
        moderator_id, token = create_moderator(svc, args.name, args.site)
    except NotFound as exc:
        return fail(str(exc))
    finally:
        svc.close()
    print_json({"moderator": args.name, "id": moderator_id, "sites": args.site, "token": token})
    return 0


def cmd_moderators_revoke(settings: Settings, args: argparse.Namespace) -> int:
    svc = build_services(settings)
    try:
        changed = revoke_moderator(svc, args.id)
    except NotFound:
        return fail(f"no moderator {args.id}")
    finally:
        svc.close()
    print_json({"moderator": args.id, "revoked": True, "was_active": changed})
    return 0


def add_commands(sub: Any) -> None:
    sites = sub.add_parser("sites", help="sites").add_subparsers(
        dest="sites_command", required=True
    )
    create_site = sites.add_parser("create", help="create a site; prints its API key once")
    create_site.add_argument("slug")
    create_site.add_argument("--name")
    create_site.add_argument("--webhook-url")
    create_site.set_defaults(func=cmd_sites_create)
    webhook = sites.add_parser("webhook", help="set or remove a site's webhook; prints the secret")
    webhook.add_argument("slug")
    webhook.add_argument("--url")
    webhook.add_argument("--disable", action="store_true")
    webhook.set_defaults(func=cmd_sites_webhook)
    policy = sites.add_parser("policy", help="show or change a site's moderation policy")
    policy.add_argument("slug")
    policy.add_argument("--set", action="append", metavar="KEY=VALUE", help="JSON or text value")
    policy.add_argument("--unset", action="append", metavar="KEY")
    policy.add_argument("--replace", metavar="FILE.json", help="replace all overrides")
    policy.set_defaults(func=cmd_sites_policy)

    mods = sub.add_parser("moderators", help="moderators").add_subparsers(
        dest="moderators_command", required=True
    )
    create_mod = mods.add_parser("create", help="create a moderator; prints its token once")
    create_mod.add_argument("name")
    create_mod.add_argument("--site", action="append", required=True)
    create_mod.set_defaults(func=cmd_moderators_create)
    revoke_mod = mods.add_parser("revoke", help="revoke a moderator's token")
    revoke_mod.add_argument("id", type=int)
    revoke_mod.set_defaults(func=cmd_moderators_revoke)

    labels = sub.add_parser("labels", help="moderator labels").add_subparsers(
        dest="labels_command", required=True
    )
    export = labels.add_parser("export", help="write text,label,lang CSV for retraining")
    export.add_argument("--site", required=True)
    export.add_argument("--check", choices=list(CHECKS), required=True)
    export.add_argument("file")
    export.set_defaults(func=cmd_labels_export)
