"""Import speed and memory: our Disqus importer against Isso's own, on the same generated file.

    .venv/bin/python bench/imports.py --comments 100000 --database sqlite
    .venv/bin/python bench/imports.py --comments 100000 --database postgresql --skip-isso
    .venv/bin/python bench/imports.py --comments 1000000 --message-bytes 330 --database sqlite

Each importer runs as its own process on an empty database; its peak RSS is the kernel's
``ru_maxrss`` for that process. Isso runs from its own virtual environment (``bench/web.py``
makes it on first use, or give ``--isso``). Rates count the comments each one wrote.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from mailbench import cpu_seconds, peak_rss_mb, scratch_database

HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE.parent / "tests"))  # after bench/: tests/web must not shadow web.py

from import_samples import Post, Thread, write_disqus  # noqa: E402

from engagement import migrations  # noqa: E402
from engagement.config import load_settings  # noqa: E402
from engagement.core import build_core  # noqa: E402
from engagement.services.sites import SiteChanges, add_site  # noqa: E402

ENGAGEMENT = Path(sys.executable).with_name("engagement")
SECRET = "bench-secret-" + "x" * 32
COMMENTS_PER_THREAD = 40
REPLY_SHARE = 3  # one post in three answers an earlier post of its thread
WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do"]


def generate(path: Path, comments: int, message_bytes: int) -> None:
    """A Disqus export of ``comments`` posts, threads written after the posts."""
    threads = max(1, comments // COMMENTS_PER_THREAD)
    text = (" ".join(WORDS) + " ") * (message_bytes // 60 + 1)

    def posts() -> Iterator[Post]:
        for n in range(comments):
            parent = str(n - threads) if n >= threads and n % REPLY_SHARE == 0 else None
            body = f"<p>Comment {n}: {text[: message_bytes - 20]}</p>"
            stamp = f"20{10 + n % 10}-0{1 + n % 9}-1{n % 10}T1{n % 10}:2{n % 10}:3{n % 10}Z"
            yield Post(
                str(n + 1_000_000),
                str(n % threads + 1),
                body,
                stamp,
                f"Reader {n % 977}",
                f"reader{n % 977}@example.org",
                str(int(parent) + 1_000_000) if parent else None,
            )

    thread_list = (
        Thread(str(t + 1), f"https://news.example.org/{t}/article", f"Article {t}", f"article-{t}")
        for t in range(threads)
    )
    with path.open("w", encoding="utf-8") as out:
        write_disqus(out, thread_list, posts(), threads_first=False)


def measure(
    command: list[str], env: dict[str, str] | None = None, limit: float = 0
) -> tuple[float, float, bool]:
    """(seconds, peak RSS in MB, stopped at ``limit``) of one process, run to its end or its limit."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        seconds = time.perf_counter() - start
        if pid:
            break
        if limit and seconds > limit:
            peak, cpu = peak_rss_mb(process.pid), cpu_seconds(process.pid)
            process.kill()
            process.wait()
            return seconds, cpu, peak, True
        time.sleep(0.2)
    errors = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed:\n{errors[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, False


def ours(path: Path, database: str, folder: Path) -> tuple[int, float, float, float, bool]:
    with scratch_database(database, folder) as url:
        migrations.upgrade(url)
        settings = load_settings(
            data_dir=folder, database_url=url, secret_key=SECRET, rate_limits_enabled=False
        )
        core = build_core(settings)
        add_site(core.uow(), "bench", SiteChanges(name="Bench", origins=["https://news.example.org"]))
        # The child process reads its settings from the environment, as a publisher's shell would.
        env = {
            **os.environ,  # noqa: TID251
            "ENGAGEMENT_DATABASE_URL": url,
            "ENGAGEMENT_SECRET_KEY": SECRET,
            "ENGAGEMENT_DATA_DIR": str(folder),
        }
        command = [str(ENGAGEMENT), "import", "disqus", str(path), "--site", "bench"]
        seconds, cpu, rss, _stopped = measure(command, env)
        with core.engine.connect() as conn:
            written = conn.execute(sa.text("SELECT count(*) FROM comments")).scalar_one()
        core.dispose()
    return written, seconds, cpu, rss, False


def isso(path: Path, folder: Path, isso_command: str, limit: float) -> tuple[int, float, float, float, bool]:
    db = folder / "isso.db"
    config = folder / "isso.cfg"
    config.write_text(f"[general]\ndbpath = {db}\nhost = https://news.example.org/\n")
    # --empty-id: Isso 0.14 tests an <id> element's truth, which is False for one without
    # children, so without it every thread counts as empty and nothing is imported.
    command = [isso_command, "-c", str(config), "import", "--type", "disqus", "--empty-id", str(path)]
    seconds, cpu, rss, stopped = measure(command, limit=limit)
    written = 0
    if db.exists():
        with sqlite3.connect(db) as conn:
            written = conn.execute("SELECT count(*) FROM comments").fetchone()[0]
    return written, seconds, cpu, rss, stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--message-bytes", type=int, default=120, help="length of each post's message")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--file", type=Path, help="reuse (or keep) the generated export at this path")
    parser.add_argument("--skip-isso", action="store_true")
    parser.add_argument("--skip-ours", action="store_true", help="measure Isso alone (its 1M run is long)")
    parser.add_argument("--isso", help="Isso's command (default: bench/isso-venv, made on first use)")
    parser.add_argument("--isso-limit", type=float, default=0, help="stop Isso after this many seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        path = args.file or folder / "disqus.xml"
        if not path.exists():
            generate(path, args.comments, args.message_bytes)
        size = path.stat().st_size / 1e6
        print(f"file: {args.comments:,} comments, {size:,.0f} MB; database: {args.database}")
        (folder / "ours").mkdir()
        rows = [] if args.skip_ours else [("engagement", *ours(path, args.database, folder / "ours"))]
        if not args.skip_isso:
            from web import ensure_isso

            command = args.isso or str(ensure_isso())
            rows.append(("isso 0.14 (SQLite)", *isso(path, folder, command, args.isso_limit)))
        print(
            "| importer | comments written | seconds | comments/s | CPU seconds | per CPU second"
            " | peak RSS MB |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, written, seconds, cpu, rss, stopped in rows:
            note = " (stopped at the limit)" if stopped else ""
            print(
                f"| {name}{note} | {written:,} | {seconds:.1f} | {written / seconds:,.0f} | {cpu:.1f} "
                f"| {written / cpu:,.0f} | {rss:,.0f} |"
            )
        if len(rows) == 2 and rows[1][1]:  # ours and Isso's
            print(f"rate ratio ours/isso: {rows[0][1] / rows[0][2] / (rows[1][1] / rows[1][2]):.1f}x")


if __name__ == "__main__":
    main()
