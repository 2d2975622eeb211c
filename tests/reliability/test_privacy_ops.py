"""Erasure (API and CLI) and email key rotation (`commentmod keys rotate`), on the run's
real database; plus the email's absence from /metrics and from every erased row."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from flask.testing import FlaskClient
from pydantic import SecretStr
from sqlalchemy import select

from service.api import create_app
from service.db.models import AuditEvent, Base, Comment
from service.domain.privacy import Vault, generate_email_key
from service.usecases.privacy import ERASED_NAME, rotate_email_keys
from service.usecases.services import Services, build_services
from service.usecases.sites import create_site
from tests.conftest import auth
from tests.reliability.conftest import body
from tests.support.processes import settings_env


def _client(svc: Services) -> FlaskClient:
    return create_app(services=svc).test_client()


def _no_flood(services: Services) -> Services:
    return build_services(services.settings.model_copy(update={"flood_interval_seconds": 0.0}))


def test_erasure_leaves_nothing_readable(services: Services) -> None:
    svc = _no_flood(services)
    try:
        client = _client(svc)
        _site, key = create_site(svc, f"erase-{uuid.uuid4().hex[:8]}")
        _, other_key = create_site(svc, f"erase-o-{uuid.uuid4().hex[:8]}")
        marker = uuid.uuid4().hex
        email = f"Erase.Me.{marker}@Example.com"
        ids = []
        for i in range(3):
            r = client.post(
                "/v1/comments",
                json=body(
                    author_email=email,
                    author_name=f"Ravi {marker}",
                    author_url=f"https://ravi-{marker}.example.org/",
                    client_ip="198.51.100.42",
                    user_agent=f"UA {marker}",
                    referrer=f"https://news.example/{marker}",
                    text=f"Comment {i} by the author",
                ),
                headers=auth(key),
            )
            assert r.status_code == 202
            ids.append(r.get_json()["id"])
        kept = client.post("/v1/comments", json=body(), headers=auth(key)).get_json()["id"]
        # Another site cannot erase this author, and an odd casing of the email still matches.
        r = client.post(
            "/v1/privacy/erasure", json={"author_email": email}, headers=auth(other_key)
        )
        assert r.status_code == 200 and r.get_json() == {"erased": 0}
        r = client.post(
            "/v1/privacy/erasure",
            json={"author_email": email.replace("Erase", "erase")},
            headers=auth(key),
        )
        assert r.status_code == 200 and r.get_json() == {"erased": 3}
        again = client.post("/v1/privacy/erasure", json={"author_email": email}, headers=auth(key))
        assert again.get_json() == {"erased": 0}  # idempotent
        with svc.storage.sessions() as s:
            rows = s.scalars(select(Comment).where(Comment.id.in_(ids))).all()
            untouched = s.scalar(select(Comment).where(Comment.id == kept))
            audits = s.scalars(
                select(AuditEvent).where(
                    AuditEvent.comment_id.in_(ids), AuditEvent.actor == "erasure"
                )
            ).all()
            dump = [
                repr(tuple(r)) for t in Base.metadata.sorted_tables for r in s.execute(select(t))
            ]
        assert len(rows) == 3 and len(audits) == 3
        hashes = {r.author_hash for r in rows}
        assert len(hashes) == 3  # unlinkable: a different random value per comment
        assert svc.vault.author_key(email.lower()) not in hashes
        for r in rows:
            assert r.author_email_encrypted is None and r.author_name == ERASED_NAME
            assert r.author_url is r.ip_truncated is r.ip_hash is r.user_agent is r.referrer is None
            assert r.text.startswith("Comment ")  # documented: the text stays
        assert untouched is not None and untouched.author_email_encrypted is not None
        everything = "\n".join(dump)
        assert marker not in everything.lower()  # no name, URL, UA, referrer, email left
        reads = [client.get(f"/v1/comments/{cid}", headers=auth(key)).get_json() for cid in ids]
        assert all(r["author_name"] == ERASED_NAME and r["author_url"] is None for r in reads)
        # The same author may post again: the old comments no longer count as duplicates.
        r = client.post(
            "/v1/comments",
            json=body(author_email=email, text="Comment 0 by the author"),
            headers=auth(key),
        )
        assert r.status_code == 202
        assert marker not in client.get("/metrics").get_data(as_text=True)
    finally:
        svc.close()


def test_erasure_cli(services: Services) -> None:
    svc = _no_flood(services)
    try:
        site, key = create_site(svc, f"erase-cli-{uuid.uuid4().hex[:8]}")
        email = f"cli.{uuid.uuid4().hex}@example.com"
        client = _client(svc)
        assert (
            client.post(
                "/v1/comments", json=body(author_email=email), headers=auth(key)
            ).status_code
            == 202
        )
        out = subprocess.run(
            [sys.executable, "-m", "service.cli", "authors", "erase", "--site", site.slug, email],
            env=settings_env(svc.settings),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {"site": site.slug, "erased": 1}
        assert email not in out.stdout + out.stderr
    finally:
        svc.close()


def test_key_rotation_old_rows_readable_then_reencrypted(services: Services) -> None:
    old_keys = services.settings.email_keys
    assert old_keys is not None
    svc = _no_flood(services)
    try:
        _site, key = create_site(svc, f"rotate-{uuid.uuid4().hex[:8]}")
        email = f"rotate.{uuid.uuid4().hex}@example.com"
        r = _client(svc).post("/v1/comments", json=body(author_email=email), headers=auth(key))
        comment_id = r.get_json()["id"]
    finally:
        svc.close()
    new_key = generate_email_key()
    rotated_settings = services.settings.model_copy(
        update={"email_keys": SecretStr(f"{new_key},{old_keys.get_secret_value()}")}
    )
    rotated = build_services(rotated_settings)
    try:
        with rotated.storage.sessions() as s:
            token = s.scalar(select(Comment.author_email_encrypted).where(Comment.id == comment_id))
        assert token is not None and rotated.vault.decrypt(token) == email  # old row readable
        out = subprocess.run(
            [sys.executable, "-m", "service.cli", "keys", "rotate"],
            env=settings_env(rotated_settings),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["rotated"] >= 1
        assert email not in out.stdout + out.stderr
        with rotated.storage.sessions() as s:
            tokens = s.scalars(
                select(Comment.author_email_encrypted).where(
                    Comment.author_email_encrypted.is_not(None)
                )
            ).all()
            mine = s.scalar(select(Comment.author_email_encrypted).where(Comment.id == comment_id))
        new_only = Vault(new_key, "unused")
        assert all(new_only.decrypt(t) for t in tokens)  # every row: the old key can go
        assert mine is not None and new_only.decrypt(mine) == email
    finally:
        # Rotate back so the rest of the session (old key only) still reads every row.
        back = build_services(
            services.settings.model_copy(
                update={"email_keys": SecretStr(f"{old_keys.get_secret_value()},{new_key}")}
            )
        )
        rotate_email_keys(back)
        back.close()
        rotated.close()
