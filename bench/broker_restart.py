"""Broker restarts: does a worker outlive Redis killed and restarted empty, and still stop on SIGTERM?

    .venv/bin/python bench/broker_restart.py [--trials 5] [--pool threads|prefork] [--legacy]
        [--tasks 300] [--failing]

Each trial starts its own redis-server and an `engagement worker` (production settings, the
test PostgreSQL), queues a few hundred tasks (``--tasks``), kills Redis (SIGKILL, nothing saved), starts it
again empty, waits, then sends SIGTERM. It prints per trial whether the worker was still
alive, its exit status and how long the SIGTERM took (a hang is killed after 15 s).
``--legacy`` puts back the settings the worker had before (ack emulation on, a prefork
pool, gossip and mingle on, tasks cancelled on connection loss) to show the fault they caused.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailbench import free_port, scratch_database

from engagement.models import Base

LEGACY = """
from engagement.config import load_settings
from workers.app import make_celery
app = make_celery(load_settings())
app.conf.broker_transport_options = {**app.conf.broker_transport_options, "ack_emulation": True}
app.conf.worker_cancel_long_running_tasks_on_connection_loss = True
app.worker_main(["worker", "--loglevel=info", "--pool=prefork", "--concurrency=2"])
"""
QUEUE_TASKS = """
import sys
from engagement.config import load_settings
from workers.app import make_celery
app = make_celery(load_settings())
failing = sys.argv[2] == "failing"  # a digest of a site that does not exist raises, with a traceback
for _ in range(int(sys.argv[1])):
    if failing:
        app.send_task("engagement.digest", args=["no-such-site", "daily"], queue="digest")
    else:
        app.send_task("engagement.resume", queue="send")
"""


def start_redis(port: int) -> subprocess.Popen[bytes]:
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return process


def trial(pool: str, legacy: bool, folder: Path, database: str, tasks: int, failing: bool) -> str:
    port = free_port()
    inherited = os.environ  # noqa: TID251 -- a child process's environment, not settings
    env = {
        **inherited,
        "ENGAGEMENT_MODE": "production",
        "ENGAGEMENT_DATABASE_URL": database,
        "ENGAGEMENT_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "ENGAGEMENT_SMTP_URL": "smtp://127.0.0.1:9",
        "ENGAGEMENT_SECRET_KEY": "bench-" + "x" * 40,
        "ENGAGEMENT_DATA_DIR": str(folder),
    }
    command = [sys.executable, "-c", LEGACY] if legacy else [
        sys.executable, "-m", "engagement.cli", "worker", f"--pool={pool}", "--concurrency=2"]  # fmt: skip
    redis_server = start_redis(port)
    with (folder / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        time.sleep(6)
        queue = [sys.executable, "-c", QUEUE_TASKS, str(tasks), "failing" if failing else "succeeding"]
        subprocess.run(queue, env=env, check=False, capture_output=True)  # Redis dies under this backlog
        redis_server.kill()  # SIGKILL: nothing saved, it comes back empty
        redis_server.wait()
        time.sleep(2)
        redis_server = start_redis(port)
        time.sleep(8)
        if worker.poll() is not None:
            return f"exited by itself, status {worker.returncode}"
        began = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        try:
            status = worker.wait(15)
        except subprocess.TimeoutExpired:
            return "alive; HUNG on SIGTERM (killed after 15 s)"
        return f"alive; SIGTERM: status {status} in {time.monotonic() - began:.1f} s"
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        redis_server.kill()
        redis_server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--pool", choices=["threads", "prefork"], default="threads")
    parser.add_argument("--legacy", action="store_true")
    parser.add_argument("--tasks", type=int, default=300, help="tasks queued just before Redis dies")
    parser.add_argument("--failing", action="store_true", help="tasks that raise, instead of quick ones")
    args = parser.parse_args()
    label = "legacy settings, prefork" if args.legacy else f"{args.pool} pool"
    label += ", failing tasks" if args.failing else ""
    with tempfile.TemporaryDirectory() as scratch, scratch_database("postgresql", Path(scratch)) as url:
        engine = sa.create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        for number in range(1, args.trials + 1):
            with tempfile.TemporaryDirectory() as folder:
                outcome = trial(args.pool, args.legacy, Path(folder), url, args.tasks, args.failing)
                print(f"{label}, trial {number}: {outcome}", flush=True)


if __name__ == "__main__":
    main()
