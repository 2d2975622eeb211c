"""The real ``commentmod`` in a second shell: another working directory, secrets only in the
development secrets file, one-line exit-2 errors, and ``sites create`` that is all or
nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from service.cli import build_parser, config
from service.db.models import Site
from service.domain.privacy import PrivacyConfigError
from service.settings import Settings
from service.usecases.services import Services, build_services
from service.usecases.sites import register_site
from tests.support.processes import settings_env

SECRETS = ("COMMENTMOD_EMAIL_KEYS", "COMMENTMOD_HASH_KEY")


def shell_env(settings: Settings, tmp_path: Path, *, secrets_file: bool = True) -> dict[str, str]:
    """The suite's settings as a fresh shell sees them: the secrets NOT in the environment,
    only in a secrets file like the one ``make run`` writes (or nowhere)."""
    env = settings_env(settings)
    lines = [f"{name}={env.pop(name)}" for name in SECRETS]
    path = tmp_path / "secrets.env"
    if secrets_file:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env["COMMENTMOD_SECRETS_FILE"] = str(path)  # absent file: no secrets at all
    return env


def commentmod(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def site_exists(svc: Services, slug: str) -> bool:
    with svc.storage.sessions() as s:
        return s.scalar(select(Site).where(Site.slug == slug)) is not None


def test_second_shell_reads_the_secrets_file(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    env = shell_env(settings, tmp_path)
    slug = f"shell-{uuid.uuid4().hex[:8]}"
    done = commentmod(env, tmp_path, "sites", "create", slug, "--webhook-url", "https://h.example/")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["api_key"].startswith("cmk_") and out["webhook_secret"].startswith("whsec_")
    with services.storage.sessions() as s:
        site = s.scalar(select(Site).where(Site.slug == slug))
        assert site is not None and site.webhook_secret_encrypted
        assert services.vault.decrypt(site.webhook_secret_encrypted) == out["webhook_secret"]
    listed = commentmod(env, tmp_path, "sites", "list")
    assert listed.returncode == 0 and slug in [s["site"] for s in json.loads(listed.stdout)]


COMMANDS = [
    ("sites", "create", "{slug}"),
    ("sites", "create", "{slug}", "--webhook-url", "https://h.example/"),
    ("sites", "list"),
    ("sites", "rotate-key", "{slug}"),
    ("sites", "webhook", "{slug}", "--url", "https://h.example/"),
    ("sites", "policy", "{slug}"),
    ("moderators", "create", "m", "--site", "{slug}"),
    ("moderators", "list"),
    ("moderators", "rotate-token", "1"),
    ("moderators", "revoke", "1"),
    ("labels", "export", "--site", "{slug}", "--check", "spam", "out.csv"),
    ("keys", "rotate"),
    ("authors", "erase", "--site", "{slug}", "reader@example.com"),
    ("relay",),
    ("worker",),
    ("scheduler",),
    ("serve",),
]


def _one_clear_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("commentmod: ") and all(w in done.stderr for w in words)


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_missing_secret_is_one_line_and_exit_2(
    argv: tuple[str, ...], settings: Settings, services: Services, tmp_path: Path
) -> None:
    slug = f"nosecret-{uuid.uuid4().hex[:8]}"
    env = shell_env(settings, tmp_path, secrets_file=False)
    done = commentmod(env, tmp_path, *(a.format(slug=slug) for a in argv))
    _one_clear_line(done, "COMMENTMOD_EMAIL_KEYS is not set")
    assert not site_exists(services, slug)


def test_bad_secret_is_one_line_and_exit_2(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    env = dict(settings_env(settings), COMMENTMOD_EMAIL_KEYS="not-a-fernet-key")
    slug = f"badkey-{uuid.uuid4().hex[:8]}"
    for argv in (
        ("sites", "create", slug, "--webhook-url", "https://h.example/"),
        ("sites", "list"),
    ):
        done = commentmod(env, tmp_path, *argv)
        _one_clear_line(done, "COMMENTMOD_EMAIL_KEYS holds an invalid key")
        assert "not-a-fernet-key" not in done.stderr
    assert not site_exists(services, slug)


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "sqlite:///{tmp}/no/dir/x.db"]
)
def test_unreachable_database_is_one_line_and_exit_2(
    url: str, settings: Settings, tmp_path: Path
) -> None:
    env = dict(settings_env(settings), COMMENTMOD_DATABASE_URL=url.format(tmp=tmp_path))
    for argv in (
        ("sites", "list"),
        ("sites", "create", "x"),
        ("authors", "erase", "--site", "x", "a@b.example"),
    ):
        done = commentmod(env, tmp_path, *argv)
        _one_clear_line(done, "database unavailable at")


def test_invalid_webhook_url_creates_nothing(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    slug = f"badurl-{uuid.uuid4().hex[:8]}"
    done = commentmod(
        settings_env(settings), tmp_path, "sites", "create", slug, "--webhook-url", "ftp://x"
    )
    _one_clear_line(done, "webhook URL")
    assert not site_exists(services, slug)


def test_a_failure_inside_the_transaction_creates_nothing(
    settings: Settings, services: Services
) -> None:
    """The webhook secret is encrypted inside the site's transaction: a vault that cannot
    encrypt (no email key) rolls the site back too."""
    keyless = build_services(settings.model_copy(update={"email_keys": None}))
    slug = f"rollback-{uuid.uuid4().hex[:8]}"
    try:
        with pytest.raises(PrivacyConfigError):
            register_site(keyless, slug, webhook_url="https://h.example/")
    finally:
        keyless.close()
    assert not site_exists(services, slug)


def test_relative_sqlite_path_resolves_against_the_project(
    settings: Settings, tmp_path: Path
) -> None:
    root = config.project_root()
    assert root is not None, "the suite runs from a source checkout"
    name = f"var/cli-test-{uuid.uuid4().hex[:8]}.db"
    env = dict(settings_env(settings), COMMENTMOD_DATABASE_URL=f"sqlite:///{name}")
    try:
        (root / "var").mkdir(exist_ok=True)
        upgraded = commentmod(env, tmp_path, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        assert (root / name).is_file() and not (tmp_path / name).exists()
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        created = commentmod(env, elsewhere, "sites", "create", "anywhere")
        assert created.returncode == 0, created.stderr
        listed = commentmod(env, root, "sites", "list")
        assert [s["site"] for s in json.loads(listed.stdout)] == ["anywhere"]
    finally:
        (root / name).unlink(missing_ok=True)


def test_help_describes_the_tool_and_every_option() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "comment-moderation service" in done.stdout
    assert "composition root" not in done.stdout  # not the module's internal docstring
    missing: list[str] = []

    def walk(parser: object, path: str) -> None:
        for action in parser._actions:  # type: ignore[attr-defined]
            if action.choices and isinstance(action.choices, dict):
                for name, child in action.choices.items():
                    walk(child, f"{path} {name}")
            elif not action.help:
                missing.append(f"{path} {action.dest}")

    walk(build_parser(), "commentmod")
    assert missing == []


def test_invalid_setting_is_one_line_without_its_value(settings: Settings, tmp_path: Path) -> None:
    env = dict(settings_env(settings), COMMENTMOD_PORT="secret-looking-value")
    done = commentmod(env, tmp_path, "sites", "list")
    _one_clear_line(done, "invalid settings: port")
    assert "secret-looking-value" not in done.stderr
