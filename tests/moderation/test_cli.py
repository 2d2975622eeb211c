"""The moderation CLI: sites create --webhook-url, sites policy, moderators revoke,
labels export."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.settings import Settings
from service.usecases.services import Services
from tests.conftest import auth
from tests.moderation.conftest import Desk, held_comment, new_desk, submit, wait_decided
from tests.support.cli import Cli, cli_runner
from tests.support.processes import WorkerProcess


@pytest.fixture
def cli(
    mod_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    return cli_runner(mod_settings, monkeypatch, capsys)


def test_sites_create_with_webhook_prints_the_secret_once(cli: Cli, mod_services: Services) -> None:
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    code, out, _ = cli("sites", "create", slug, "--webhook-url", "https://hooks.example/c")
    assert code == 0
    assert out["api_key"].startswith("cmk_") and out["webhook_secret"].startswith("whsec_")
    from sqlalchemy import select

    from service.db.models import Site

    with mod_services.storage.sessions() as s:
        site = s.scalar(select(Site).where(Site.slug == slug))
    assert site is not None and site.webhook_url == "https://hooks.example/c"
    assert (
        site.webhook_secret_encrypted and out["webhook_secret"] not in site.webhook_secret_encrypted
    )
    assert mod_services.vault.decrypt(site.webhook_secret_encrypted) == out["webhook_secret"]
    assert cli("sites", "create", f"x-{slug}", "--webhook-url", "ftp://nope")[0] != 0


def test_sites_policy_set_and_history(cli: Cli, desk: Desk) -> None:
    code, shown, _ = cli("sites", "policy", desk.slug)
    assert code == 0 and shown["version"] == 0
    code, saved, _ = cli(
        "sites", "policy", desk.slug,
        "--set", "max_links=3", "--set", 'blocked_words=["कमल", "tamatar"]',
        "--set", "shadow_mode=true", "--set", "premoderation=first_time",
    )  # fmt: skip
    assert code == 0, saved
    assert saved["version"] == 1 and saved["updated_by"] == "cli"
    assert saved["overrides"] == {
        "max_links": 3,
        "blocked_words": ["कमल", "tamatar"],
        "shadow_mode": True,
        "premoderation": "first_time",
    }
    code, unset, _ = cli("sites", "policy", desk.slug, "--unset", "shadow_mode")
    assert unset["version"] == 2 and "shadow_mode" not in unset["overrides"]
    assert [v["version"] for v in unset["history"]] == [2, 1]
    assert cli("sites", "policy", desk.slug, "--set", "max_links=zero")[0] != 0
    assert cli("sites", "policy", "no-such-site")[0] != 0


def test_moderators_revoke(cli: Cli, api: FlaskClient, desk: Desk) -> None:
    assert api.get("/v1/moderation/queue", headers=auth(desk.token)).status_code == 200
    code, out, _ = cli("moderators", "revoke", str(desk.moderator_id))
    assert code == 0 and out["revoked"] is True
    r = api.get("/v1/moderation/queue", headers=auth(desk.token))
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_credentials"
    assert cli("moderators", "revoke", "999999")[0] != 0


def test_labels_export(
    cli: Cli,
    api: FlaskClient,
    mod_services: Services,
    mod_worker: WorkerProcess,
    tmp_path: Path,
) -> None:
    desk = new_desk(mod_services)
    spam = held_comment(api, desk, text="Read this https://a.example/x and https://b.example/y now")
    ham = held_comment(api, desk)
    toxic = held_comment(api, desk, text="Two links https://c.example/1 https://d.example/2 hmm")
    for comment_id, action in ((spam, "spam"), (ham, "approve"), (toxic, "reject")):
        r = api.post(
            f"/v1/moderation/comments/{comment_id}/decision",
            json={"action": action},
            headers=auth(desk.token),
        )
        assert r.status_code == 200
    for check, expected in (("spam", ["spam", "ham"]), ("toxicity", ["ok", "toxic"])):
        path = tmp_path / f"{check}.csv"
        code, out, _ = cli("labels", "export", "--site", desk.slug, "--check", check, str(path))
        assert code == 0 and out["rows"] == 2
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0]) == ["text", "label", "lang"]
        assert sorted(r["label"] for r in rows) == sorted(expected)
        assert all(r["text"] and r["lang"] for r in rows)
    # a published comment the moderator never touched is no label
    quiet = submit(api, desk, text="Nothing to see here, a kind word.")
    wait_decided(api, desk, quiet)
    code, out, _ = cli("labels", "export", "--site", desk.slug, "--check", "spam", str(path))
    assert out["rows"] == 2
