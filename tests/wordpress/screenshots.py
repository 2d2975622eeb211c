"""Screenshots for docs/wordpress.md, taken by headless Chromium from the same stack as the
end-to-end test: `make wordpress-screenshots` (writes docs/images/wordpress-*.png).

Chromium cannot log in by itself, so this script (never the plugin) drops a must-use plugin
into the throw-away WordPress that signs the administrator in for requests carrying a random
one-time token.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import wait_until
from tests.support.chromium import CHROMIUM_FLAGS, find_chromium
from tests.wordpress.harness import Reader, Stack, open_stack

SCREENSHOT_FLAGS = (*CHROMIUM_FLAGS, "--hide-scrollbars")
AUTOLOGIN = """<?php
// Screenshots only: sign in user 1 when the request carries the one-time token.
add_action( 'plugins_loaded', function () {{
	if ( isset( $_GET['shot'] ) && hash_equals( '{token}', (string) $_GET['shot'] ) ) {{
		$expire = time() + HOUR_IN_SECONDS;
		$_COOKIE[ AUTH_COOKIE ]      = wp_generate_auth_cookie( 1, $expire, 'auth' );
		$_COOKIE[ LOGGED_IN_COOKIE ] = wp_generate_auth_cookie( 1, $expire, 'logged_in' );
	}}
}} );
"""
COMMENTS = (
    ("127.0.0.21", "Ramesh", "ramesh.k@example.com", "यह विश्लेषण बहुत संतुलित है, धन्यवाद।"),
    ("127.0.0.22", "Troll", "troll.99@example.com", "ye log kutte ki tarah bhonkte hai"),
    (
        "127.0.0.23",
        "Pharma",
        "deals@pills.example",
        "Buy cheap viagra and cialis online, no prescription! Best casino bonus, "
        "click www.pills-cheap.biz",
    ),
)


def chromium() -> str:
    found = find_chromium()
    if not found:
        raise SystemExit("headless Chromium is needed: apt-get install -y chromium")
    return found


def shoot(url: str, out: Path, size: str = "1280,900") -> None:
    subprocess.run(
        [chromium(), *SCREENSHOT_FLAGS, f"--window-size={size}", f"--screenshot={out}", url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    print(f"wrote {out}")


def post_comments(stack: Stack) -> None:
    readers = [Reader(stack.wp, ip, name, email) for ip, name, email, _ in COMMENTS]
    forms = [reader.open_article(stack.post_url) for reader in readers]
    ready_at = max(form.rendered_at for form in forms) + 4  # people take time to write
    wait_until(lambda: time.time() >= ready_at, timeout=30)
    ids = [r.post(f, text)[1] for r, f, (*_, text) in zip(readers, forms, COMMENTS, strict=True)]
    for comment_id in ids:
        wait_until(
            lambda cid=comment_id: (
                stack.wp.comment(cid)["meta"].get("status") not in (None, "queued", "pending")
            ),
            timeout=90,
            interval=0.5,
        )


def run_connection_test(stack: Stack) -> None:
    """Press "Test connection" as the administrator so its results show on the page."""
    admin = stack.wp.admin_session()
    page = admin.get(f"{stack.wp.url}/wp-admin/options-general.php?page=commentmod", timeout=30)
    nonce = re.search(
        r'value="commentmod_test_connection">\s*<input type="hidden" id="_wpnonce" '
        r'name="_wpnonce" value="([0-9a-f]+)"',
        page.text,
    )
    if not nonce:
        raise SystemExit("the settings page has no test-connection form")
    admin.post(
        f"{stack.wp.url}/wp-admin/admin-post.php",
        data={"action": "commentmod_test_connection", "_wpnonce": nonce.group(1)},
        allow_redirects=False,
        timeout=60,
    )


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, open_stack(Path(tmp)) as stack:
        token = secrets.token_hex(16)
        mu = stack.wp.root / "wp-content" / "mu-plugins"
        mu.mkdir(exist_ok=True)
        (mu / "screenshot-login.php").write_text(AUTOLOGIN.format(token=token))
        post_comments(stack)
        run_connection_test(stack)
        admin = f"{stack.wp.url}/wp-admin"
        shoot(
            f"{admin}/options-general.php?page=commentmod&shot={token}",
            out_dir / "wordpress-settings.png",
            "1280,1100",
        )
        shoot(
            f"{admin}/edit-comments.php?shot={token}",
            out_dir / "wordpress-comments.png",
            "1400,900",
        )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
