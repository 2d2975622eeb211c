"""Integration tests need the real worker process running for the whole module."""

from __future__ import annotations

import pytest

from tests.support.processes import WorkerProcess


@pytest.fixture(autouse=True)
def _running_worker(worker: WorkerProcess) -> WorkerProcess:
    return worker
