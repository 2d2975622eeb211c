"""The ``commentmod`` command: a composition root like ``create_app`` (it may reach both
halves: ``worker``, ``scheduler``, ``evaluate`` and ``train`` load the workers' code)."""

# One module per command group; each adds its commands to the parser and calls use cases.

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from service.cli import config, detectors, imports, privacy, runtime, serve, site_models, sites
from service.cli.common import fail
from service.db.errors import StorageUnavailable
from service.domain.privacy import PrivacyConfigError
from service.settings import Settings, load_settings

DESCRIPTION = """\
commentmod: a comment-moderation service (HTTP API, worker and scheduler) and its
operator's tools. Configuration: COMMENTMOD_* environment variables, then
config/commentmod.toml; the secrets COMMENTMOD_EMAIL_KEYS and COMMENTMOD_HASH_KEY come from
the environment or, in a source checkout, from var/secrets.env (written by `make run`)."""

EPILOG = "Run `commentmod COMMAND --help` for a command's options. Exit status: 0 ok, 2 a "
EPILOG += "usage, configuration or database error (one line on stderr), 1 anything else."

# In the order ``commentmod --help`` lists them.
COMMAND_GROUPS = (
    serve.add_commands,
    runtime.add_schema_commands,
    sites.add_commands,
    privacy.add_commands,
    runtime.add_commands,
    detectors.add_commands,
    site_models.add_commands,
    imports.add_commands,
)

# Commands that never touch personal data run without the secrets.
WITHOUT_SECRETS = frozenset({"cmd_keys_generate", "cmd_db_upgrade", "cmd_evaluate", "cmd_train"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commentmod", description=DESCRIPTION, epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_commands in COMMAND_GROUPS:
        add_commands(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    config.load_secrets_file(os.environ)
    config.find_config_file(os.environ)
    settings = config.anchor_paths(load_settings(), os.environ)
    if args.func.__name__ not in WITHOUT_SECRETS:
        config.check_secrets(settings)
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except PrivacyConfigError as exc:
        return fail(str(exc))
    except ValidationError as exc:  # one line, without the input values
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        return fail(f"invalid settings: {problems}")
    except Exception as exc:  # noqa: BLE001 - a readable message instead of a traceback
        return fail(f"invalid settings: {' '.join(str(exc).split())}")
    try:
        return int(args.func(settings, args) or 0)
    except PrivacyConfigError as exc:
        return fail(str(exc))
    except StorageUnavailable as exc:
        # Typically: no database yet (run `commentmod db upgrade`, or `make run` first), or
        # the server is unreachable. The driver's message names no submitted value.
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()[0]
        return fail(
            f"database unavailable at {config.where(settings.database_url)}: {reason}; "
            "is it running and migrated (commentmod db upgrade)?"
        )
    except Exception as exc:  # one line, never a traceback (nor user data)
        if os.environ.get("COMMENTMOD_TRACEBACK"):
            raise
        print(
            f"commentmod: unexpected {type(exc).__name__}; set COMMENTMOD_TRACEBACK=1 for details",
            file=sys.stderr,
        )
        return 1
