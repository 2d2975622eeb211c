"""The plugin against a real WordPress: readers post through wp-comments-post.php, commentmod
decides, signed webhooks set the WordPress status, a WordPress moderator's decision becomes a
commentmod label, and an outage of commentmod loses nothing.

The tests share one stack and run in file order (the outage test stops and restarts
commentmod). Every wait polls for a positive signal."""

from __future__ import annotations

import csv
import hashlib
import hmac
import html
import json
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from tests.conftest import wait_until
from tests.wordpress.harness import PLUGIN_SOURCE, SITE, FormPage, Reader, Stack

BENIGN_DEVANAGARI = "पुतिन और किम की यह संधि एशिया की सुरक्षा के लिए चिंता का विषय है।"
# Held, not rejected, by the current toxicity detector (suspect, "insult"): see
# tests/unit/test_checks_toxicity.py for the lexicon this comes from.
HINGLISH_ABUSE = "ye log kutte ki tarah bhonkte hai"
SPAM = (
    "Buy cheap viagra and cialis online, no prescription! Best casino bonus, "
    "click www.pills-cheap.biz"
)
BENIGN_HINGLISH = "Bahut badhiya article hai, poora context mil gaya. Dhanyavaad!"
TRUSTED_AUTHOR_TEXT = "दूसरी बात: रिपोर्ट में आंकड़े साफ़ दिए गए हैं, यह अच्छा लगा।"
OUTAGE_TEXT = "मौसम विभाग की चेतावनी समय पर आई, धन्यवाद इस रिपोर्ट के लिए।"
PHP_ERROR = re.compile(r"(Fatal error|Parse error|Warning|Notice|Deprecated|Uncaught)\b.*?:", re.I)

READERS = {
    "devanagari": ("127.0.0.11", "Ramesh", "ramesh.k@example.com"),
    "hinglish_abuse": ("127.0.0.12", "Troll", "troll.99@example.com"),
    "spam": ("127.0.0.13", "Pharma", "deals@pills.example"),
    "outage": ("127.0.0.14", "Sunita", "sunita.m@example.com"),
    "marked_spam": ("127.0.0.15", "Vikram", "vikram.s@example.com"),
    "bot": ("127.0.0.16", "Best Deals", "bot@deals.example"),
}


def wp_status(stack: Stack, comment_id: int) -> dict[str, Any]:
    return stack.wp.comment(comment_id)


def wait_for_wp_status(
    stack: Stack, comment_id: int, status: str, timeout: float = 90
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        state = wp_status(stack, comment_id)
        return (
            state
            if state["wp_status"] == status
            and state["meta"].get("status") not in ("queued", "pending")
            else None
        )

    try:
        return wait_until(reached, timeout=timeout, interval=0.5)  # type: ignore[no-any-return]
    except TimeoutError:
        raise AssertionError(
            f"comment {comment_id} never reached {status}: {wp_status(stack, comment_id)}\n"
            f"{stack.commentmod.log()[-3000:]}"
        ) from None


@pytest.fixture(scope="module")
def readers(stack: Stack) -> dict[str, Reader]:
    return {key: Reader(stack.wp, ip, name, email) for key, (ip, name, email) in READERS.items()}


@pytest.fixture(scope="module")
def forms(stack: Stack, readers: dict[str, Reader]) -> dict[str, FormPage]:
    """Every reader opens the article; a person then takes a few seconds to write (a submit
    within 3 s of rendering is a spam signal, `too_fast`, which the form timestamp carries)."""
    opened = {k: r.open_article(stack.post_url) for k, r in readers.items() if k != "bot"}
    ready_at = max(form.rendered_at for form in opened.values()) + 4
    wait_until(lambda: time.time() >= ready_at, timeout=30)
    return opened


@pytest.fixture(scope="module")
def posted(stack: Stack, readers: dict[str, Reader], forms: dict[str, FormPage]) -> dict[str, int]:
    ids = {}
    for key, text in (
        ("devanagari", BENIGN_DEVANAGARI),
        ("hinglish_abuse", HINGLISH_ABUSE),
        ("spam", SPAM),
        ("marked_spam", BENIGN_HINGLISH),
    ):
        answer, comment_id = readers[key].post(forms[key], text)
        assert not PHP_ERROR.search(answer.text), answer.text[:500]
        ids[key] = comment_id
    return ids


def test_every_plugin_file_passes_php_lint() -> None:
    files = sorted(PLUGIN_SOURCE.rglob("*.php"))
    assert len(files) >= 10
    for path in files:
        done = subprocess.run(["php", "-l", str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_comments_are_held_until_commentmod_decides(stack: Stack, posted: dict[str, int]) -> None:
    """Right after posting, WordPress never shows a comment commentmod has not decided: the
    plugin had it inserted unapproved, and sent it with an Idempotency-Key."""
    for comment_id in posted.values():
        state = wp_status(stack, comment_id)
        assert state["meta"].get("id"), state  # commentmod answered 202 with its id
        if state["meta"]["status"] == "pending":
            assert state["wp_status"] == "unapproved", state


def test_benign_devanagari_comment_ends_approved(stack: Stack, posted: dict[str, int]) -> None:
    state = wait_for_wp_status(stack, posted["devanagari"], "approved")
    assert state["meta"]["status"] == "published"
    assert state["content"] == BENIGN_DEVANAGARI
    page = requests.get(stack.post_url, timeout=20).text
    assert BENIGN_DEVANAGARI in page


def test_hinglish_abuse_ends_pending_with_reasons(stack: Stack, posted: dict[str, int]) -> None:
    state = wait_for_wp_status(stack, posted["hinglish_abuse"], "unapproved")
    assert state["meta"]["status"] == "held"
    assert "toxicity_suspected" in state["meta"]["reasons"], state


def test_spam_ends_in_spam(stack: Stack, posted: dict[str, int]) -> None:
    state = wait_for_wp_status(stack, posted["spam"], "spam")
    assert state["meta"]["status"] == "spam"
    assert (
        "spam_blatant" in state["meta"]["reasons"] or "spam_suspected" in state["meta"]["reasons"]
    )


def test_moderators_are_emailed_only_for_what_commentmod_holds(
    stack: Stack, posted: dict[str, int]
) -> None:
    """WordPress's "Please moderate" email is not sent for every comment waiting for
    commentmod, only once commentmod holds one."""
    wait_for_wp_status(stack, posted["hinglish_abuse"], "unapproved")
    wait_for_wp_status(stack, posted["devanagari"], "approved")
    notices = [m["message"] for m in stack.wp.mails() if "moderate" in m["subject"].lower()]
    assert [HINGLISH_ABUSE in text for text in notices] == [True], notices


def test_bot_filling_the_honeypot_ends_in_spam(stack: Stack, readers: dict[str, Reader]) -> None:
    """A bot fills every field, the hidden one too, and posts at once."""
    bot = readers["bot"]
    _, comment_id = bot.post(bot.open_article(stack.post_url), "Nice post!", honeypot="bot")
    state = wait_for_wp_status(stack, comment_id, "spam")
    assert "honeypot" in state["meta"]["reasons"], state


def test_reasons_are_shown_in_the_comment_list(stack: Stack, posted: dict[str, int]) -> None:
    wait_for_wp_status(stack, posted["hinglish_abuse"], "unapproved")
    admin = stack.wp.admin_session()
    page = admin.get(
        f"{stack.wp.url}/wp-admin/edit-comments.php?comment_status=moderated", timeout=30
    )
    assert page.status_code == 200
    row = re.search(
        rf"<tr id=[\"']comment-{posted['hinglish_abuse']}[\"'].*?</tr>", page.text, re.S
    )
    assert row, "the held comment is in WordPress's moderation list"
    assert "<code>toxicity_suspected</code>" in row.group(0)
    assert "commentmod-status" in row.group(0)


def _event(commentmod_id: str, status: str, reasons: list[str]) -> bytes:
    document = {
        "id": str(uuid.uuid4()),
        "event": f"comment.{status}",
        "comment": {
            "id": commentmod_id,
            "site": SITE,
            "thread_id": "1",
            "parent_id": None,
            "status": status,
            "reasons": reasons,
            "author_name": "x",
            "author_url": None,
            "text": "x",
            "created_at": "2026-01-01T00:00:00Z",
            "published_at": None,
        },
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return json.dumps(document).encode()


def _deliver(stack: Stack, body: bytes, secret: str, timestamp: int) -> requests.Response:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return requests.post(
        stack.webhook_url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Commentmod-Signature": f"t={timestamp},v1={mac}",
        },
        timeout=20,
    )


def test_webhook_with_a_bad_signature_is_refused(stack: Stack, posted: dict[str, int]) -> None:
    held = wait_for_wp_status(stack, posted["hinglish_abuse"], "unapproved")
    forged = _event(held["meta"]["id"], "published", [])
    now = int(time.time())

    assert _deliver(stack, forged, "whsec_not-the-secret", now).status_code == 401
    assert _deliver(stack, forged, stack.webhook_secret, now - 3600).status_code == 401  # too old
    no_signature = requests.post(
        stack.webhook_url, data=forged, headers={"Content-Type": "application/json"}, timeout=20
    )
    assert no_signature.status_code == 401
    assert wp_status(stack, posted["hinglish_abuse"])["wp_status"] == "unapproved"

    # A correctly signed event is applied once; the same delivery again is a duplicate.
    genuine = _event(held["meta"]["id"], "held", held["meta"]["reasons"])
    first = _deliver(stack, genuine, stack.webhook_secret, now)
    assert first.status_code == 200 and first.json()["result"] == "applied", first.text
    again = _deliver(stack, genuine, stack.webhook_secret, now)
    assert again.status_code == 200 and again.json()["result"] == "duplicate", again.text


def test_commentmod_down_mid_way_loses_nothing(
    stack: Stack, readers: dict[str, Reader], forms: dict[str, FormPage]
) -> None:
    stack.commentmod.stop()
    try:
        answer, comment_id = readers["outage"].post(forms["outage"], OUTAGE_TEXT)
        # The reader gets WordPress's normal answer (a redirect to the article), no PHP error.
        assert not PHP_ERROR.search(answer.text)
        queued = wp_status(stack, comment_id)
        assert queued["wp_status"] == "unapproved"  # "hold" (the default) while unreachable
        assert queued["meta"]["status"] == "queued", queued
        assert queued["meta"]["error"] == "unreachable", queued
        assert int(queued["meta"]["attempts"]) == 1

        # WP-Cron retries while commentmod is still down: the comment stays queued and the
        # next attempt is pushed back further (exponential backoff: 1 s, then 2 s here).
        def second_attempt() -> dict[str, Any] | None:
            stack.wp.run_cron()
            state = wp_status(stack, comment_id)
            return state if int(state["meta"].get("attempts", 0)) >= 2 else None

        retried = wait_until(second_attempt, timeout=30, interval=0.5)
        assert retried["meta"]["status"] == "queued" and retried["wp_status"] == "unapproved"
        assert int(retried["meta"]["retry_at"]) - int(queued["meta"]["retry_at"]) >= 2
        page = requests.get(stack.post_url, timeout=20)
        assert not PHP_ERROR.search(page.text)

        # "Let WordPress decide": an author WordPress already trusts (a previously approved
        # comment) is approved by WordPress meanwhile; the comment is still queued for commentmod.
        stack.wp.tool("settings", {"unreachable": "wordpress"})
        _, trusted_id = readers["devanagari"].post(forms["devanagari"], TRUSTED_AUTHOR_TEXT)
        trusted = wp_status(stack, trusted_id)
        assert trusted["wp_status"] == "approved" and trusted["meta"]["status"] == "queued"
    finally:
        stack.wp.tool("settings", {"unreachable": "hold"})
        stack.commentmod.start()

    def decided(cid: int) -> bool:
        stack.wp.run_cron()
        state = wp_status(stack, cid)
        return state["wp_status"] == "approved" and state["meta"]["status"] == "published"

    for cid in (comment_id, trusted_id):
        wait_until(lambda cid=cid: decided(cid), timeout=90, interval=1.0)
        state = wp_status(stack, cid)
        assert "payload" not in state["meta"] and "retry_at" not in state["meta"], state


def test_spam_decision_in_wordpress_becomes_a_commentmod_label(
    stack: Stack, posted: dict[str, int], tmp_path: Path
) -> None:
    comment_id = posted["marked_spam"]
    approved = wait_for_wp_status(stack, comment_id, "approved")
    admin = stack.wp.admin_session()
    listing = admin.get(
        f"{stack.wp.url}/wp-admin/edit-comments.php?comment_status=approved", timeout=30
    ).text
    links = [
        html.unescape(href)
        for href in re.findall(r'href="([^"]*action=spamcomment[^"]*)"', listing)
    ]
    link = next(
        href for href in links if parse_qs(urlsplit(href).query).get("c") == [str(comment_id)]
    )
    done = admin.get(urljoin(f"{stack.wp.url}/wp-admin/", link), allow_redirects=False, timeout=30)
    assert done.status_code == 302, done.text[:500]

    def in_commentmod() -> dict[str, Any] | None:
        r = requests.get(
            f"{stack.commentmod.url}/v1/moderation/comments/{approved['meta']['id']}",
            headers={"Authorization": f"Bearer {stack.moderator_token}"},
            timeout=10,
        )
        r.raise_for_status()
        body = r.json()
        return body if body["status"] == "spam" else None

    body = wait_until(in_commentmod, timeout=60, interval=0.5)
    assert "spam_by_moderator" in body["reasons"] and "wordpress_moderator" in body["reasons"]
    out = tmp_path / "labels.csv"
    stack.commentmod.cli("labels", "export", "--site", SITE, "--check", "spam", str(out))
    with out.open(newline="", encoding="utf-8") as handle:
        labels = {row["text"]: row["label"] for row in csv.DictReader(handle)}
    assert labels.get(BENIGN_HINGLISH) == "spam", labels
    # commentmod's own comment.spam webhook then arrives; WordPress keeps the moderator's spam.
    assert wp_status(stack, comment_id)["wp_status"] == "spam"


def test_test_connection_button(stack: Stack) -> None:
    admin = stack.wp.admin_session()
    settings = admin.get(f"{stack.wp.url}/wp-admin/options-general.php?page=commentmod", timeout=30)
    assert settings.status_code == 200
    assert stack.api_key not in settings.text and stack.webhook_secret not in settings.text
    form = re.search(
        r'name="action" value="commentmod_test_connection">\s*'
        r'<input type="hidden" id="_wpnonce" name="_wpnonce" value="([0-9a-f]+)"',
        settings.text,
    )
    assert form, "the test-connection form carries a nonce"
    result = admin.post(
        f"{stack.wp.url}/wp-admin/admin-post.php",
        data={"action": "commentmod_test_connection", "_wpnonce": form.group(1)},
        timeout=60,
    )
    assert result.status_code == 200
    checks = re.findall(
        r'<li class="commentmod-check-(ok|failed)"><strong>([^<]+)</strong>', result.text
    )
    expected = ["readyz", "site API key", "moderator token", "webhook"]
    assert checks == [("ok", name) for name in expected], result.text[-3000:]
    # Without the nonce the action is refused.
    refused = admin.post(
        f"{stack.wp.url}/wp-admin/admin-post.php",
        data={"action": "commentmod_test_connection"},
        timeout=30,
    )
    assert refused.status_code in (403, 400) or "link you followed has expired" in refused.text


def test_erasure_request_is_forwarded_to_commentmod(stack: Stack, posted: dict[str, int]) -> None:
    state = wait_for_wp_status(stack, posted["devanagari"], "approved")
    result = stack.wp.tool("erase", {"email": READERS["devanagari"][2]})
    assert result["items_removed"] is True and result["done"] is True, result
    read = requests.get(
        f"{stack.commentmod.url}/v1/comments/{state['meta']['id']}",
        headers={"Authorization": f"Bearer {stack.api_key}"},
        timeout=10,
    )
    assert read.json()["author_name"] == "[erased]"
    again = stack.wp.tool("erase", {"email": READERS["devanagari"][2]})
    assert again["items_removed"] is False  # nothing left to erase


def test_no_php_error_from_the_plugin(stack: Stack) -> None:
    log = stack.wp.debug_log.read_text(errors="replace") if stack.wp.debug_log.exists() else ""
    ours = [line for line in log.splitlines() if "plugins/commentmod/" in line]
    assert ours == [], "\n".join(ours[:20])
