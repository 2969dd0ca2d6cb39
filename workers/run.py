"""Start a worker process: the arguments each mode needs, and ``python -m workers`` itself."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

from engagement.config import Settings, load_settings

PARENT_CHECK_SECONDS = 1.0


def worker_argv(settings: Settings, extra: list[str]) -> list[str]:
    """Celery's ``worker`` arguments: the embedded mode runs threads and beat in one process."""
    extra = list(extra)
    argv = ["worker", f"--loglevel={settings.log_level}"]
    if settings.embedded:
        if not any(a.startswith(("--pool", "-P")) for a in extra):
            argv.append("--pool=threads")
        if not any(a.startswith(("--concurrency", "-c")) for a in extra):
            argv.append("--concurrency=2")
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


def main(argv: list[str]) -> None:
    """``python -m workers [--settings-from-stdin] [--parent-pid PID] [CELERY WORKER ARGS…]``.

    With ``--settings-from-stdin`` the settings arrive as JSON on stdin (the embedded mode
    passes its own this way, secret included, without writing them anywhere).
    """
    from workers.app import make_celery

    overrides: dict[str, object] = {}
    if "--settings-from-stdin" in argv:
        argv.remove("--settings-from-stdin")
        overrides = json.loads(sys.stdin.read())
    if "--parent-pid" in argv:
        at = argv.index("--parent-pid")
        _watch_parent(int(argv[at + 1]))
        del argv[at : at + 2]
    settings = load_settings(**overrides)
    make_celery(settings).worker_main(worker_argv(settings, argv))
