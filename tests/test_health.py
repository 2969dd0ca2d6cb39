"""``engagement health worker|beat``: a process's heartbeat file, fresh, stale or missing."""

from __future__ import annotations

import time

from click.testing import CliRunner

from engagement.cli import main
from engagement.heartbeat import heartbeat_age, heartbeat_path, write_heartbeat


def _health(data_dir, *args: str):
    env = {"ENGAGEMENT_DATA_DIR": str(data_dir)}
    return CliRunner().invoke(main, ["health", *args], env=env, catch_exceptions=False)


def test_a_fresh_heartbeat_is_healthy_a_stale_or_missing_one_is_not(tmp_path):
    assert _health(tmp_path, "worker").exit_code == 1  # never written

    write_heartbeat(heartbeat_path(tmp_path, "worker"))
    fresh = _health(tmp_path, "worker")
    assert fresh.exit_code == 0, fresh.output
    assert "worker: alive" in fresh.output
    assert _health(tmp_path, "beat").exit_code == 1  # each kind its own file

    write_heartbeat(heartbeat_path(tmp_path, "beat"), now=time.time() - 90)
    stale = _health(tmp_path, "beat")
    assert stale.exit_code == 1
    assert "more than 30 s" in stale.output
    assert _health(tmp_path, "beat", "--max-age", "120").exit_code == 0


def test_a_bad_kind_or_age_is_a_usage_error(tmp_path):
    assert _health(tmp_path, "web").exit_code == 2
    assert _health(tmp_path, "worker", "--max-age", "0").exit_code == 2


def test_the_file_is_replaced_whole_and_named_after_the_host(tmp_path):
    path = heartbeat_path(tmp_path, "beat", host="beat-1")
    assert path.name == "beat-beat-1"
    write_heartbeat(path, now=1000.0)
    write_heartbeat(path, now=1010.0)
    assert heartbeat_age(path, now=1015.0) == 5.0
    assert [p.name for p in path.parent.iterdir()] == ["beat-beat-1"]  # no temporary left behind
