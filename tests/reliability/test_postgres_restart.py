"""PostgreSQL stopped (immediate: like a crash) and restarted while readers post.

A private PostgreSQL cluster (initdb in a temp dir, free port) so the system one is never
touched. Four threads post over real HTTP the whole time. During the outage every answer is
503 ``storage_unavailable`` with ``Retry-After``; the first request after the restart
succeeds (``pool_pre_ping`` drops the dead pooled connections); every 202 is stored with all
of its outbox rows, and no comment is stored without them (one transaction).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

from service.db.migrate import upgrade
from service.db.models import CheckJob, Comment
from service.settings import Settings
from service.usecases.services import build_services
from service.usecases.sites import create_site
from tests.reliability.conftest import body, fault_settings, live_server, record
from tests.reliability.servers import PostgresServer
from tests.support.backends import Backend

THREADS = 4


def test_postgres_restart_503_then_recovers_without_half_writes(
    backend: Backend, settings: Settings, tmp_path: Path
) -> None:
    pg = PostgresServer().start()
    upgrade(pg.url)
    s = fault_settings(
        settings,
        tmp_path,
        database_url=pg.url,
        broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}",  # nobody consumes: not the point
    )
    svc = build_services(s)
    _, key = create_site(svc, "rel-pg")
    results: list[tuple[float, int, str, str | None, str | None]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def poster(url: str) -> None:
        session = requests.Session()
        while not stop.is_set():
            payload = body()
            try:
                r = session.post(
                    f"{url}/v1/comments",
                    json=payload,
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=15,
                )
            except requests.RequestException:
                continue
            code = r.json().get("error", {}).get("code") if r.status_code != 202 else None
            cid = r.json()["id"] if r.status_code == 202 else None
            with lock:
                results.append((time.monotonic(), r.status_code, payload["text"], cid, code))
            if r.status_code == 503:
                assert r.headers["Retry-After"].isdigit()
            time.sleep(0.02)

    try:
        with live_server(svc) as url:
            threads = [threading.Thread(target=poster, args=(url,)) for _ in range(THREADS)]
            for t in threads:
                t.start()
            time.sleep(1.5)
            stopping_at = time.monotonic()
            pg.stop(mode="immediate")  # returns once the server is gone
            down_at = time.monotonic()
            time.sleep(2.0)
            starting_at = time.monotonic()
            pg.start()
            up_at = time.monotonic()
            # The very next request succeeds: no retry, no warm-up.
            first = requests.post(
                f"{url}/v1/comments",
                json=body(),
                headers={"Authorization": f"Bearer {key}"},
                timeout=15,
            )
            time.sleep(1.5)
            stop.set()
            for t in threads:
                t.join(timeout=30)
        with svc.storage.sessions() as db:
            stored = {
                text: cid
                for cid, text in db.execute(
                    select(Comment.id, Comment.text).where(Comment.site_id.is_not(None))
                )
            }
            jobs = dict(
                db.execute(
                    select(CheckJob.comment_id, func.count()).group_by(CheckJob.comment_id)
                ).all()
            )
    finally:
        svc.close()
        pg.remove()
    accepted = [r for r in results if r[1] == 202]
    # Answers that ended well inside the outage (requests in flight at the stop may differ).
    during = [r for r in results if down_at + 0.3 <= r[0] <= starting_at]
    other_5xx = [r for r in results if r[1] >= 500 and r[4] != "storage_unavailable"]
    not_stored = [r for r in accepted if stored.get(r[2]) != r[3]]
    half_written = [cid for cid in stored.values() if jobs.get(cid, 0) != len(s.checks)]
    refused_but_stored = [r for r in results if r[1] != 202 and r[2] in stored]
    record(
        "PostgreSQL stopped (immediate) and restarted",
        backend,
        requests=len(results) + 1,
        accepted=len(accepted),
        answered_503_storage_unavailable=sum(1 for r in results if r[4] == "storage_unavailable"),
        other_5xx=len(other_5xx),
        outage_seconds=round(up_at - stopping_at, 1),
        first_request_after_restart=first.status_code,
        accepted_but_lost=len(not_stored),
        half_written=len(half_written),
        refused_but_stored=len(refused_but_stored),
    )
    assert first.status_code == 202, first.text
    assert during and all(r[1] == 503 and r[4] == "storage_unavailable" for r in during), [
        r[1] for r in during
    ]
    assert not other_5xx
    assert not not_stored and not half_written
    # A COMMIT cut by the crash may have landed before its answer was lost: the client then
    # saw 503 for a stored comment (and retries with its Idempotency-Key). Rare; reported.
    assert len(refused_but_stored) <= THREADS
