"""The ``commentmod`` command: a composition root like ``create_app`` (it may reach both
halves: ``worker``, ``scheduler``, ``evaluate`` and ``train`` load the workers' code)."""

# One module per command group; each adds its commands to the parser and calls use cases.

from __future__ import annotations

import argparse
from collections.abc import Sequence

from service.cli import detectors, imports, privacy, runtime, serve, sites
from service.cli.common import fail
from service.db.errors import StorageUnavailable
from service.settings import load_settings

# In the order ``commentmod --help`` lists them.
COMMAND_GROUPS = (
    serve.add_commands,
    runtime.add_schema_commands,
    sites.add_commands,
    privacy.add_commands,
    runtime.add_commands,
    detectors.add_commands,
    imports.add_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commentmod", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add_commands in COMMAND_GROUPS:
        add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except Exception as exc:  # noqa: BLE001 - a readable message instead of a traceback
        return fail(f"invalid settings: {exc}")
    try:
        return int(args.func(settings, args) or 0)
    except StorageUnavailable as exc:
        # Typically: no database yet (run `commentmod db upgrade`, or `make run` first), or
        # the server is unreachable. The driver's message names no submitted value.
        reason = getattr(exc, "orig", None) or type(exc).__name__
        return fail(f"database unavailable: {reason}; is it migrated (commentmod db upgrade)?", 1)
