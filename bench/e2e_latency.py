"""Submit → final status latency against a running commentmod (e.g. `make run`).

    .venv/bin/python bench/e2e_latency.py --url http://127.0.0.1:8000 --key $KEY --count 50

Submits `count` unique, clean comments (one every `interval` seconds), polls each until it
leaves `pending`, and prints the 202 → published latency (p50/p95/max, ms: the comment's own
`published_at - created_at`, both stamped by the server) plus the server's decision-latency
quantiles from /metrics (last 5 minutes), as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
import uuid
from datetime import datetime

import requests

TEXTS = [
    "पुतिन और किम की यह संधि एशिया की सुरक्षा के लिए चिंता का विषय है।",
    "Bahut badhiya article hai, poora context mil gaya. Dhanyavaad!",
    "A clear explainer; the timeline of the negotiations helped a lot.",
]


def _parse(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()
    session = requests.Session()
    auth = {"Authorization": f"Bearer {args.key}"}
    pending: set[str] = set()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    for i in range(args.count):
        body = {
            "thread_id": f"bench-{uuid.uuid4().hex[:6]}",
            "author_name": "Bench",
            "author_email": f"bench.{uuid.uuid4().hex}@example.com",
            "text": f"{TEXTS[i % len(TEXTS)]} ({i})",
        }
        r = session.post(f"{args.url}/v1/comments", json=body, headers=auth, timeout=10)
        r.raise_for_status()
        pending.add(r.json()["id"])
        time.sleep(args.interval)
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        for comment_id in list(pending):
            got = session.get(f"{args.url}/v1/comments/{comment_id}", headers=auth, timeout=10)
            comment = got.json()
            if comment["status"] != "pending":
                statuses[comment["status"]] = statuses.get(comment["status"], 0) + 1
                pending.discard(comment_id)
                if comment["published_at"]:
                    latencies.append(
                        (_parse(comment["published_at"]) - _parse(comment["created_at"])) * 1000
                    )
        time.sleep(0.05)
    metrics = session.get(f"{args.url}/metrics", timeout=10).text
    server = {
        q: float(v) * 1000
        for q, v in re.findall(
            r'commentmod_decision_latency_seconds\{quantile="([0-9.]+)"\} ([0-9.e+-]+)', metrics
        )
    }
    latencies.sort()
    print(
        json.dumps(
            {
                "count": args.count,
                "undecided": len(pending),
                "statuses": statuses,
                "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
                "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1)
                if latencies
                else None,
                "max_ms": round(latencies[-1], 1) if latencies else None,
                "server_decision_latency_ms": {q: round(v, 1) for q, v in server.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
