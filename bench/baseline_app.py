"""The same-run baseline: a bare Flask app under the same gunicorn settings.

POST /v1/comments parses the JSON body and answers 202 with a small JSON object; GET of the
thread route answers a fixed 20-comment JSON page. Nothing else: no validation, no storage.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, jsonify, request

_NOW = datetime.now(UTC).isoformat().replace("+00:00", "Z")
_PAGE = {
    "items": [
        {
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "thread_id": "bench",
            "parent_id": None,
            "author_name": "Bench",
            "author_url": None,
            "text": "A published benchmark comment, about as long as a real one. " * 2,
            "created_at": _NOW,
            "published_at": _NOW,
        }
        for i in range(20)
    ],
    "next_cursor": None,
}


def create_app() -> Flask:
    app = Flask("baseline")

    @app.post("/v1/comments")
    def submit():  # type: ignore[no-untyped-def]
        body = request.get_json()
        return jsonify({"id": "x", "status": "pending", "thread_id": body.get("thread_id")}), 202

    @app.get("/v1/sites/<site>/threads/<path:thread_id>/comments")
    def thread(site: str, thread_id: str):  # type: ignore[no-untyped-def]
        return jsonify(_PAGE)

    return app
