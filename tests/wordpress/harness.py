"""Real processes for the WordPress end-to-end test: a WordPress copied from Debian's
`wordpress` package onto a fresh MariaDB database and served by `php -S`, and `commentmod
serve` on a temporary SQLite database with the embedded broker.

Nothing here is mocked: comments go through WordPress's own wp-comments-post.php, the plugin
calls commentmod over HTTP, and commentmod's worker POSTs signed webhooks back to WordPress.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from service.domain.privacy import generate_email_key, generate_hash_key

REPO = Path(__file__).resolve().parents[2]
PLUGIN_SOURCE = REPO / "integrations" / "wordpress" / "commentmod"
TOOL = Path(__file__).with_name("wp_tool.php")
WORDPRESS_SOURCE = Path("/usr/share/wordpress")  # Debian's `wordpress` package
MARIADB = ("127.0.0.1", 3306)
ADMIN_PASSWORD = secrets.token_urlsafe(12)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_tools() -> None:
    """Fail (never skip) with the missing piece named."""
    missing = [tool for tool in ("php", "mariadb") if shutil.which(tool) is None]
    if not (WORDPRESS_SOURCE / "wp-settings.php").is_file():
        missing.append("Debian package `wordpress` (/usr/share/wordpress)")
    probe = (
        subprocess.run(["php", "-r", "exit(extension_loaded('mysqli') ? 0 : 1);"], check=False)
        if shutil.which("php")
        else None
    )
    if probe is not None and probe.returncode != 0:
        missing.append("php-mysql (mysqli)")
    if missing:
        raise RuntimeError(
            "the WordPress test needs: "
            + ", ".join(missing)
            + " (apt-get install -y wordpress php-cli php-mysql mariadb-server)"
        )
    with socket.socket() as s:
        s.settimeout(3)
        if s.connect_ex(MARIADB) != 0:
            raise RuntimeError("MariaDB is not reachable at 127.0.0.1:3306")


def mariadb(sql: str) -> None:
    subprocess.run(
        ["mariadb", "-h", MARIADB[0], "-P", str(MARIADB[1]), "-u", "root", "-e", sql],
        check=True,
        capture_output=True,
    )


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=10).status_code < 500:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout}s")


def stop_group(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


WP_CONFIG = """<?php
define( 'DB_NAME', '{db}' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '{db_host}' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
{salts}
$table_prefix = 'wp_';
define( 'WP_HOME', '{url}' );
define( 'WP_SITEURL', '{url}' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', '{debug_log}' );
define( 'WP_DEBUG_DISPLAY', false );
define( 'DISABLE_WP_CRON', true );           // the test requests wp-cron.php, as a system cron
define( 'WP_HTTP_BLOCK_EXTERNAL', true );    // no update checks; loopback stays allowed
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'COMMENTMOD_RETRY_BASE_SECONDS', 1 ); // retries within seconds instead of a minute
if ( ! defined( 'ABSPATH' ) ) {{
	define( 'ABSPATH', __DIR__ . '/' );
}}
require_once ABSPATH . 'wp-settings.php';
"""

# The site's outgoing mail, written to a file instead of sendmail (a mail catcher).
MAIL_CATCHER = """<?php
add_filter( 'pre_wp_mail', function ( $short_circuit, $atts ) {{
	$mail = array( 'subject' => (string) $atts['subject'], 'message' => (string) $atts['message'] );
	$line = wp_json_encode( $mail );
	file_put_contents( '{path}', $line . "\\n", FILE_APPEND | LOCK_EX );
	return true;
}}, 10, 2 );
"""

SALT_NAMES = (
    "AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY "
    "AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT"
).split()


@dataclass
class WordPress:
    """A WordPress site under ``root`` (a copy of Debian's files), served by ``php -S``."""

    root: Path
    port: int = field(default_factory=free_port)
    db: str = field(default_factory=lambda: f"wp_e2e_{secrets.token_hex(6)}")
    server: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def debug_log(self) -> Path:
        return self.root.parent / "wp-debug.log"

    @property
    def mail_log(self) -> Path:
        return self.root.parent / "mail.jsonl"

    def mails(self) -> list[dict[str, str]]:
        if not self.mail_log.exists():
            return []
        return [json.loads(line) for line in self.mail_log.read_text().splitlines()]

    @property
    def server_log(self) -> Path:
        return self.root.parent / "php-server.log"

    def install(self) -> None:
        shutil.copytree(WORDPRESS_SOURCE, self.root, symlinks=True)
        (self.root / "wp-config.php").unlink()
        shutil.copytree(PLUGIN_SOURCE, self.root / "wp-content" / "plugins" / "commentmod")
        salts = "\n".join(f"define( '{name}', '{secrets.token_hex(32)}' );" for name in SALT_NAMES)
        (self.root / "wp-config.php").write_text(
            WP_CONFIG.format(
                db=self.db,
                db_host=f"{MARIADB[0]}:{MARIADB[1]}",
                salts=salts,
                url=self.url,
                debug_log=self.debug_log,
            )
        )
        mu_plugins = self.root / "wp-content" / "mu-plugins"
        mu_plugins.mkdir(exist_ok=True)
        (mu_plugins / "mail-catcher.php").write_text(MAIL_CATCHER.format(path=self.mail_log))
        mariadb(f"CREATE DATABASE `{self.db}` CHARACTER SET utf8mb4")
        self.tool("install", {"admin_password": ADMIN_PASSWORD})

    def drop(self) -> None:
        mariadb(f"DROP DATABASE IF EXISTS `{self.db}`")

    def tool(self, command: str, arg: dict[str, Any] | None = None) -> Any:
        """Run tests/wordpress/wp_tool.php in this WordPress and decode its JSON."""
        done = subprocess.run(
            ["php", str(TOOL), str(self.root), command, json.dumps(arg or {})],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"wp_tool {command} failed ({done.returncode}): {done.stderr}{done.stdout}"
            )
        return json.loads(done.stdout)

    def serve(self) -> None:
        env = dict(os.environ, PHP_CLI_SERVER_WORKERS="4")
        with self.server_log.open("ab") as log:  # the child keeps its own descriptor
            self.server = subprocess.Popen(
                ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.root)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_http(f"{self.url}/wp-login.php", self.server)

    def stop(self) -> None:
        if self.server is not None:
            stop_group(self.server)

    def comment(self, comment_id: int) -> dict[str, Any]:
        return self.tool("comment", {"id": comment_id})  # type: ignore[no-any-return]

    def run_cron(self) -> None:
        """What a system cron does for a site with DISABLE_WP_CRON: request wp-cron.php."""
        requests.get(f"{self.url}/wp-cron.php?doing_wp_cron", timeout=30).raise_for_status()

    def admin_session(self) -> requests.Session:
        """A logged-in administrator, through the real wp-login.php."""
        session = requests.Session()
        session.get(f"{self.url}/wp-login.php", timeout=10)
        session.cookies.set("wordpress_test_cookie", "WP Cookie check")
        r = session.post(
            f"{self.url}/wp-login.php",
            data={
                "log": "admin",
                "pwd": ADMIN_PASSWORD,
                "wp-submit": "Log In",
                "redirect_to": f"{self.url}/wp-admin/",
                "testcookie": "1",
            },
            allow_redirects=False,
            timeout=20,
        )
        if r.status_code != 302 or not any(
            c.name.startswith("wordpress_logged_in") for c in session.cookies
        ):
            raise RuntimeError(f"admin login failed: {r.status_code}")
        return session


class _SourceAddress(HTTPAdapter):
    """Connect from a given loopback address: each reader has its own IP, as on the web."""

    def __init__(self, ip: str) -> None:
        self.ip = ip
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.ip, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class FormPage:
    """The article page as a reader's browser got it: the comment form's hidden fields."""

    post_id: int
    hidden: dict[str, str]
    rendered_at: int


class Reader:
    """A browser-like reader with its own IP (127.0.0.N) posting through wp-comments-post.php."""

    FIELD = re.compile(
        r"<input[^>]*name=[\"'](commentmod_[a-z]+|comment_post_ID|comment_parent)[\"'][^>]*>"
    )
    VALUE = re.compile(r"value=[\"']([^\"']*)[\"']")

    def __init__(self, site: WordPress, ip: str, name: str, email: str) -> None:
        self.site = site
        self.name = name
        self.email = email
        self.session = requests.Session()
        self.session.mount("http://", _SourceAddress(ip))

    def open_article(self, post_url: str) -> FormPage:
        page = self.session.get(post_url, timeout=20)
        page.raise_for_status()
        hidden: dict[str, str] = {}
        for match in self.FIELD.finditer(page.text):
            value = self.VALUE.search(match.group(0))
            hidden[match.group(1)] = value.group(1) if value else ""
        if "commentmod_ts" not in hidden or "commentmod_hp" not in hidden:
            raise AssertionError("the comment form lacks the plugin's honeypot and timestamp")
        return FormPage(
            post_id=int(hidden["comment_post_ID"]),
            hidden=hidden,
            rendered_at=int(hidden["commentmod_ts"].split(".")[0]),
        )

    def post(self, form: FormPage, text: str, honeypot: str = "") -> tuple[requests.Response, int]:
        """Submit the form; returns WordPress's answer and the new comment's id."""
        data = dict(form.hidden)
        data.update(
            comment=text,
            author=self.name,
            email=self.email,
            url="",
            commentmod_hp=honeypot,
            submit="Post Comment",
        )
        answer = self.session.post(
            f"{self.site.url}/wp-comments-post.php", data=data, allow_redirects=False, timeout=30
        )
        found = re.search(r"#comment-(\d+)", answer.headers.get("Location", ""))
        if answer.status_code != 302 or not found:
            raise AssertionError(
                f"wp-comments-post.php answered {answer.status_code}: {answer.text[:500]}"
            )
        return answer, int(found.group(1))


@dataclass
class Commentmod:
    """`commentmod serve` (web + worker + scheduler) on SQLite and the embedded broker."""

    home: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTMOD_")}
        self.env.update(
            COMMENTMOD_DATABASE_URL=f"sqlite:///{self.home / 'commentmod.db'}",
            COMMENTMOD_BROKER_URL=f"sqla+sqlite:///{self.home / 'broker.db'}",
            COMMENTMOD_VAR_DIR=str(self.home / "var"),
            COMMENTMOD_EMAIL_KEYS=generate_email_key(),
            COMMENTMOD_HASH_KEY=generate_hash_key(),
            COMMENTMOD_RELAY_INTERVAL_SECONDS="1",
            COMMENTMOD_RELAY_GRACE_SECONDS="1",
            COMMENTMOD_WEBHOOK_RETRY_BASE_SECONDS="1",
            COMMENTMOD_WEBHOOK_RETRY_MAX_INTERVAL_SECONDS="5",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "service.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO,
        )
        if done.returncode != 0:
            raise RuntimeError(f"commentmod {args[0]} failed: {done.stderr}")
        return done.stdout

    def start(self) -> None:
        command = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with (self.home / "serve.log").open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service.cli", *command],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=REPO,
            )
        wait_for_http(f"{self.url}/readyz", self.process, timeout=90)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
            self.process = None

    def log(self) -> str:
        path = self.home / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""


SITE = "wp-e2e"


@dataclass
class Stack:
    wp: WordPress
    commentmod: Commentmod
    api_key: str
    webhook_secret: str
    moderator_token: str
    webhook_url: str
    post_url: str


@contextmanager
def open_stack(base: Path) -> Iterator[Stack]:
    """WordPress with the plugin activated and configured, and commentmod with a site whose
    webhook is the plugin's decisions route; everything stopped and dropped afterwards."""
    require_tools()
    wp = WordPress(base / "site")
    commentmod = Commentmod(base / "commentmod")
    # rest_url() without pretty permalinks (checked against the plugin's answer below).
    webhook_url = f"{wp.url}/index.php?rest_route=/commentmod/v1/decisions"
    try:
        wp.install()
        commentmod.cli("db", "upgrade")
        site = json.loads(commentmod.cli("sites", "create", SITE, "--webhook-url", webhook_url))
        moderator = json.loads(
            commentmod.cli("moderators", "create", "wp-moderator", "--site", SITE)
        )
        settings = {
            "service_url": commentmod.url,
            "api_key": site["api_key"],
            "webhook_secret": site["webhook_secret"],
            "moderator_token": moderator["token"],
            "unreachable": "hold",
        }
        activated = wp.tool("activate", {"settings": settings})
        if not activated["active"] or not activated["recurring_at"]:
            raise RuntimeError(f"activation did not complete: {activated}")
        if activated["webhook_url"] != webhook_url:
            raise RuntimeError(f"unexpected decisions route {activated['webhook_url']}")
        commentmod.start()
        wp.serve()
        yield Stack(
            wp=wp,
            commentmod=commentmod,
            api_key=site["api_key"],
            webhook_secret=site["webhook_secret"],
            moderator_token=moderator["token"],
            webhook_url=webhook_url,
            post_url=activated["post_url"],
        )
    finally:
        commentmod.stop()
        wp.stop()
        wp.drop()
