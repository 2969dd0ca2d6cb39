"""The doctor's checks that need no Celery: settings, database and schema, SMTP relay, outbox lag.

Each returns one ``Check``: what was looked at, whether it passed, what was seen and, when it
failed, a hint at the fix. Nothing is changed and no mail is sent. The broker, worker and
beat checks live beside Celery, in ``workers/probes.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from engagement import migrations
from engagement.clock import Clock, utcnow
from engagement.config import ConfigError, Settings
from engagement.db import make_engine
from engagement.heartbeat import FOLDER, KINDS, heartbeat_age
from engagement.mail.transport import SendError, SMTPTransport, transport_for
from engagement.outbox import unrelayed_backlog

DEFAULT_TIMEOUT_SECONDS = 5.0
# The sweep relays what a lost hand-off left behind every 30 s: five minutes means nothing relays.
DEFAULT_MAX_OUTBOX_LAG_SECONDS = 300.0
UPGRADE_HINT = "run `engagement db upgrade`"
# Workers write theirs every 5 s and beat at each tick: a minute without one is a process gone.
HEARTBEAT_MAX_AGE_SECONDS = 60.0


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Literal["ok", "fail", "skip"]
    detail: str
    hint: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "fail"


def check_settings(load: Callable[[], Settings]) -> tuple[Check, Settings | None]:
    """Load the settings as every process does; a wrong one names its variable."""
    try:
        settings = load()
    except ConfigError as exc:
        return Check("settings", "fail", str(exc), "fix that variable (the README lists them)"), None
    return Check("settings", "ok", f"{settings.mode} mode, base URL {settings.base_url}"), settings


def check_database(settings: Settings, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> list[Check]:
    """The database answers, and its schema is the one this version's migrations end at."""
    url = settings.resolved_database_url
    shown = make_url(url).render_as_string(hide_password=True)
    path = migrations.sqlite_path(url)
    if path is not None and not path.exists():
        missing = Check("database", "fail", f"no database file at {path}", UPGRADE_HINT)
        return [missing, Check("migrations", "skip", "no database")]
    engine = _engine(url, timeout)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            now = migrations.revisions_of(connection)
    except sa.exc.SQLAlchemyError as exc:
        first = str(exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc).strip().splitlines()[0]
        hint = "is the server running, and is ENGAGEMENT_DATABASE_URL right?"
        down = Check("database", "fail", f"{shown}: {first}", hint)
        return [down, Check("migrations", "skip", "no database")]
    finally:
        engine.dispose()
    return [Check("database", "ok", f"{shown} answers"), _schema(now)]


def _schema(now: tuple[str, ...]) -> Check:
    heads = migrations.heads()
    at = ", ".join(now)
    if set(now) == set(heads):
        return Check("migrations", "ok", f"at revision {at}, the latest")
    if not now:
        return Check("migrations", "fail", "the database was never migrated", UPGRADE_HINT)
    if set(now) - migrations.known_revisions():
        hint = "run the version that migrated it, or restore a backup taken before"
        return Check("migrations", "fail", f"at revision {at}, which this version does not know", hint)
    return Check("migrations", "fail", f"at revision {at}, behind {', '.join(heads)}", UPGRADE_HINT)


def check_smtp(settings: Settings, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Check:
    """The relay answers EHLO and accepts STARTTLS and AUTH as configured; nothing is sent."""
    transport = transport_for(settings)
    if isinstance(transport, SMTPTransport):
        transport = dataclasses.replace(transport, timeout=timeout)
    try:
        return Check("smtp", "ok", transport.verify())
    except SendError as exc:
        return Check("smtp", "fail", str(exc), _smtp_hint(str(exc)))


def _smtp_hint(error: str) -> str:
    lowered = error.lower()
    if "login refused" in lowered:
        return "check the user name and password in ENGAGEMENT_SMTP_URL (URL-encode '@' and ':')"
    if "starttls" in lowered:
        return (
            "the relay offers no STARTTLS: use smtps:// if it speaks TLS on connect, "
            "smtp:// only on a trusted network"
        )
    if "auth" in lowered:
        return "the relay offers no AUTH here: leave the user and password out, or use its submission port"
    if "certificate" in lowered:
        return "the relay's TLS certificate is not trusted here: check its name and chain"
    if "cannot write" in lowered:
        return "make the mail folder writable, or set ENGAGEMENT_SMTP_URL to a relay"
    return "is the relay running and reachable from here? ENGAGEMENT_SMTP_URL names it"


def check_outbox(
    settings: Settings,
    max_lag: float = DEFAULT_MAX_OUTBOX_LAG_SECONDS,
    clock: Clock = utcnow,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Check:
    """No event waits for the relay longer than ``max_lag`` seconds."""
    engine = _engine(settings.resolved_database_url, timeout)
    try:
        with Session(engine) as session:
            backlog = unrelayed_backlog(session)
    except sa.exc.SQLAlchemyError as exc:
        return Check("outbox", "fail", str(exc).splitlines()[0], UPGRADE_HINT)
    finally:
        engine.dispose()
    lag = backlog.lag_seconds(clock())
    if not backlog.pending:
        return Check("outbox", "ok", "no event waits to be relayed")
    seen = f"{backlog.pending} events wait to be relayed, the oldest for {lag:.0f} s"
    if lag > max_lag:
        hint = "are a worker and beat running? Beat's sweep relays what waits every 30 s"
        return Check("outbox", "fail", f"{seen} (more than {max_lag:.0f} s)", hint)
    return Check("outbox", "ok", seen)


def check_heartbeats(settings: Settings, max_age: float = HEARTBEAT_MAX_AGE_SECONDS) -> Check:
    """The heartbeats workers and beat write under the data folder, each with its age.

    Informative only: a stopped container's file stays behind (a new one has a new host
    name), so an old heartbeat is counted, not failed; the ping and the lock say whether
    the processes work.
    """
    folder = settings.data_dir / FOLDER
    files = sorted(folder.glob("*-*")) if folder.is_dir() else []
    fresh, old = [], 0
    for path in files:
        kind, _, host = path.name.partition("-")
        age = heartbeat_age(path)
        if kind not in KINDS or age is None:
            continue
        if age <= max_age:
            fresh.append(f"{kind} on {host} {age:.0f} s ago")
        else:
            old += 1
    if not fresh and not old:
        return Check("heartbeats", "skip", f"none in {folder} (the processes keep theirs on their host)")
    stale = f"{old} older than {max_age:.0f} s (stopped or stuck)" if old else ""
    return Check("heartbeats", "ok", "; ".join(part for part in (", ".join(fresh), stale) if part))


def _engine(url: str, timeout: float) -> sa.Engine:
    if make_url(url).get_backend_name() == "postgresql":
        return make_engine(url, poolclass=NullPool, connect_args={"connect_timeout": max(1, round(timeout))})
    return make_engine(url, poolclass=NullPool)
