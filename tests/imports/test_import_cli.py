"""``commentmod import`` end to end on the suite's database: stored like submissions, labels
exported, no webhook, idempotent, and ``--recheck`` decided by a real worker."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from service.db.models import AuditEvent, CheckJob, Comment, WebhookDelivery
from service.settings import Settings
from service.usecases.services import Services
from service.usecases.sites import create_site
from service.usecases.webhooks import configure_webhook
from tests.conftest import wait_until
from tests.support.cli import Cli, cli_runner
from tests.support.processes import WorkerProcess

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_EMAIL = "ravi.import-fixture@example.com"


@pytest.fixture
def cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    return cli_runner(settings, monkeypatch, capsys)


@pytest.fixture
def slug(services: Services) -> str:
    site, _ = create_site(services, f"imp-{uuid.uuid4().hex[:10]}")
    # A webhook is configured: the import must not fire it.
    configure_webhook(services, site.slug, "https://hooks.example/never")
    return site.slug


def _site_comments(services: Services, slug: str) -> list[Comment]:
    with services.uow() as uow:
        site = uow.sites.by_slug(slug)
        assert site is not None
        return list(
            uow.session.scalars(
                select(Comment).where(Comment.site_id == site.id).order_by(Comment.created_at)
            )
        )


def _export(cli: Cli, slug: str, check: str, path: Path) -> list[dict[str, str]]:
    code, _, _ = cli("labels", "export", "--site", slug, "--check", check, str(path))
    assert code == 0
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_wordpress_import_end_to_end(
    cli: Cli, client: FlaskClient, services: Services, slug: str, tmp_path: Path
) -> None:
    code, summary, output = cli(
        "import", "wordpress", "--site", slug, str(FIXTURES / "wordpress.xml")
    )
    assert code == 0, output
    assert summary["imported"] == 6 and summary["malformed"] == 2
    assert summary["by_status"] == {"held": 1, "published": 3, "rejected": 1, "spam": 1}
    assert {(m["position"], m["reason"]) for m in summary["malformed_entries"]} == {
        (124, "invalid_date"),
        (133, "blank_text"),
    }
    assert FIXTURE_EMAIL not in output

    comments = _site_comments(services, slug)
    by_text = {c.text[:10]: c for c in comments}
    ravi = next(c for c in comments if c.author_name == "Ravi Kumar")
    assert ravi.author_email_encrypted and services.vault.decrypt(ravi.author_email_encrypted) == (
        FIXTURE_EMAIL
    )
    assert ravi.author_hash == services.vault.author_key(FIXTURE_EMAIL)
    assert ravi.ip_truncated == "203.0.113.0/24" and ravi.ip_hash
    assert ravi.published_at == ravi.created_at and ravi.created_at.isoformat().startswith(
        "2024-02-02T10:00"
    )
    reply = next(c for c in comments if c.author_name == "Priya")
    assert reply.parent_id == ravi.id and reply.ip_truncated == "2001:db8:1234::/48"
    assert by_text["Barish aa "].author_hash is None  # an invalid email is dropped

    # The public thread shows the imported published comments, the reply included.
    r = client.get(f"/v1/sites/{slug}/threads/101/comments")
    assert r.status_code == 200
    listed = r.get_json()["items"]
    assert [c["id"] for c in listed] == [ravi.id, reply.id]
    assert listed[1]["parent_id"] == ravi.id

    with services.uow() as uow:
        site_id = comments[0].site_id
        actors = set(
            uow.session.scalars(select(AuditEvent.actor).where(AuditEvent.site_id == site_id))
        )
        hooks = uow.session.scalar(select(func.count()).where(WebhookDelivery.site_id == site_id))
        jobs = uow.session.scalar(
            select(func.count()).where(CheckJob.comment_id.in_([c.id for c in comments]))
        )
    assert actors == {"import:wordpress"}
    assert hooks == 0 and jobs == 0  # no webhook, no check

    # Labels: approved → ham/ok, spam → spam, trash → toxic; the held comment is none.
    spam = _export(cli, slug, "spam", tmp_path / "spam.csv")
    assert sorted(r["label"] for r in spam) == ["ham", "ham", "ham", "spam"]
    toxicity = _export(cli, slug, "toxicity", tmp_path / "tox.csv")
    assert sorted(r["label"] for r in toxicity) == ["ok", "ok", "ok", "toxic"]
    assert any(r["label"] == "toxic" and "gadha" in r["text"] for r in toxicity)

    # Re-importing the same file changes nothing.
    before = [(c.id, c.status) for c in _site_comments(services, slug)]
    code, again, _ = cli("import", "wordpress", "--site", slug, str(FIXTURES / "wordpress.xml"))
    assert code == 0 and again["imported"] == 0 and again["skipped_duplicate"] == 6
    assert {d["reason"] for d in again["duplicates"]} == {"already_imported"}
    assert [(c.id, c.status) for c in _site_comments(services, slug)] == before


def test_the_email_is_nowhere_in_clear_text(cli: Cli, services: Services, slug: str) -> None:
    code, _, output = cli("import", "wordpress", "--site", slug, str(FIXTURES / "wordpress.xml"))
    assert code == 0 and FIXTURE_EMAIL not in output
    site_id = _site_comments(services, slug)[0].site_id
    with services.storage.engine.connect() as conn:
        for table in ("comments", "audit_events", "moderation_labels"):
            rows = conn.execute(
                text(f"SELECT * FROM {table} WHERE site_id = :s"),
                {"s": site_id},
            ).all()
            assert rows and FIXTURE_EMAIL not in repr(rows)


def test_disqus_and_csv_imports_with_trash_as(
    cli: Cli, services: Services, slug: str, tmp_path: Path
) -> None:
    code, summary, _ = cli(
        "import", "disqus", "--site", slug, "--trash-as", "spam", str(FIXTURES / "disqus.xml")
    )
    assert code == 0
    assert summary["imported"] == 4 and summary["malformed"] == 1
    assert summary["by_status"] == {"published": 2, "rejected": 1, "spam": 1}
    comments = {c.text[:6]: c for c in _site_comments(services, slug)}
    assert comments["Haan y"].parent_id == comments["क्या श"].id
    spam = _export(cli, slug, "spam", tmp_path / "spam.csv")
    assert sorted(r["label"] for r in spam) == ["ham", "ham", "spam", "spam"]  # deleted → spam

    code, summary, _ = cli("import", "csv", "--site", slug, str(FIXTURES / "labels.csv"))
    assert code == 0 and summary["imported"] == 5 and summary["malformed"] == 2
    toxicity = _export(cli, slug, "toxicity", tmp_path / "tox.csv")
    # The CSV's labels as given: ok, toxic, ok for toxicity (its ham and spam are spam labels);
    # plus the Disqus approvals (ok, ok); the Disqus deletion went to spam.
    assert sorted(r["label"] for r in toxicity) == ["ok", "ok", "ok", "ok", "toxic"]
    assert {"hi", "hi-Latn"} <= {r["lang"] for r in toxicity}
    code, again, _ = cli("import", "csv", "--site", slug, str(FIXTURES / "labels.csv"))
    assert code == 0 and again["imported"] == 0 and again["skipped_duplicate"] == 5


def test_refused_file_imports_nothing(
    cli: Cli, services: Services, slug: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.xml"
    content = (FIXTURES / "wordpress.xml").read_text(encoding="utf-8")
    broken.write_text(content.replace("</channel>", ""), encoding="utf-8")
    code, _, output = cli("import", "wordpress", "--site", slug, str(broken))
    assert code != 0 and "not well-formed" in output
    assert _site_comments(services, slug) == []


def test_recheck_sends_held_comments_through_the_checks(
    cli: Cli, services: Services, slug: str, worker: WorkerProcess
) -> None:
    code, summary, _ = cli(
        "import", "wordpress", "--site", slug, "--recheck", str(FIXTURES / "wordpress.xml")
    )
    assert code == 0 and summary["queued_for_checks"] == 1
    held = next(c for c in _site_comments(services, slug) if c.author_name == "Anil")

    def decided() -> Comment | None:
        with services.uow() as uow:
            comment = uow.comments.get(held.id)
            return comment if comment is not None and comment.status != "pending" else None

    comment = wait_until(decided)
    with services.uow() as uow:
        actors = [e.actor for e in uow.audit.of_comment(comment.id)]
    assert actors == ["import:wordpress", "system"]
