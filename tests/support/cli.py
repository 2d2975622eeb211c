"""The ``commentmod`` command line run in-process, as a test's ``cli`` fixture returns it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from service.cli import main
from service.settings import Settings
from tests.support.processes import settings_env


class CliRun(NamedTuple):
    """One command: its exit code, its JSON output (None unless it exited 0) and everything
    it printed (stdout then stderr: the error message of a refused command)."""

    code: int
    out: Any
    text: str


Cli = Callable[..., CliRun]


def cli_runner(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """``cli("sites", "list")`` runs ``commentmod sites list`` with exactly ``settings``."""
    for name, value in settings_env(settings).items():
        if name.startswith("COMMENTMOD_"):
            monkeypatch.setenv(name, value)

    def run(*argv: str) -> CliRun:
        code = main(list(argv))
        captured = capsys.readouterr()
        out = json.loads(captured.out) if code == 0 else None
        return CliRun(code, out, captured.out + captured.err)

    return run
