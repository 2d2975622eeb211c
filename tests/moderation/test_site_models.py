"""Site models end to end (issue 17): a site's moderator decisions become labels, ``commentmod
train --site`` learns a model from them with the default as the prior, promotes it, the real
worker runs it on the next comment (the result names it), a worse candidate is refused and
``models rollback`` goes back."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.cli import main
from service.settings import Settings
from service.usecases.services import Services
from tests.conftest import auth, wait_until
from tests.moderation.conftest import Desk, new_desk, submit, wait_decided
from tests.support.processes import WorkerProcess, settings_env

# Invented insults only this site's readers use: no shipped lexicon or model knows them, so
# the default ranks these comments no better than chance and the site's labels must teach it.
SITE_INSULTS = ("glimturo", "zorbakiya", "kravnetu", "plenkishwa", "druvmok")
TOPICS = ("budget", "cricket match", "monsoon", "metro line", "election", "school fees")
OPENERS = ("Honestly", "Arre", "Look", "Dekho", "Well", "Bhai")


def site_comment(rng: random.Random, toxic: bool, n: int) -> str:
    topic, opener = rng.choice(TOPICS), rng.choice(OPENERS)
    if toxic:
        return f"{opener}, the author is a {rng.choice(SITE_INSULTS)} about the {topic} #{n}"
    return f"{opener}, the author explains the {topic} well #{n}"


@pytest.fixture
def cli(mod_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    for name, value in settings_env(mod_settings).items():
        if name.startswith("COMMENTMOD_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("COMMENTMOD_SITE_MODEL_MIN_LABELS", "40")

    def run(*argv: str) -> tuple[int, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def label_comments(
    api: FlaskClient, desk: Desk, count: int, start: int = 0, inverted: bool = False
) -> None:
    """``count`` comments submitted and decided by the site's moderator (reject = toxic,
    approve = ok), oldest first; ``inverted``: a bad teacher who decides every one wrongly."""
    rng = random.Random(17 + start)
    submitted = []
    for n in range(count):
        toxic = n % 3 == 0
        text = site_comment(rng, toxic, start + n)
        submitted.append((submit(api, desk, text=text), toxic != inverted))
    for comment_id, decided_toxic in submitted:
        wait_decided(api, desk, comment_id)  # the checks first, then the moderator
        r = api.post(
            f"/v1/moderation/comments/{comment_id}/decision",
            json={"action": "reject" if decided_toxic else "approve"},
            headers=auth(desk.token),
        )
        assert r.status_code == 200, r.get_json()


def toxicity_model_of(api: FlaskClient, desk: Desk, comment_id: str) -> str | None:
    body = api.get(f"/v1/moderation/comments/{comment_id}", headers=auth(desk.token)).get_json()
    checks = {c["check"]: c for c in body.get("checks") or []}
    return checks["toxicity"]["model"] if "toxicity" in checks else None


def test_site_model_trained_promoted_used_by_the_worker_refused_and_rolled_back(
    cli: Any, api: FlaskClient, mod_services: Services, mod_worker: WorkerProcess
) -> None:
    desk = new_desk(mod_services)
    # Every comment waits for a moderator, so every decision is a label.
    assert cli("sites", "policy", desk.slug, "--set", "premoderation=all")[0] == 0
    code, out = cli("train", "--site", desk.slug, "--check", "toxicity")
    assert code == 0 and "keeps the default" in out  # no labels yet

    label_comments(api, desk, 90)
    code, out = cli("train", "--site", desk.slug, "--check", "toxicity", "--dry-run")
    assert code == 0 and "would promote" in out, out
    code, out = cli("models", "list", "--site", desk.slug)
    assert json.loads(out) == []  # a dry run stores nothing

    code, out = cli("train", "--site", desk.slug, "--check", "toxicity")
    assert code == 0, out
    assert f"toxicity-site-{desk.slug}@1 promoted" in out
    assert "current (default) / candidate:" in out and "overall" in out

    # The real worker runs the promoted model on the next comment, without a restart.
    rng = random.Random(5)
    fresh = submit(api, desk, text=site_comment(rng, True, 5000))
    model = wait_until(lambda: toxicity_model_of(api, desk, fresh))
    assert model.startswith(f"toxicity-site-{desk.slug}@1+rules"), model

    # A model learned mostly from wrong decisions is worse on the recent (right) labels: refused.
    label_comments(api, desk, 150, start=1000, inverted=True)
    label_comments(api, desk, 45, start=2000)
    code, out = cli("train", "--site", desk.slug, "--check", "toxicity")
    assert code == 1 and "stored, not promoted" in out, out
    code, out = cli("models", "list", "--site", desk.slug, "--check", "toxicity")
    listed = {m["version"]: m for m in json.loads(out)}
    assert listed[1]["active"] and not listed[2]["active"] and listed[2]["rule"] == "refuse"
    assert listed[1]["trained_by"] == "cli" and listed[1]["labels"] == 90

    # Promote it by hand, then roll back to version 1, then to the default.
    # (Without --check, as the SPEC writes them: the one check with that version, then every
    # check with an active site model.)
    assert cli("models", "promote", "--site", desk.slug, "--version", "2")[0] == 0
    code, out = cli("models", "rollback", "--site", desk.slug, "--check", "toxicity")
    assert code == 0 and "version 1 active" in out
    code, out = cli("models", "rollback", "--site", desk.slug)
    assert code == 0 and "toxicity: default model active" in out
    code, out = cli("models", "rollback", "--site", desk.slug)
    assert code == 2 and "nothing to roll back" in out
    after = submit(api, desk, text=site_comment(rng, False, 5001))
    model = wait_until(lambda: toxicity_model_of(api, desk, after))
    assert model.startswith("toxicity-linear@"), model
