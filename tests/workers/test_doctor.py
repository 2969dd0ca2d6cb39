"""``engagement doctor`` against real services: PostgreSQL, Redis, aiosmtpd, worker and beat processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner, Result
from mailsink import MailSink, SinkHandler, free_port
from required_services import throwaway_pg_databases
from sqlalchemy.engine import make_url

from engagement import migrations
from engagement.cli import main
from engagement.config import load_settings
from engagement.diagnostics import check_heartbeats, check_outbox, check_smtp
from engagement.heartbeat import heartbeat_path, write_heartbeat
from engagement.outbox import COMMENT_PENDING

SECRET = "doctor-test-" + "x" * 40


def _doctor(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["doctor", "--timeout", "2", *args], env=env, catch_exceptions=False)


def _lines(result: Result) -> dict[str, str]:
    """Each check's name → its status word ("ok", "FAIL", "skip")."""
    found = {}
    for line in result.output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("ok", "FAIL", "skip"):
            found[parts[1]] = parts[0]
    return found


@pytest.fixture
def migrated_pg() -> str:
    """A PostgreSQL database of this test's own, brought to head by the migrations."""
    with throwaway_pg_databases("engagement_doctor") as make:
        url = make()
        migrations.upgrade(url)
        yield url


def _start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        argv = [sys.executable, "-m", "engagement.cli", command]
        if command == "worker":
            argv.append("--concurrency=1")
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_doctor_passes_against_the_real_services_and_names_smtp_when_the_relay_is_down(
    migrated_pg, own_redis, tmp_path
):
    database_url = make_url(migrated_pg)
    if database_url.password is None:  # trust authentication ignores it: it is there to be hidden
        database_url = database_url.set(password="hunter2")
    sink = MailSink().start()
    env = {
        "ENGAGEMENT_MODE": "production",
        "ENGAGEMENT_DATA_DIR": str(tmp_path / "data"),
        "ENGAGEMENT_DATABASE_URL": database_url.render_as_string(hide_password=False),
        "ENGAGEMENT_BROKER_URL": own_redis.url,
        "ENGAGEMENT_SMTP_URL": sink.url,
        "ENGAGEMENT_SECRET_KEY": SECRET,
    }
    processes = []
    relay_up = True
    try:
        alone = _doctor(env)
        assert alone.exit_code == 1, alone.output
        assert _lines(alone) == {
            "settings": "ok",
            "database": "ok",
            "migrations": "ok",
            "broker": "ok",
            "smtp": "ok",
            "worker": "FAIL",
            "beat": "FAIL",
            "heartbeats": "skip",
            "outbox": "ok",
        }
        assert "engagement worker" in alone.output
        assert "engagement beat" in alone.output

        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEMENT_")}
        for command in ("worker", "beat"):
            processes.append(_start(command, {**inherited, **env}, tmp_path / f"{command}.log"))
        deadline = time.monotonic() + 90
        while (healthy := _doctor(env)).exit_code != 0 and time.monotonic() < deadline:
            assert all(p.poll() is None for p in processes), (tmp_path / "worker.log").read_text()
            time.sleep(0.5)
        assert healthy.exit_code == 0, healthy.output
        assert set(_lines(healthy).values()) == {"ok"}
        assert "all 9 checks passed" in healthy.output
        assert str(database_url.password) not in healthy.output
        assert ":***@" in healthy.output
        assert "EHLO" in healthy.output
        assert "answered the ping from relay, send, digest" in healthy.output
        beats = next(line for line in healthy.output.splitlines() if line.startswith("ok    heartbeats"))
        assert f"worker on {socket.gethostname()}" in beats
        assert f"beat on {socket.gethostname()}" in beats
        client = redis.Redis.from_url(own_redis.url)
        assert [key for key in client.scan_iter() if b"doctor" in key] == []  # the replies' queue went
        client.close()

        sink.stop()
        relay_up = False
        down = _doctor(env, "--timeout", "15")  # a slow machine must not fail the ping as well
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)
        if relay_up:
            sink.stop()

    assert down.exit_code == 1
    assert [name for name, status in _lines(down).items() if status != "ok"] == ["smtp"]
    smtp_line = next(line for line in down.output.splitlines() if line.startswith("FAIL  smtp"))
    assert f"127.0.0.1:{sink.port}" in smtp_line
    assert "hint: is the relay running" in smtp_line
    assert "1 of 9 checks failed" in down.output


def test_a_wrong_setting_fails_the_first_check_and_names_it(tmp_path):
    env = {"ENGAGEMENT_DATA_DIR": str(tmp_path), "ENGAGEMENT_NOTIFY_WINDOW_SECONDS": "soon"}

    result = _doctor(env)

    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("FAIL  settings")
    assert "ENGAGEMENT_NOTIFY_WINDOW_SECONDS" in result.output
    assert "1 of 1 checks failed" in result.output


def test_an_unmigrated_or_outdated_database_says_to_upgrade(tmp_path):
    env = {"ENGAGEMENT_DATA_DIR": str(tmp_path), "ENGAGEMENT_SECRET_KEY": SECRET}
    url = load_settings(data_dir=tmp_path, secret_key=SECRET).resolved_database_url

    missing = _doctor(env, "--timeout", "0.2")
    created = (tmp_path / "engagement.db").exists()
    migrations.upgrade(url, "0006")
    behind = _doctor(env, "--timeout", "0.2")

    assert _lines(missing)["database"] == "FAIL"
    assert _lines(missing)["migrations"] == "skip"
    assert "hint: run `engagement db upgrade`" in missing.output
    assert not created  # asking made no database
    assert _lines(behind)["database"] == "ok"
    line = next(line for line in behind.output.splitlines() if line.startswith("FAIL  migrations"))
    assert f"at revision 0006, behind {', '.join(migrations.heads())}" in line
    assert "engagement db upgrade" in line


def test_outbox_lag_fails_past_the_limit(core, clock):
    with core.uow() as uow:
        uow.add_event(COMMENT_PENDING, {"comment_id": 1})
        uow.add_event(COMMENT_PENDING, {"comment_id": 2})
        uow.commit()

    clock.advance(seconds=30)
    fresh = check_outbox(core.settings, max_lag=300, clock=clock)
    clock.advance(minutes=10)
    stale = check_outbox(core.settings, max_lag=300, clock=clock)

    assert fresh.status == "ok"
    assert fresh.detail == "2 events wait to be relayed, the oldest for 30 s"
    assert stale.failed
    assert "the oldest for 630 s (more than 300 s)" in stale.detail
    assert "worker and beat" in stale.hint


# -- the SMTP relay: EHLO, STARTTLS and AUTH as configured, and nothing sent ---------------------


def _authenticator(server, session, envelope, mechanism, auth_data):
    good = auth_data.login == b"mailer" and auth_data.password == b"s3cret"
    return AuthResult(success=good, handled=False)  # not handled: the server answers 535 itself


@pytest.fixture
def tls_files(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1 that this process's TLS clients trust."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


def _relay(**options) -> tuple[Controller, SinkHandler, int]:
    handler, port = SinkHandler(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, handler, port


def _smtp_check(url: str, tmp_path):
    return check_smtp(load_settings(data_dir=tmp_path, secret_key=SECRET, smtp_url=url), timeout=5)


def test_smtp_starttls_and_auth_as_configured_send_nothing(tls_files, tmp_path):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    controller, handler, port = _relay(
        tls_context=context, require_starttls=True, authenticator=_authenticator
    )
    try:
        good = _smtp_check(f"smtp+starttls://mailer:s3cret@127.0.0.1:{port}", tmp_path)
        wrong = _smtp_check(f"smtp+starttls://mailer:guess@127.0.0.1:{port}", tmp_path)
        plain = _smtp_check(f"smtp://127.0.0.1:{port}", tmp_path)
    finally:
        controller.stop()

    assert good.status == "ok", good.detail
    assert good.detail == f"127.0.0.1:{port} answered EHLO, STARTTLS, AUTH; nothing sent"
    assert wrong.failed
    assert "login refused" in wrong.detail
    assert "user name and password" in wrong.hint
    assert plain.status == "ok"  # EHLO alone; STARTTLS is required for mail, not for a greeting
    assert handler.mail_commands == 0
    assert handler.received == []


def test_smtp_starttls_asked_of_a_relay_without_it(tmp_path):
    controller, _, port = _relay()
    try:
        check = _smtp_check(f"smtp+starttls://127.0.0.1:{port}", tmp_path)
    finally:
        controller.stop()

    assert check.failed
    assert "STARTTLS" in check.detail
    assert "STARTTLS" in check.hint


def test_smtp_relay_down_is_named(tmp_path):
    port = free_port()

    check = _smtp_check(f"smtp://127.0.0.1:{port}", tmp_path)

    assert check.failed
    assert check.name == "smtp"
    assert f"cannot connect to 127.0.0.1:{port}" in check.detail
    assert "is the relay running" in check.hint


def test_smtps_speaks_tls_from_the_first_byte(tls_files, tmp_path):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    # aiosmtpd counts only STARTTLS as TLS when it decides to offer AUTH: here all of it is TLS.
    controller, handler, port = _relay(
        ssl_context=context, authenticator=_authenticator, auth_require_tls=False
    )
    try:
        check = _smtp_check(f"smtps://mailer:s3cret@127.0.0.1:{port}", tmp_path)
    finally:
        controller.stop()

    assert check.status == "ok", check.detail
    assert check.detail == f"127.0.0.1:{port} answered EHLO, TLS, AUTH; nothing sent"
    assert handler.mail_commands == 0


def test_heartbeats_are_listed_with_their_ages_and_old_ones_counted(tmp_path):
    settings = load_settings(data_dir=tmp_path, secret_key=SECRET)
    none = check_heartbeats(settings)
    now = time.time()
    write_heartbeat(heartbeat_path(tmp_path, "worker", "w1"), now - 3)
    write_heartbeat(heartbeat_path(tmp_path, "beat", "b1"), now - 7)
    write_heartbeat(heartbeat_path(tmp_path, "worker", "gone"), now - 3600)  # a removed container's

    listed = check_heartbeats(settings)

    assert none.status == "skip"
    assert listed.status == "ok"
    assert listed.detail == "beat on b1 7 s ago, worker on w1 3 s ago; 1 older than 60 s (stopped or stuck)"


def test_an_unreachable_broker_is_named_without_its_password(tmp_path):
    from workers.probes import check_broker

    port = free_port()
    settings = load_settings(
        data_dir=tmp_path, secret_key=SECRET, broker_url=f"redis://:hunter2@127.0.0.1:{port}/0"
    )

    check = check_broker(settings, timeout=2)

    assert check.failed
    assert check.detail.startswith(f"redis://:***@127.0.0.1:{port}/0: ")
    assert "hunter2" not in check.detail
    assert "ENGAGEMENT_BROKER_URL" in check.hint
