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
from service.usecases.services import (
    Forbidden,
    NotFound,
    PolicyConflict,
    Services,
    SiteExists,
    build_services,
)
from service.usecases.sites import (
    create_moderator,
    list_moderators,
    list_sites,
    register_site,
    revoke_moderator,
    rotate_moderator_token,
    rotate_site_key,
)
from service.usecases.webhooks import InvalidWebhookUrl, configure_webhook


def cmd_sites_create(settings: Settings, args: argparse.Namespace) -> int:
    """One transaction: the site (and its webhook) exists and its key is printed, or nothing
    was created."""
    svc = build_services(settings)
    try:
        created = register_site(svc, args.slug, args.name, args.webhook_url)
    except SiteExists:
        return fail(f"a site with slug {args.slug!r} already exists")
    except InvalidWebhookUrl as exc:
        return fail(str(exc))
    finally:
        svc.close()
    out: dict[str, Any] = {
        "site": created.site.slug,
        "id": created.site.id,
        "api_key": created.api_key,
    }
    if created.webhook_secret:
        out.update(webhook_url=created.webhook_url, webhook_secret=created.webhook_secret)
    print_json(out)
    return 0


def cmd_sites_list(settings: Settings, _: argparse.Namespace) -> int:
    svc = build_services(settings)
    try:
        sites = list_sites(svc)
    finally:
        svc.close()
    print_json(
        [
            {
                "site": s.slug,
                "id": s.id,
                "name": s.name,
                "webhook_url": s.webhook_url,
                "created_at": s.created_at.isoformat(),
            }
            for s in sites
        ]
    )
    return 0


def cmd_sites_rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    svc = build_services(settings)
    try:
        api_key = rotate_site_key(svc, args.slug)
    except NotFound:
        return fail(f"no site {args.slug!r}")
    finally:
        svc.close()
    print_json(
        {
            "site": args.slug,
            "api_key": api_key,
            "old_key_refused_within_seconds": settings.auth_cache_seconds,
        }
    )
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


def cmd_moderators_list(settings: Settings, _: argparse.Namespace) -> int:
    svc = build_services(settings)
    try:
        moderators = list_moderators(svc)
    finally:
        svc.close()
    print_json(
        [
            {
                "moderator": m.name,
                "id": m.id,
                "sites": m.sites,
                "created_at": m.created_at.isoformat(),
                "revoked_at": m.revoked_at.isoformat() if m.revoked_at else None,
            }
            for m in moderators
        ]
    )
    return 0


def resolve_moderator(svc: Services, name_or_id: str) -> int | str:
    """The id of the moderator called ``name_or_id`` (the SPEC's NAME), or of that numeric id;
    a message instead when there is none or the name is ambiguous. Active moderators first:
    a revoked one is chosen only when no active one has that name."""
    moderators = list_moderators(svc)
    if name_or_id.isdigit() and any(m.id == int(name_or_id) for m in moderators):
        return int(name_or_id)
    named = [m for m in moderators if m.name == name_or_id]
    active = [m for m in named if m.revoked_at is None] or named
    if not active:
        return f"no moderator named {name_or_id!r} (see: commentmod moderators list)"
    if len(active) > 1:
        ids = ", ".join(str(m.id) for m in active)
        return f"several moderators are named {name_or_id!r} (ids {ids}); give the id instead"
    return active[0].id


def cmd_moderators_rotate_token(settings: Settings, args: argparse.Namespace) -> int:
    svc = build_services(settings)
    try:
        moderator_id = resolve_moderator(svc, args.moderator)
        if isinstance(moderator_id, str):
            return fail(moderator_id)
        token = rotate_moderator_token(svc, moderator_id)
    except NotFound:
        return fail(f"no moderator {args.moderator!r}")
    except Forbidden:
        return fail(f"moderator {args.moderator!r} is revoked; create a new moderator instead")
    finally:
        svc.close()
    print_json({"moderator": args.moderator, "id": moderator_id, "token": token})
    return 0


def add_commands(sub: Any) -> None:
    _add_site_commands(sub)
    _add_moderator_commands(sub)
    labels = sub.add_parser("labels", help="export moderator decisions").add_subparsers(
        dest="labels_command", required=True, metavar="ACTION"
    )
    export = labels.add_parser("export", help="write text,label,lang CSV for retraining")
    export.add_argument("--site", required=True, help="the site's slug")
    export.add_argument("--check", choices=list(CHECKS), required=True, help="which detector")
    export.add_argument("file", help="the CSV file to write")
    export.set_defaults(func=cmd_labels_export)


def _add_site_commands(sub: Any) -> None:
    sites = sub.add_parser("sites", help="create, list and configure sites").add_subparsers(
        dest="sites_command", required=True, metavar="ACTION"
    )
    create = sites.add_parser("create", help="create a site; prints its API key once")
    create.add_argument("slug", help="short unique name, used in URLs and commands")
    create.add_argument("--name", help="display name (default: the slug)")
    create.add_argument(
        "--webhook-url", help="http(s) URL to POST status changes to; prints its secret once"
    )
    create.set_defaults(func=cmd_sites_create)
    sites.add_parser("list", help="list the sites (never their keys)").set_defaults(
        func=cmd_sites_list
    )
    rotate = sites.add_parser(
        "rotate-key",
        help="give a site a new API key, printed once; the old key is refused within "
        "auth_cache_seconds (default 10 s)",
    )
    rotate.add_argument("slug", help="the site's slug")
    rotate.set_defaults(func=cmd_sites_rotate_key)
    webhook = sites.add_parser("webhook", help="set or remove a site's webhook; prints the secret")
    webhook.add_argument("slug", help="the site's slug")
    webhook.add_argument("--url", help="http(s) URL (the same URL again rotates the secret)")
    webhook.add_argument("--disable", action="store_true", help="remove the webhook")
    webhook.set_defaults(func=cmd_sites_webhook)
    policy = sites.add_parser("policy", help="show or change a site's moderation policy")
    policy.add_argument("slug", help="the site's slug")
    policy.add_argument("--set", action="append", metavar="KEY=VALUE", help="JSON or text value")
    policy.add_argument("--unset", action="append", metavar="KEY", help="back to the default")
    policy.add_argument("--replace", metavar="FILE.json", help="replace all overrides")
    policy.set_defaults(func=cmd_sites_policy)


def _add_moderator_commands(sub: Any) -> None:
    mods = sub.add_parser("moderators", help="moderators and their tokens").add_subparsers(
        dest="moderators_command", required=True, metavar="ACTION"
    )
    create = mods.add_parser("create", help="create a moderator; prints its token once")
    create.add_argument("name", help="the moderator's name (shown in the audit trail)")
    create.add_argument(
        "--site", action="append", required=True, help="a site slug it may moderate (repeat)"
    )
    create.set_defaults(func=cmd_moderators_create)
    mods.add_parser("list", help="list moderators, their sites and revocation").set_defaults(
        func=cmd_moderators_list
    )
    rotate = mods.add_parser(
        "rotate-token", help="give a moderator a new token, printed once; the old one stops"
    )
    rotate.add_argument(
        "moderator", help="the moderator's name (as created), or its id (see moderators list)"
    )
    rotate.set_defaults(func=cmd_moderators_rotate_token)
    revoke = mods.add_parser("revoke", help="revoke a moderator's token for good")
    revoke.add_argument("id", type=int, help="the moderator's id (see moderators list)")
    revoke.set_defaults(func=cmd_moderators_revoke)
