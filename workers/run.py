"""Start a worker process: the arguments each mode needs, and ``python -m workers`` itself."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

from celery import signals

from engagement.config import Settings, load_settings

PARENT_CHECK_SECONDS = 1.0
CONCURRENCY = 4  # threads: a big send batch leaves room for relays, flushes and sweeps
EMBEDDED_CONCURRENCY = 2


def worker_argv(settings: Settings, extra: list[str]) -> list[str]:
    """Celery's ``worker`` arguments: a threads pool; the embedded mode runs beat in it too.

    Threads, not prefork, unless ``--pool`` says otherwise: the tasks wait on SMTP and the
    database, and a prefork pool that lived through a broker reconnect can hang at its warm
    shutdown (its result pipes out of step), which would stall every deploy. Workers neither
    gossip nor ask each other for state at start: they share nothing but the queues and the
    database.
    """
    extra = list(extra)
    argv = ["worker", f"--loglevel={settings.log_level}", "--without-gossip", "--without-mingle"]
    if not any(a.startswith(("--pool", "-P")) for a in extra):
        argv.append("--pool=threads")
    if not any(a.startswith(("--concurrency", "-c")) for a in extra):
        argv.append(f"--concurrency={EMBEDDED_CONCURRENCY if settings.embedded else CONCURRENCY}")
    if settings.embedded:
        if "--no-beat" in extra:
            extra.remove("--no-beat")
        elif not any(a in ("-B", "--beat") for a in extra):
            argv.append("--beat")
    return argv + extra


def _watch_parent(parent_pid: int) -> None:
    """Stop (warm) when the process that started us is gone, so no worker is left orphaned."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_worker(settings: Settings, argv: list[str]) -> None:
    """Run a worker until it is told to stop (SIGTERM, SIGINT), then exit 0.

    A worker that stops without being told to (Celery gave up after an unrecoverable error,
    which it may report with status 0) exits 1 with a line saying so, so that a supervisor
    restarting on failure restarts it.
    """
    from workers.app import make_celery

    started = threading.Event()
    asked = threading.Event()
    signals.worker_init.connect(lambda **_: started.set(), weak=False)
    signals.worker_shutting_down.connect(lambda **_: asked.set(), weak=False)
    code: int | str | None = 0
    try:
        make_celery(settings).worker_main(worker_argv(settings, argv))
    except SystemExit as exc:
        code = exc.code
    if started.is_set() and not asked.is_set():
        print(
            f"engagement worker: stopped without being told to (status {code}); see the log above",
            file=sys.stderr,
        )
        sys.exit(code if isinstance(code, int) and code else 1)
    sys.exit(code)


def main(argv: list[str]) -> None:
    """``python -m workers [--settings-from-stdin] [--parent-pid PID] [CELERY WORKER ARGS…]``.

    With ``--settings-from-stdin`` the settings arrive as JSON on stdin (the embedded mode
    passes its own this way, secret included, without writing them anywhere).
    """
    overrides: dict[str, object] = {}
    if "--settings-from-stdin" in argv:
        argv.remove("--settings-from-stdin")
        overrides = json.loads(sys.stdin.read())
    if "--parent-pid" in argv:
        at = argv.index("--parent-pid")
        _watch_parent(int(argv[at + 1]))
        del argv[at : at + 2]
    run_worker(load_settings(**overrides), argv)
