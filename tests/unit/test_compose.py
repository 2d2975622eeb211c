"""docker-compose.yml and .dockerignore, checked without a Docker engine: the file against the
Compose specification's JSON schema (vendored by check-jsonschema), and the choices it must
keep (one image built once, healthchecks, a lean build context)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def _services() -> dict[str, Any]:
    doc = YAML(typ="safe").load(COMPOSE.read_text())
    services: dict[str, Any] = doc["services"]
    return services


def test_compose_file_follows_the_compose_spec() -> None:
    schema = ["--builtin-schema", "vendor.compose-spec"]
    out = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_app_image_is_built_once_and_reused() -> None:
    services = _services()
    app = {name: s for name, s in services.items() if s.get("image") == "commentmod:latest"}
    assert set(app) == {"migrate", "web", "worker", "scheduler"}
    builders = [name for name, s in app.items() if "build" in s]
    assert builders == ["web"]
    for name, service in app.items():
        if name != "web":
            assert service.get("pull_policy") == "never", name


def test_every_long_running_service_has_a_healthcheck() -> None:
    services = _services()
    for name in ("postgres", "redis", "web", "worker", "scheduler"):
        assert services[name]["healthcheck"]["test"], name
    assert "workers.heartbeat" in services["worker"]["healthcheck"]["test"]
    assert "workers.heartbeat" in services["scheduler"]["healthcheck"]["test"]


def test_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "var", "*.env", ".env*", "__pycache__", ".pytest_cache"} <= ignored


def test_only_the_trainer_image_has_the_training_extra() -> None:
    services = _services()
    trainer = services["trainer"]
    assert trainer["build"]["args"]["EXTRAS"] == "train"
    assert trainer["image"] != services["web"]["image"]
    assert trainer["command"] == ["commentmod", "trainer"]
    assert "workers.heartbeat" in trainer["healthcheck"]["test"]
    assert "args" not in (
        services["web"]["build"] if isinstance(services["web"]["build"], dict) else {}
    )
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG EXTRAS=\n" in dockerfile and 'pip install ".${EXTRAS:+[$EXTRAS]}"' in dockerfile
