"""Resilience: takeover and recovery times under faults, from the fault tests' real processes.

    .venv/bin/python bench/resilience.py [--runs 3]

Runs tests/workers/test_resilience.py (its own redis-server, the test PostgreSQL, an aiosmtpd
sink, `engagement worker`, `beat` and `serve` subprocesses, nothing restarting them) and
prints, per fault, the figures each run measured: the time from a worker's SIGKILL to the
first mail another worker sent (lease 3 s), the duplicates, a SIGTERMed worker's exit and
the last mail of its batch, a beat's takeover after a SIGKILL (lock 15 s), and the first
mail of a comment posted while Redis was down, after Redis returned.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = "tests/workers/test_resilience.py"
FIGURE = re.compile(r"^FIGURE (?P<name>.+): (?P<value>[\d.]+) (?P<unit>\S+)$", re.MULTILINE)


def run_once() -> dict[str, tuple[float, str]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/workers/test_resilience.py",
            "-s",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the fault tests failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    return {m["name"]: (float(m["value"]), m["unit"]) for m in FIGURE.finditer(done.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    figures: dict[str, list[float]] = defaultdict(list)
    units: dict[str, str] = {}
    for run in range(1, runs + 1):
        for name, (value, unit) in run_once().items():
            figures[name].append(value)
            units[name] = unit
        print(f"run {run} of {runs} done", file=sys.stderr)
    print("| fault | per run | worst |")
    print("| --- | --- | ---: |")
    for name, values in figures.items():
        unit = units[name]
        each = ", ".join(f"{v:.1f}" for v in values)
        print(f"| {name} | {each} {unit} | {max(values):.1f} {unit} |")


if __name__ == "__main__":
    main()
