"""Questions to Celery's side of a running installation: broker reachable, workers answering, beat's lock.

The doctor asks all three; the web process's readiness check asks for the broker.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from typing import Any

import redis
from celery import Celery

from engagement.config import Settings
from engagement.diagnostics import DEFAULT_TIMEOUT_SECONDS, Check
from workers.app import QUEUES, is_redis

START_WORKER = (
    "start one with `engagement worker` on the same ENGAGEMENT_BROKER_URL, for every queue; "
    "a long queue delays the answer too"
)


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
    """A worker takes a ping task from every queue and answers within ``timeout`` seconds.

    The ping travels as a task (workers take no broadcast commands), so an answer proves a
    worker consumes that queue and runs its tasks. It answers on a reply queue of our own,
    removed afterwards; a ping nobody took in time expires unanswered.
    """
    reply_to = f"engagement.doctor.{secrets.token_hex(8)}"
    try:
        with app.connection_for_write() as connection:
            replies = connection.SimpleQueue(reply_to)
            try:
                for queue in QUEUES:
                    args = [reply_to, queue]
                    app.send_task("engagement.ping", args=args, queue=queue, expires=timeout, retry=False)
                answers = _answers(replies, timeout)
            finally:
                replies.queue.delete()
                replies.close()
    except Exception as exc:  # the broker went away since its own check: say so, never a trace
        return Check("worker", "fail", f"cannot ping the workers: {exc}", "is the broker reachable?")
    missing = [queue for queue in QUEUES if queue not in answers]
    if missing:
        detail = f"no worker took the ping from {', '.join(missing)} within {timeout:g} s"
        return Check("worker", "fail", detail, START_WORKER)
    workers = sorted(set(answers.values()))
    return Check("worker", "ok", f"{', '.join(workers)} answered the ping from {', '.join(QUEUES)}")


def _answers(replies: Any, timeout: float) -> dict[str, str]:
    """Queue → the worker that answered from it, as the answers come, until all did or time is up."""
    answers: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(answers) < len(QUEUES) and (left := deadline - time.monotonic()) > 0:
        try:
            message = replies.get(block=True, timeout=left)
        except replies.Empty:
            break
        message.ack()
        answers[str(message.payload["queue"])] = str(message.payload["worker"])
    return answers


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
