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
from mailbench import scratch_database

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


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, output) of one process run to its end."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    output = process.stdout.read().decode() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed:\n{output[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def ours(path: Path, database: str, folder: Path) -> tuple[int, float, float]:
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
        seconds, rss, _output = measure(command, env)
        with core.engine.connect() as conn:
            written = conn.execute(sa.text("SELECT count(*) FROM comments")).scalar_one()
        core.dispose()
    return written, seconds, rss


def isso(path: Path, folder: Path, isso_command: str) -> tuple[int, float, float]:
    db = folder / "isso.db"
    config = folder / "isso.cfg"
    config.write_text(f"[general]\ndbpath = {db}\nhost = https://news.example.org/\n")
    # --empty-id: Isso 0.14 tests an <id> element's truth, which is False for one without
    # children, so without it every thread counts as empty and nothing is imported.
    command = [isso_command, "-c", str(config), "import", "--type", "disqus", "--empty-id", str(path)]
    seconds, rss, _output = measure(command)
    with sqlite3.connect(db) as conn:
        written = conn.execute("SELECT count(*) FROM comments").fetchone()[0]
    return written, seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--message-bytes", type=int, default=120, help="length of each post's message")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--file", type=Path, help="reuse (or keep) the generated export at this path")
    parser.add_argument("--skip-isso", action="store_true")
    parser.add_argument("--isso", help="Isso's command (default: bench/isso-venv, made on first use)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        path = args.file or folder / "disqus.xml"
        if not path.exists():
            generate(path, args.comments, args.message_bytes)
        size = path.stat().st_size / 1e6
        print(f"file: {args.comments:,} comments, {size:,.0f} MB; database: {args.database}")
        (folder / "ours").mkdir()
        rows = [("engagement", *ours(path, args.database, folder / "ours"))]
        if not args.skip_isso:
            from web import ensure_isso

            rows.append(("isso 0.14 (SQLite)", *isso(path, folder, args.isso or str(ensure_isso()))))
        print("| importer | comments written | seconds | comments/s | peak RSS MB |")
        print("| --- | --- | --- | --- | --- |")
        for name, written, seconds, rss in rows:
            print(f"| {name} | {written:,} | {seconds:.1f} | {written / seconds:,.0f} | {rss:,.0f} |")
        if len(rows) == 2:
            print(f"rate ratio ours/isso: {rows[0][1] / rows[0][2] / (rows[1][1] / rows[1][2]):.2f}x")


if __name__ == "__main__":
    main()
