"""``sites list|rotate-key`` and ``moderators list|rotate-token`` through the real CLI
(``main(argv)``); the old credential is refused by the real API afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from service.api import create_app
from service.settings import Settings
from service.usecases.services import build_services
from tests.conftest import auth
from tests.support.cli import Cli, cli_runner


@pytest.fixture
def cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    return cli_runner(settings, monkeypatch, capsys)


@pytest.fixture
def api(settings: Settings) -> Iterator[FlaskClient]:
    """The API without the per-process key cache, so a rotation shows at once (with the
    cache, the old key is refused within ``auth_cache_seconds``: sites rotate-key --help)."""
    svc = build_services(settings.model_copy(update={"auth_cache_seconds": 0}))
    yield create_app(services=svc).test_client()
    svc.close()


def site_key_works(api: FlaskClient, key: str) -> bool:
    status = api.get("/v1/comments/no-such-comment", headers=auth(key)).status_code
    assert status in (401, 404)
    return status == 404


def moderator_token_works(api: FlaskClient, token: str) -> bool:
    status = api.get("/v1/moderation/queue", headers=auth(token)).status_code
    assert status in (200, 401)
    return status == 200


def test_sites_list_and_rotate_key(cli: Cli, api: FlaskClient) -> None:
    slug = f"rot-{uuid.uuid4().hex[:8]}"
    code, created, _ = cli("sites", "create", slug, "--name", "Rotation")
    assert code == 0
    code, listed, _ = cli("sites", "list")
    mine = [s for s in listed if s["site"] == slug]
    assert code == 0 and len(mine) == 1 and mine[0]["name"] == "Rotation"
    assert "api_key" not in mine[0]
    assert site_key_works(api, created["api_key"])

    code, rotated, _ = cli("sites", "rotate-key", slug)
    assert code == 0 and rotated["api_key"] != created["api_key"]
    assert not site_key_works(api, created["api_key"])
    assert site_key_works(api, rotated["api_key"])
    code, _, err = cli("sites", "rotate-key", "no-such-site")
    assert code == 2 and "no site" in err


def test_moderators_list_and_rotate_token(cli: Cli, api: FlaskClient) -> None:
    slug = f"rotm-{uuid.uuid4().hex[:8]}"
    assert cli("sites", "create", slug)[0] == 0
    name = f"Rita {uuid.uuid4().hex[:6]}"
    code, mod, _ = cli("moderators", "create", name, "--site", slug)
    assert code == 0 and moderator_token_works(api, mod["token"])
    code, listed, _ = cli("moderators", "list")
    mine = [m for m in listed if m["id"] == mod["id"]]
    assert code == 0 and mine[0]["sites"] == [slug] and mine[0]["revoked_at"] is None
    assert "token" not in mine[0]

    # By NAME, as the SPEC writes it (an id works too, below).
    code, rotated, _ = cli("moderators", "rotate-token", name)
    assert code == 0 and rotated["id"] == mod["id"] and rotated["token"] != mod["token"]
    assert not moderator_token_works(api, mod["token"])
    assert moderator_token_works(api, rotated["token"])

    assert cli("moderators", "revoke", str(mod["id"]))[0] == 0
    code, _, err = cli("moderators", "rotate-token", str(mod["id"]))
    assert code == 2 and "revoked" in err
    assert not moderator_token_works(api, rotated["token"])
    code, listed, _ = cli("moderators", "list")
    assert [m["revoked_at"] is not None for m in listed if m["id"] == mod["id"]] == [True]


def test_rotate_token_by_an_ambiguous_name_asks_for_the_id(cli: Cli) -> None:
    slug = f"rotn-{uuid.uuid4().hex[:8]}"
    assert cli("sites", "create", slug)[0] == 0
    name = f"Twin {uuid.uuid4().hex[:6]}"
    first = cli("moderators", "create", name, "--site", slug)[1]
    second = cli("moderators", "create", name, "--site", slug)[1]
    code, _, err = cli("moderators", "rotate-token", name)
    assert code == 2 and "several moderators" in err and str(first["id"]) in err
    code, rotated, _ = cli("moderators", "rotate-token", str(second["id"]))
    assert code == 0 and rotated["id"] == second["id"]
    code, _, err = cli("moderators", "rotate-token", f"nobody {uuid.uuid4().hex[:6]}")
    assert code == 2 and "no moderator named" in err
