"""Heartbeats: a long-running process proves it is working by touching a file under the data folder.

A worker writes one while it consumes from the broker, beat at each tick. ``engagement health
worker|beat`` reads it back, so a container's healthcheck sees a wedged process, not only a
dead one. The file is named after the host: each container of a scaled service has its own,
even on a shared data volume.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

KINDS = ("worker", "beat")
FOLDER = "heartbeats"


def heartbeat_path(data_dir: Path, kind: str, host: str | None = None) -> Path:
    """Where the ``kind`` process of this host (or ``host``) writes its heartbeat."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    return data_dir / FOLDER / f"{kind}-{host or socket.gethostname()}"


def write_heartbeat(path: Path, now: float | None = None) -> None:
    """Record ``now`` (the current time): written aside, then renamed, so a reader never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(f"{time.time() if now is None else now:.3f}\n")
    temporary.replace(path)


def heartbeat_age(path: Path, now: float | None = None) -> float | None:
    """Seconds since the last heartbeat at ``path``; None when there is none (or it is unreadable)."""
    try:
        written = float(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return max(0.0, (time.time() if now is None else now) - written)
