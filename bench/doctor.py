"""How long `engagement doctor` takes against real services, healthy and with parts down.

PostgreSQL (a scratch database, migrated), a Redis and an aiosmtpd of our own, a real
`engagement worker` and `engagement beat`; each doctor run is the installed command in a
process of its own, timed from start to exit (interpreter start and imports included).

    .venv/bin/python bench/doctor.py [--runs 5] [--timeout 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mailbench import Sink, own_redis, scratch_database

from engagement import migrations

ENGAGEMENT = str(Path(sys.executable).with_name("engagement"))


def _doctor(env: dict[str, str], timeout: float) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [ENGAGEMENT, "doctor", "--timeout", str(timeout)], env=env, capture_output=True, timeout=120
    )
    return time.perf_counter() - started, done.returncode


def _series(label: str, env: dict[str, str], runs: int, timeout: float) -> None:
    times, codes = zip(*(_doctor(env, timeout) for _ in range(runs)), strict=True)
    print(
        f"{label:<32} exit {sorted(set(codes))}  p50 {statistics.median(times):5.2f} s"
        f"  min {min(times):5.2f} s  max {max(times):5.2f} s  ({runs} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        own_redis() as broker,
        scratch_database("postgresql", Path(folder)) as url,
    ):
        migrations.upgrade(url)
        sink = Sink()
        settings = {
            "ENGAGEMENT_MODE": "production",
            "ENGAGEMENT_DATA_DIR": str(Path(folder) / "data"),
            "ENGAGEMENT_DATABASE_URL": url,
            "ENGAGEMENT_BROKER_URL": broker,
            "ENGAGEMENT_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            "ENGAGEMENT_SECRET_KEY": "bench-" + "x" * 40,
        }
        inherited = os.environ  # noqa: TID251 -- the children's environment, not settings
        env = {k: v for k, v in inherited.items() if not k.startswith("ENGAGEMENT_")} | settings
        processes = [
            subprocess.Popen(
                [ENGAGEMENT, command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for command in ("worker", "beat")
        ]
        try:
            deadline = time.monotonic() + 90
            while _doctor(env, args.timeout)[1] != 0:
                if time.monotonic() > deadline:
                    sys.exit("the doctor never passed: are PostgreSQL and redis-server there?")
            started = time.perf_counter()
            subprocess.run([ENGAGEMENT, "--version"], env=env, capture_output=True, check=True)
            print(f"{'baseline: engagement --version':<32} {time.perf_counter() - started:5.2f} s")
            _series("healthy", env, args.runs, args.timeout)
            sink.stop()
            _series("SMTP relay down", env, args.runs, args.timeout)
            processes[0].terminate()
            processes[0].wait(30)
            _series("SMTP relay and worker down", env, args.runs, args.timeout)
        finally:
            for process in processes:
                process.terminate()
                process.wait(30)


if __name__ == "__main__":
    main()
