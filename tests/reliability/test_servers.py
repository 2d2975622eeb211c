"""Finding PostgreSQL's server binaries for the private clusters the fault tests start."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.servers import postgres_bindir


def test_pg_bindir_wins_when_it_holds_the_binaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("initdb", "pg_ctl"):
        (tmp_path / name).write_text("#!/bin/sh\n")
    monkeypatch.setenv("PG_BINDIR", str(tmp_path))
    assert postgres_bindir() == tmp_path


def test_this_machine_has_initdb_and_pg_ctl(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite's PostgreSQL tests need them: a machine without them fails here, by name.
    monkeypatch.delenv("PG_BINDIR", raising=False)
    bindir = postgres_bindir()
    assert (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()
