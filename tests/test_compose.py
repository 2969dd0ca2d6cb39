"""docker-compose.yml is valid for Compose and runs every process from the one image."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from required_services import missing_service
from widget_build import build_widget

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
    assert processes["worker"]["command"] == ["worker", "--metrics-port", "9100", "--metrics-host", "0.0.0.0"]
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


PROFILES = {"mailpit": ["dev"], "flower": ["ops"], "prometheus": ["ops"], "grafana": ["ops"]}


def test_tools_only_in_their_profiles(spec: dict):
    services = spec["services"]

    assert {name: s["profiles"] for name, s in services.items() if "profiles" in s} == PROFILES
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert services["flower"]["image"].startswith("mher/flower")
    assert services["prometheus"]["image"].startswith("prom/prometheus")
    assert services["grafana"]["image"].startswith("grafana/grafana")


@pytest.mark.parametrize("profile", ["dev", "ops"])
def test_compose_validates_with_each_profile(profile: str):
    # Flower's and Grafana's credentials are checked when they start, not here: a stack
    # without the ops profile must not need them.
    done = _compose("--profile", profile, "config", "-q", env={"ENGAGEMENT_SECRET_KEY": SECRET})

    assert done.returncode == 0, done.stderr


def test_the_ops_tools_listen_on_the_loopback_only(spec: dict):
    for name in ("flower", "prometheus", "grafana"):
        assert all(port.startswith("127.0.0.1:") for port in spec["services"][name]["ports"]), name


def _start_command(service: str, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a service's entrypoint and command as its container would, with its program faked.

    Compose turns ``$$`` into ``$``; the program the command execs is a script that records
    its arguments, so what runs here is the service's own guard and nothing else.
    """
    resolved = yaml.safe_load(
        _compose("--profile", "ops", "config", env={"ENGAGEMENT_SECRET_KEY": SECRET}).stdout
    )["services"][service]
    script = resolved["command"][0].replace("$$", "$")
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    for program in ("celery", "run.sh"):
        (fake / program).write_text(f'#!/bin/sh\necho "{program} $*" > "{tmp_path}/ran"\n')
        (fake / program).chmod(0o755)
    script = script.replace("exec /run.sh", f"exec {fake}/run.sh")
    return subprocess.run(
        [*resolved["entrypoint"], script],
        env={"PATH": f"{fake}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("service", "variable", "given"),
    [
        ("flower", "FLOWER_BASIC_AUTH", {"FLOWER_BASIC_AUTH": "admin:long-random-password"}),
        ("grafana", "GRAFANA_ADMIN_PASSWORD", {"GF_SECURITY_ADMIN_PASSWORD": "long-random-password"}),
    ],
)
def test_flower_and_grafana_refuse_to_start_without_credentials(service, variable, given, tmp_path: Path):
    refused = _start_command(service, tmp_path, {})
    assert refused.returncode == 1
    assert variable in refused.stderr
    assert not (tmp_path / "ran").exists()

    started = _start_command(service, tmp_path, given)
    assert started.returncode == 0, started.stderr
    assert (tmp_path / "ran").exists()


def test_flower_takes_its_credentials_from_the_environment(spec: dict):
    flower = spec["services"]["flower"]

    assert flower["environment"]["FLOWER_BASIC_AUTH"] == "${FLOWER_BASIC_AUTH:-}"
    assert "celery --broker=redis://redis:6379/0 flower" in flower["command"][0]
    assert "basic" not in flower["command"][0].split("flower", 1)[1]  # never on a command line


def test_prometheus_and_grafana_are_wired_to_the_metrics_and_the_dashboard(spec: dict):
    services = spec["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/engagement.yml").read_text())

    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["engagement-web"]["dns_sd_configs"][0]["names"] == ["web"]
    assert jobs["engagement-web"]["dns_sd_configs"][0]["port"] == 8000
    assert jobs["engagement-worker"]["dns_sd_configs"][0]["names"] == ["worker"]
    worker = services["worker"]["command"]
    assert jobs["engagement-worker"]["dns_sd_configs"][0]["port"] == int(
        worker[worker.index("--metrics-port") + 1]
    )
    assert "ports" not in services["worker"]  # reachable inside the compose network only
    for job in jobs.values():
        assert job["metrics_path"] == "/metrics"
        assert job["authorization"]["credentials_file"] == "/prometheus/metrics_token"
    assert "/prometheus/metrics_token" in prometheus["command"][0]

    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    assert (ROOT / "deploy/grafana/dashboards/engagement.json").is_file()


def test_only_web_is_checked_over_http_worker_and_beat_by_their_heartbeat(spec: dict):
    services = spec["services"]

    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("worker", "beat"):
        assert services[name]["healthcheck"]["test"][:4] == ["CMD", "engagement", "health", name]


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


def test_the_image_is_built_in_stages_and_checks_healthz():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    stages = [line for line in lines if line.startswith("FROM ")]
    widget = lines[lines.index(stages[0]) : lines.index(stages[1])]
    build = lines[lines.index(stages[1]) : lines.index(stages[2])]
    runtime = lines[lines.index(stages[-1]) :]

    assert stages == [
        "FROM node:20-slim AS widget",
        "FROM python:3.11-slim AS build",
        "FROM python:3.11-slim",
    ]
    # The widget's bundle is built from the locked esbuild, then packaged with the rest.
    assert "RUN npm ci --no-audit --no-fund" in widget
    assert "RUN npm run build" in widget
    bundle = "COPY --from=widget /src/engagement/web/static/widget.js engagement/web/static/widget.js"
    assert build.index(bundle) < next(
        i for i, line in enumerate(build) if line.startswith("RUN pip install --no-deps .")
    )
    assert not any(line.startswith("COPY --from=widget") for line in runtime)
    assert "COPY --from=build /opt/engagement /opt/engagement" in runtime
    assert not any("pip install" in line for line in runtime)  # the runtime stage builds nothing
    healthcheck = next(i for i, line in enumerate(runtime) if line.startswith("HEALTHCHECK"))
    assert "http://127.0.0.1:8000/healthz" in runtime[healthcheck + 1]
    assert healthcheck < next(i for i, line in enumerate(runtime) if line.startswith("ENTRYPOINT"))


def _build_context() -> list[str]:
    """The files ``docker build`` sends, by .dockerignore's rules: the last matching line wins,
    a line matches a path or any folder above it, and ``!`` lets a path back in."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()  # fmt: skip
    candidates = [*tracked, ".env", ".venv/bin/python", "data/engagement.db", "x/__pycache__/y.pyc"]
    return [path for path in candidates if _sent(path, patterns)]


def _sent(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    sent = True
    for pattern in patterns:
        negated, bare = pattern.startswith("!"), pattern.lstrip("!").rstrip("/")
        if bare.startswith("**/"):
            hit = any(fnmatch.fnmatchcase(part, bare[3:]) for part in parts)
        else:
            hit = any(fnmatch.fnmatchcase(prefix, bare) for prefix in prefixes)
        if hit:
            sent = negated
    return sent


def test_the_build_context_holds_what_the_image_needs_and_no_local_state(tmp_path: Path):
    sent = _build_context()
    context = tmp_path / "context"
    for path in sent:
        if (ROOT / path).is_file():
            (context / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, context / path)

    assert not [path for path in sent if path.startswith((".env", ".venv", "data/", "tests/", ".git"))]
    assert not [path for path in sent if "__pycache__" in path]
    assert not [
        path for path in sent if path.startswith("node_modules/") or path.endswith("static/widget.js")
    ]
    assert {"package.json", "package-lock.json", "widget/build.mjs", "widget/src/main.js"} <= set(sent)
    # The widget stage's build, from the context alone (with the checkout's `npm ci` for esbuild),
    # puts the bundle where the build stage's `COPY --from=widget` takes it.
    build_widget(context / "engagement" / "web" / "static" / "widget.js", root=context)
    # What the build stage's `pip install .` builds, from the context alone.
    build = subprocess.run(
        [sys.executable, "setup.py", "-q", "build", "--build-base", str(tmp_path / "build")],
        cwd=context, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    lib = tmp_path / "build" / "lib"
    assert (lib / "engagement" / "templates" / "emails" / "_base" / "body.html").is_file()
    assert list((lib / "engagement" / "migrations" / "versions").glob("*.py"))
    assert (lib / "engagement" / "web" / "static" / "widget.js").is_file()
    assert (lib / "workers" / "app.py").is_file()
