"""Webhook payloads carry the public fields made HTML-safe, as the public reads do."""

from __future__ import annotations

from datetime import UTC, datetime

from service.db.models import Comment
from service.usecases.transitions import public_comment


def test_payload_is_html_safe_and_private() -> None:
    comment = Comment(
        id="c1",
        site_id=1,
        thread_id="t",
        parent_id=None,
        status="published",
        reasons=[],
        author_name="<b>Ravi</b>",
        author_url='https://example.org/"onmouseover=x',
        author_email_encrypted="secret-token",
        ip_truncated="203.0.113.0/24",
        text="नमस्ते <script>alert(1)</script><b>ok</b> क्\u200dष",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        published_at=None,
    )
    payload = public_comment(comment, "demo")
    assert "<script>" not in payload["text"] and "<b>ok</b>" in payload["text"]
    assert "\u200d" in payload["text"]  # Devanagari joiner kept
    assert "<b>" not in payload["author_name"]
    assert '"' not in payload["author_url"]
    assert "secret-token" not in str(payload) and "203.0.113" not in str(payload)
