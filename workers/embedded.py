"""The embedded mode's worker and beat, started beside the web server by ``engagement demo``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from engagement.config import Settings

STOP_TIMEOUT_SECONDS = 15.0


@dataclass
class EmbeddedWorkers:
    """A real Celery worker (threads pool) with beat inside it, in a child process."""

    process: subprocess.Popen[bytes]

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Warm shutdown (running tasks finish), then a hard stop if it takes too long.

        A hard stop is safe: every task is idempotent and every claim has a lease.
        """
        if not self.running:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_embedded(
    settings: Settings,
    *,
    concurrency: int = 2,
    beat: bool = True,
    quiet: bool = True,
    celery_args: Sequence[str] = (),
) -> EmbeddedWorkers:
    """Start the worker and beat for ``settings`` (its own process, stopped with ``.stop()``).

    The settings travel on the child's stdin, so the child uses exactly these (a data folder
    or database given only in code included). The child stops by itself if this process dies.
    """
    command = [
        sys.executable,
        "-m",
        "workers",
        "--settings-from-stdin",
        "--parent-pid",
        str(os.getpid()),
        f"--concurrency={concurrency}",
    ]
    if not beat:
        command.append("--no-beat")
    command += celery_args
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=output, stderr=output)  # noqa: S603 -- our own interpreter and module
    assert process.stdin is not None
    process.stdin.write(settings.model_dump_json().encode())
    process.stdin.close()
    return EmbeddedWorkers(process)
