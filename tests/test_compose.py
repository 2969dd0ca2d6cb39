"""docker-compose.yml is valid for Compose and runs every process from the one image."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from required_services import missing_service

from engagement.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SECRET = "compose-test-" + "k" * 40


def _compose(*args: str, file: Path = COMPOSE_FILE, env: dict[str, str] | None = None):
    tool = shutil.which("docker-compose")
    if tool is None:
        missing_service("docker-compose", "install Debian's docker-compose package (make bootstrap does)")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ENGAGEMENT_", "POSTGRES_"))}
    environment.update(env or {})
    return subprocess.run(
        [tool, "-f", str(file), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment,
    )


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_compose_validates():
    done = _compose("config", "-q", env={"ENGAGEMENT_SECRET_KEY": SECRET})

    assert done.returncode == 0, done.stderr


def test_compose_refuses_to_start_without_a_secret():
    done = _compose("config", "-q")

    assert done.returncode != 0
    assert "ENGAGEMENT_SECRET_KEY" in done.stderr


def test_the_validator_catches_a_bad_key(tmp_path: Path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("    healthcheck:\n", "    healthcheque:\n", 1))

    done = _compose("config", "-q", file=broken, env={"ENGAGEMENT_SECRET_KEY": SECRET})

    assert done.returncode != 0


def test_no_top_level_name(spec: dict):
    # Compose v1 rejects it, and a project name belongs to whoever runs the stack.
    assert "name" not in spec


def test_every_process_runs_from_one_image(spec: dict):
    services = spec["services"]
    processes = {name: services[name] for name in ("migrate", "web", "worker", "beat")}

    assert {(s["build"], s["image"]) for s in processes.values()} == {(".", "engagement:latest")}
    assert processes["migrate"]["command"] == ["db", "upgrade"]
    assert processes["migrate"]["restart"] == "no"
    assert processes["web"]["command"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert processes["worker"]["command"] == ["worker"]
    assert processes["beat"]["command"] == ["beat"]
    for name in ("web", "worker", "beat"):
        assert processes[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_backing_services_have_health_checks(spec: dict):
    services = spec["services"]

    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_mailpit_only_in_the_dev_profile(spec: dict):
    services = spec["services"]

    assert services["mailpit"]["profiles"] == ["dev"]
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert all("profiles" not in s for name, s in services.items() if name != "mailpit")


def test_every_variable_is_a_real_setting(spec: dict):
    known = {f"ENGAGEMENT_{name.upper()}" for name in Settings.model_fields}
    given = set(spec["services"]["web"]["environment"])

    assert given <= known
    assert {"ENGAGEMENT_MODE", "ENGAGEMENT_DATABASE_URL", "ENGAGEMENT_BROKER_URL"} <= given
    assert {"ENGAGEMENT_SMTP_URL", "ENGAGEMENT_SECRET_KEY", "ENGAGEMENT_BASE_URL"} <= given
    assert spec["services"]["web"]["environment"]["ENGAGEMENT_MODE"] == "production"


def test_the_image_runs_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users
    assert users[-1] not in ("root", "0")
