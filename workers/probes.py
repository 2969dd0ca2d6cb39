"""Questions to Celery's side of a running installation: broker reachable, workers answering, beat's lock.

The doctor asks all three; the web process's readiness check asks for the broker.
"""

from __future__ import annotations

import math
import os

import redis
from celery import Celery

from engagement.config import Settings
from engagement.diagnostics import DEFAULT_TIMEOUT_SECONDS, Check
from workers.app import is_redis

START_WORKER = "start one with `engagement worker`, on the same ENGAGEMENT_BROKER_URL"


def broker_problem(settings: Settings, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> str | None:
    """Why the broker cannot be reached, or None when it can."""
    url = settings.resolved_broker_url
    try:
        if is_redis(url):
            client = _redis(url, timeout)
            try:
                client.ping()
            finally:
                client.close()
        elif url.startswith("filesystem://"):
            # The serverless broker is a folder under the data folder: it must be writable.
            if not (settings.data_dir.is_dir() and os.access(settings.data_dir, os.W_OK)):
                return f"the data folder {settings.data_dir} is missing or not writable"
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=timeout) as conn:
                conn.ensure_connection(max_retries=1, timeout=math.ceil(timeout))
    except Exception as exc:  # whatever the transport raises, the broker is unreachable
        return str(exc).splitlines()[0] if str(exc) else repr(exc)
    return None


def check_broker(settings: Settings, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Check:
    problem = broker_problem(settings, timeout)
    shown = _shown(settings.resolved_broker_url)
    if problem is not None:
        hint = "is it running, and is ENGAGEMENT_BROKER_URL right?"
        return Check("broker", "fail", f"{shown}: {problem}", hint)
    return Check("broker", "ok", f"{shown} answers")


def check_workers(app: Celery, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Check:
    """At least one worker answers a ping on the broker within ``timeout`` seconds."""
    replies = app.control.ping(timeout=timeout) or []
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return Check("worker", "fail", f"no worker answered a ping within {timeout:g} s", START_WORKER)
    return Check("worker", "ok", f"{len(names)} answered a ping: {', '.join(names)}")


def check_beat(app: Celery, settings: Settings, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Check:
    """A beat holds RedBeat's lock in Redis (so the schedule runs, and once)."""
    url = settings.resolved_broker_url
    if url.startswith("filesystem://"):
        return Check("beat", "skip", "the embedded mode runs beat inside the worker")
    if not is_redis(url):
        return Check("beat", "skip", "beat keeps a lock with a Redis broker only: run exactly one beat")
    key = f"{app.conf.redbeat_key_prefix}:lock"  # RedBeat's own naming, as workers/app.py sets it
    client = _redis(app.conf.redbeat_redis_url, timeout)
    try:
        left = client.pttl(key)
    except redis.RedisError as exc:
        return Check("beat", "fail", f"cannot read beat's lock {key}: {exc}", "is Redis reachable?")
    finally:
        client.close()
    if left == -2:  # no such key: no beat holds it
        hint = "start one with `engagement beat` (a second one waits for the lock)"
        return Check("beat", "fail", f"no beat holds its lock ({key})", hint)
    return Check("beat", "ok", f"a beat holds its lock ({key}, renewed within {max(left, 0) / 1000:.0f} s)")


def _redis(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def _shown(url: str) -> str:
    """The URL without its password."""
    scheme, _, rest = url.partition("://")
    credentials, at, place = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{place}"
