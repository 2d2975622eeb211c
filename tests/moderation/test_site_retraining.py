"""Scheduled retraining of site models (issue 17): the real scheduler (celery beat) sends the
retraining pass to the real trainer (`commentmod trainer`); a site with enough new labels gets
a model trained and promoted by the rule, recorded as trained by the scheduler; a site with
too few keeps the default; a later pass with no new labels trains nothing. The database lease
lets one of two concurrent trainings of the same (site, check) run."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.domain.imports.csvfile import parse_label_csv
from service.settings import Settings
from service.usecases.imports import ImportOptions, import_history
from service.usecases.services import Services, build_services, utcnow
from service.usecases.site_models import (
    claim_training,
    finish_training,
    list_models,
    training_states,
)
from tests.conftest import new_site, wait_until
from tests.moderation.test_site_models import site_comment
from tests.support.backends import Backend
from tests.support.processes import WorkerProcess


def import_labels(svc: Services, slug: str, count: int, start: int = 0) -> None:
    """``count`` toxicity labels (one in three toxic) through the CSV importer."""
    rng = random.Random(start)
    lines = ["text,label"]
    for n in range(start, start + count):
        toxic = n % 3 == 0
        lines.append(f'"{site_comment(rng, toxic, n)}",{"toxic" if toxic else "ok"}')
    entries = parse_label_csv(io.StringIO("\n".join(lines) + "\n"), utcnow())
    summary = import_history(svc, slug, entries, ImportOptions(source="csv"))
    assert summary.labels == count, summary.as_dict()


@pytest.fixture(scope="module")
def retrain_settings(
    settings: Settings, backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return settings.model_copy(
        update={
            "broker_url": backend.spare_broker_url,
            "var_dir": tmp_path_factory.mktemp("retrain-var"),
            "site_model_min_labels": 40,
            "site_retrain_min_new_labels": 20,
            "site_retrain_interval_seconds": 1.0,
            # Only the retraining pass matters here: no relay sends on this broker.
            "relay_interval_seconds": 3600.0,
        }
    )


@pytest.fixture(scope="module")
def retrain_services(retrain_settings: Settings) -> Iterator[Services]:
    svc = build_services(retrain_settings)
    yield svc
    svc.close()


def _wait_logged(proc: WorkerProcess, slug: str, outcome: str, after: int = 0) -> int:
    """Wait for the trainer to log ``outcome`` for ``slug``'s toxicity model, past the
    ``after``-th such line; the number of such lines so far."""

    def count() -> int:
        found = 0
        for line in proc.log().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if (record.get("site"), record.get("check")) == (slug, "toxicity") and record.get(
                "outcome"
            ) == outcome:
                found += 1
        return found

    return int(wait_until(lambda: count() > after and count(), timeout=120))


def test_the_scheduler_retrains_a_site_with_enough_new_labels_and_no_other(
    retrain_settings: Settings, retrain_services: Services, tmp_path: Path
) -> None:
    svc = retrain_services
    rich, _ = new_site(svc)
    poor, _ = new_site(svc)
    import_labels(svc, rich.slug, 90)
    import_labels(svc, poor.slug, 12)
    trainer = WorkerProcess(retrain_settings, tmp_path / "trainer.log", command=("trainer",))
    scheduler = WorkerProcess(retrain_settings, tmp_path / "beat.log", command=("scheduler",))
    try:
        trainer.wait_ready()
        _wait_logged(trainer, rich.slug, "promoted")
        (model,) = list_models(svc, rich.slug, "toxicity")
        assert model.is_active and model.version == 1
        assert model.metrics["trained_by"] == "scheduler" and model.metrics["labels"] == 90
        assert model.metrics["rule"] == "promote"
        # The poor site keeps the default: seen by a pass, never trained.
        _wait_logged(trainer, poor.slug, "too_few")
        assert list_models(svc, poor.slug) == []
        # Later passes see no new labels: nothing trained twice.
        _wait_logged(trainer, rich.slug, "not_due")
        assert [m.version for m in list_models(svc, rich.slug, "toxicity")] == [1]
        # Enough new labels: the next pass trains version 2 (promoted or not, by the rule).
        import_labels(svc, rich.slug, 25, start=1000)
        wait_until(lambda: len(list_models(svc, rich.slug, "toxicity")) == 2, timeout=120)
        newest = list_models(svc, rich.slug, "toxicity")[0]
        assert newest.metrics["trained_by"] == "scheduler" and newest.metrics["labels"] == 115
    finally:
        scheduler.stop()
        trainer.stop()
    # No email, no text in what the scheduler sent: the pass carries no arguments at all.
    assert "@" not in "".join(
        line for line in trainer.log().splitlines() if "training.retrain_sites" in line
    ).replace("trainer@", "")


def test_one_of_two_concurrent_trainings_gets_the_lease(services: Services) -> None:
    site, _ = new_site(services)
    assert claim_training(services, site.slug, "toxicity", lease_seconds=600)
    assert not claim_training(services, site.slug, "toxicity", lease_seconds=600)
    finish_training(services, site.slug, "toxicity", 300, "promoted")
    # A pass that counted fewer new labels than a finished training saw does not train.
    assert not claim_training(services, site.slug, "toxicity", 600, max_seen=299)
    assert claim_training(services, site.slug, "toxicity", 600, max_seen=300)
    # A lease older than its time (its trainer died) can be taken over.
    assert claim_training(services, site.slug, "toxicity", lease_seconds=0)
    finish_training(services, site.slug, "toxicity", None, "failed")
    assert claim_training(services, site.slug, "toxicity", 600, max_seen=300)


def test_training_states_say_who_is_due(services: Services) -> None:
    site, _ = new_site(services)
    import_labels(services, site.slug, 30)
    states = {s.slug: s for s in training_states(services, ["toxicity"], min_labels=25, min_new=10)}
    assert states[site.slug].status == "due" and states[site.slug].labels == 30
    finish_training(services, site.slug, "toxicity", None, "none")  # no row yet: a no-op
    assert claim_training(services, site.slug, "toxicity", 600)
    finish_training(services, site.slug, "toxicity", 25, "refused")
    states = {s.slug: s for s in training_states(services, ["toxicity"], min_labels=25, min_new=10)}
    assert states[site.slug].status == "not_due" and states[site.slug].seen == 25
    few = {s.slug: s for s in training_states(services, ["toxicity"], min_labels=31, min_new=1)}
    assert few[site.slug].status == "too_few"
