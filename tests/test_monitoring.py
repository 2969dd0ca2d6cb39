"""The alert rules pass promtool's check and unit tests; rules and dashboard use only our metric names."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml
from required_services import missing_service

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "engagement.json"
OPERATIONS = ROOT / "docs" / "OPERATIONS.md"

# The names the processes expose (histograms add _bucket, _sum and _count).
METRICS = {
    "engagement_http_requests_total",
    "engagement_http_request_duration_seconds",
    "engagement_comments_posted_total",
    "engagement_reports_total",
    "engagement_outbox_pending",
    "engagement_outbox_lag_seconds",
    "engagement_deliveries_total",
    "engagement_delivery_skips_total",
    "engagement_smtp_send_duration_seconds",
    "engagement_broker_queue_length",
    "engagement_moderation_pending",
    "engagement_digest_run_sent",
    "engagement_build_info",
    "engagement_tasks_total",
    "engagement_task_duration_seconds",
}
ALERTS = {
    "EngagementOutboxLagging",
    "EngagementDeliveriesFailing",
    "EngagementQueueBacklog",
    "EngagementHighErrorRate",
    "EngagementTargetDown",
}
NAME = re.compile(r"\bengagement_[a-z_]+")


def _promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        missing_service("promtool", "install Debian's prometheus package (make bootstrap does)")
    return subprocess.run([tool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _base(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name.removesuffix(suffix) in METRICS:
            return name.removesuffix(suffix)
    return name


def test_promtool_accepts_the_rules():
    done = _promtool("check", "rules", "alerts.yml")

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in done.stdout


def test_the_rules_pass_their_unit_tests():
    done = _promtool("test", "rules", "alerts_test.yml")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_accepts_the_prometheus_config(tmp_path: Path):
    # The config names the container's paths: check a copy that points at this checkout.
    config = (PROMETHEUS / "prometheus.yml").read_text()
    (tmp_path / "metrics_token").write_text("")
    config = config.replace("/prometheus/metrics_token", str(tmp_path / "metrics_token"))
    config = config.replace("/etc/prometheus/", f"{PROMETHEUS}/")
    (tmp_path / "prometheus.yml").write_text(config)

    done = _promtool("check", "config", str(tmp_path / "prometheus.yml"), cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr


def test_each_alert_is_unit_tested_and_explained():
    rules = _rules()
    tests = (PROMETHEUS / "alerts_test.yml").read_text()
    headings = {
        line.lstrip("#").strip().lower()
        for line in OPERATIONS.read_text().splitlines()
        if line.startswith("#")
    }

    assert {rule["alert"] for rule in rules} == ALERTS
    for rule in rules:
        assert f"alertname: {rule['alert']}" in tests
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["runbook"] == f"docs/OPERATIONS.md#{rule['alert'].lower()}"
        assert rule["alert"].lower() in headings, f"explain {rule['alert']} in docs/OPERATIONS.md"


def test_the_rules_use_only_our_metrics():
    used = {_base(name) for rule in _rules() for name in NAME.findall(rule["expr"])}

    assert used <= METRICS


def test_the_dashboard_shows_every_metric_and_no_other():
    dashboard = json.loads(DASHBOARD.read_text())
    datasource = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    targets = [target for panel in panels for target in panel["targets"]]
    used = {_base(name) for target in targets for name in NAME.findall(target["expr"])}

    assert used == METRICS
    assert {panel["datasource"]["uid"] for panel in panels} == {datasource["uid"]}
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    assert dashboard["uid"] == "engagement"


def test_every_dashboard_query_is_valid_promql(tmp_path: Path):
    # promtool parses the expressions of rule files: the panels' queries go in as recording
    # rules, with Grafana's own variables given a value as Grafana would.
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [
        target["expr"].replace("$__rate_interval", "1m")
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]
    rules = [{"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(exprs)]
    (tmp_path / "queries.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))

    done = _promtool("check", "rules", "queries.yml", cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in done.stdout
