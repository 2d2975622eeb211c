"""A check that keeps failing: retried with backoff, then the comment is held with
``check_unavailable`` — never published unchecked. A separate worker (its own broker) runs
with a detector plugin whose backend is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service.api import create_app
from service.db.models import CheckJob, CheckResultRow
from service.settings import Settings
from service.usecases.services import Services, build_services
from tests.conftest import auth, comment_body, new_site, wait_until
from tests.support.backends import Backend
from tests.support.processes import WorkerProcess


@pytest.fixture(scope="module")
def faulty(
    backend: Backend, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    faulty_settings = settings.model_copy(
        update={
            "broker_url": backend.spare_broker_url,
            "detector_plugins": {"toxicity": "tests.support.plugins:failing"},
        }
    )
    proc = WorkerProcess(faulty_settings, tmp_path_factory.mktemp("faulty") / "worker.log")
    svc = build_services(faulty_settings)
    try:
        proc.wait_ready()
        yield svc
    finally:
        svc.close()
        proc.stop()


def test_failing_check_ends_held_with_check_unavailable(faulty: Services, tmp_path: Path) -> None:
    client: FlaskClient = create_app(services=faulty).test_client()
    _, key = new_site(faulty)
    r = client.post("/v1/comments", json=comment_body(), headers=auth(key))
    assert r.status_code == 202
    comment_id = r.get_json()["id"]

    def final() -> dict | None:
        body = client.get(f"/v1/comments/{comment_id}", headers=auth(key)).get_json()
        return body if body["status"] != "pending" else None

    decided = wait_until(final, timeout=60)
    assert decided["status"] == "held"
    assert decided["reasons"] == ["check_unavailable"]
    with faulty.storage.sessions() as s:
        rows = {
            row.check: row
            for row in s.scalars(
                select(CheckResultRow).where(CheckResultRow.comment_id == comment_id)
            )
        }
        tox_job = s.scalar(
            select(CheckJob).where(CheckJob.comment_id == comment_id, CheckJob.check == "toxicity")
        )
    assert rows["toxicity"].verdict == "unavailable"
    assert rows["spam"].verdict != "unavailable"  # the healthy check still ran
    assert tox_job is not None and tox_job.completed_at is not None
    # retried with backoff: initial delivery + check_max_retries
    assert tox_job.attempt_count == faulty.settings.check_max_retries + 1
