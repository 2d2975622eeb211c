"""Where the time goes: pyinstrument profiles of one submission and of one comment's checks.

    .venv/bin/python bench/profile.py [--database-url postgresql+psycopg://…] [--n 300]

Runs in-process against a real database (a fresh PostgreSQL database by default) and prints,
for each path, the per-comment wall time, the SQL statements it issues, and the pyinstrument
call tree (text). The broker is never contacted: the producer's sends are measured separately
by `bench/run.py`, which drives the real deployment.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from pyinstrument import Profiler
from sqlalchemy import create_engine, event, text

from service.api import create_app
from service.db.migrate import upgrade
from service.domain.privacy import generate_email_key, generate_hash_key
from service.settings import load_settings
from service.usecases.checks import start_checks
from service.usecases.results import record_check, record_checks
from service.usecases.services import build_services
from service.usecases.sites import create_site
from workers.tasks import Detectors, run_detector

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    name = f"commentmod_profile_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        settings = load_settings(
            database_url=url,
            broker_url="redis://127.0.0.1:1/0",  # never reached: sends are not profiled here
            email_keys=generate_email_key(),
            hash_key=generate_hash_key(),
            log_level="WARNING",
            rate_limit_site_requests=0,
        )
        svc = build_services(settings)
        svc.producer.enqueue_checks = lambda *a: None  # type: ignore[method-assign]
        _, key = create_site(svc, "profile")
        client = create_app(services=svc).test_client()
        headers = {"Authorization": f"Bearer {key}"}
        statements: Counter[str] = Counter()
        event.listen(
            svc.storage.engine,
            "before_cursor_execute",
            lambda *a: statements.update([a[2].split()[0]]),
        )

        def submit(i: int) -> str:
            r = client.post(
                "/v1/comments",
                json={
                    "thread_id": "profile",
                    "author_name": "Profiler",
                    "author_email": f"p{uuid.uuid4().hex}@example.com",
                    "text": f"An ordinary remark about the article, number {uuid.uuid4().hex}.",
                },
                headers=headers,
            )
            assert r.status_code == 202, r.data
            return str(r.get_json()["id"])

        detectors = Detectors(settings)
        detectors.preload()

        def check(comment_id: str) -> None:
            for name_ in ("spam", "toxicity"):
                works = start_checks(svc, [comment_id], name_)
                assert works
                work = works[0]
                record_check(svc, comment_id, run_detector(detectors(name_), work))

        def check_batch(comment_ids: list[str]) -> None:
            # As the worker runs a producer message: both checks, one count, one record.
            works = start_checks(svc, comment_ids, ("spam", "toxicity"))
            assert len(works) == 2 * len(comment_ids)
            records = [(w.comment_id, run_detector(detectors(w.check), w)) for w in works]
            record_checks(svc, records)

        def batches(ids: list[str]) -> list[list[str]]:
            return [ids[i : i + args.batch] for i in range(0, len(ids), args.batch)]

        paths: list[tuple[str, Callable[[Any], None], list[Any] | None, bool]] = [
            ("submit (HTTP handler, in-process)", submit, list(range(args.n)), False),
            ("checks of one comment (both detectors, 4 transactions)", check, None, False),
            (
                f"checks of a batch of {args.batch} comments (both detectors, 2 transactions)",
                check_batch,
                None,
                True,
            ),
        ]
        for label, fn, inputs, is_batch in paths:
            ids = inputs if inputs is not None else [submit(i) for i in range(args.n)]
            for x in ids[:20]:
                fn([x] if is_batch else x)  # warm up
            ids = ids[20:]
            calls = batches(ids) if is_batch else ids
            statements.clear()
            profiler = Profiler(interval=0.0005)
            started = time.perf_counter()
            with profiler:
                for x in calls:
                    fn(x)
            per = (time.perf_counter() - started) / len(ids) * 1000
            print(f"\n=== {label}: {per:.2f} ms per comment (profiled) ===")
            print(
                "SQL statements per comment:",
                {k: round(v / len(ids), 1) for k, v in statements.items()},
            )
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        svc.close()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
