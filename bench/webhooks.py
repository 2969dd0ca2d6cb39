"""One comment fanned out to 1,000 webhook endpoints on a local receiver, against a bare httpx loop.

    .venv/bin/python bench/webhooks.py [--endpoints 1000] [--rounds 3] [--database postgresql|sqlite]

The receiver is uvicorn in a process of its own on 127.0.0.1 (answers 204, counts every
webhook-id). Each round, in turns: a bare loop (one httpx client, one POST after the other,
the same body size), then ours: a comment posted, its event relayed (1,000 delivery rows
planned in one transaction) and the rows sent by ``send_webhooks`` in the tasks' batches of
200, signed, each outcome recorded in the database. Prints deliveries per second for both,
the ratio (goal ≥ 0.8), whether any webhook-id reached the receiver twice, and ours' CPU per
delivery split by phase: plan (the relay), claim, send (the client's event loop thread),
record (the rest of the sending thread: marks, counts, streaks).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
from mailbench import scratch_database

from engagement.config import load_settings
from engagement.core import build_core
from engagement.models import Base
from engagement.services.delivery.relay import relay_events
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.sites import SiteChanges, add_site
from engagement.services.webhooks import sending
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.endpoints import add_endpoint
from engagement.services.webhooks.sending import WebhookSender, send_webhooks
from workers.tasks import WEBHOOK_BATCH

RECEIVER = """
import sys, json, uvicorn
seen = {}
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "GET":
        body = json.dumps({"total": sum(seen.values()), "distinct": len(seen),
                           "duplicates": sum(1 for n in seen.values() if n > 1)}).encode()
        json_type = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": json_type})
        await send({"type": "http.response.body", "body": body})
        return
    headers = dict(scope["headers"])
    key = headers.get(b"webhook-id")
    if key is not None:
        seen[key] = seen.get(key, 0) + 1
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare_loop(base: str, count: int, body: bytes) -> tuple[float, float]:
    """Deliveries per second of one httpx client posting one after the other, and its CPU ms each."""
    with httpx.Client(trust_env=False) as client:
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(count):
            client.post(f"{base}/bare/{i}", content=body, headers={"content-type": "application/json"})
        return count / (time.perf_counter() - started), (time.process_time() - cpu) * 1000 / count


class Phases:
    """CPU seconds per phase of ours: each thread's own clock, so the phases do not overlap."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        claim = sending.claim

        def timed_claim(*args, **kwargs):
            started = time.thread_time()
            try:
                return claim(*args, **kwargs)
            finally:
                self.spent["claim"] += time.thread_time() - started

        sending.claim = timed_claim  # type: ignore[assignment]

    def loop_seconds(self) -> float:
        (loop,) = [t for t in threading.enumerate() if t.name == "webhooks"]
        return time.clock_gettime(time.pthread_getcpuclockid(loop.ident))

    def send(self, *args, **kwargs):
        """send_webhooks, its thread's time less the claims' counted as "record"."""
        started, claimed = time.thread_time(), self.spent["claim"]
        try:
            return send_webhooks(*args, **kwargs)
        finally:
            self.spent["record"] += time.thread_time() - started - (self.spent["claim"] - claimed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    try:
        run(args, port)
    finally:
        receiver.terminate()
        receiver.wait(10)


def run(args: argparse.Namespace, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder, scratch_database(args.database, Path(folder)) as url:
        settings = load_settings(
            data_dir=Path(folder), database_url=url, secret_key="bench-" + "x" * 40,
            rate_limits_enabled=False, webhooks_allow_private=True, webhook_retry_seconds=0.5,
        )  # fmt: skip
        core = build_core(settings)
        Base.metadata.create_all(core.engine)
        for _ in range(100):
            try:
                httpx.get(base, trust_env=False)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        add_site(core.uow(), "bench", SiteChanges(name="Bench", origins=["https://bench.example.org"]))
        guard = AddressGuard(allow_private=True)
        print("receiver up; adding endpoints", flush=True)
        for i in range(args.endpoints):
            add_endpoint(core.uow(), guard, "bench", f"{base}/hook/{i}", ["comment.published"])
        sender = WebhookSender(settings)
        phases, by_phase = Phases(), defaultdict(list)
        bare, ours, ours_send, plan_ms, body_size = [], [], [], [], 0
        bare_cpu, ours_cpu, retries = [], [], 0
        for turn in range(args.rounds):
            posted = post_comment(
                core.uow(),
                PostComment(site="bench", page="https://bench.example.org/a", page_title="A page",
                            author_name="Jane", body=f"Round {turn}: a comment worth telling many tools."),
            )  # fmt: skip
            event_id = posted_event(core, posted.comment.id)
            phases.spent.clear()
            loop_cpu = phases.loop_seconds()
            started, cpu = time.perf_counter(), time.process_time()
            relayed = relay_events(core.uow(), [event_id], window_seconds=0)
            planned = time.perf_counter()
            phases.spent["plan"] = time.process_time() - cpu
            ids = relayed.webhooks
            assert len(ids) == args.endpoints, len(ids)
            sent, again = 0, []
            for start in range(0, len(ids), WEBHOOK_BATCH):
                report = phases.send(core.uow(), sender, ids[start : start + WEBHOOK_BATCH])
                sent, again = sent + report.sent, again + report.retry_ids
            while again:  # a timeout or a refused connection on a loaded machine: the retry path, timed too
                retries += len(again)
                time.sleep(settings.webhook_retry_seconds)
                report = phases.send(core.uow(), sender, again)
                sent, again = sent + report.sent, report.retry_ids
            finished = time.perf_counter()
            ours_cpu.append((time.process_time() - cpu) * 1000 / args.endpoints)
            phases.spent["send"] = phases.loop_seconds() - loop_cpu
            for name in ("plan", "claim", "send", "record"):
                by_phase[name].append(phases.spent[name] * 1000 / args.endpoints)
            by_phase["other"].append(
                ours_cpu[-1] - sum(by_phase[n][-1] for n in ("plan", "claim", "send", "record"))
            )
            assert sent == args.endpoints, sent
            plan_ms.append((planned - started) * 1000)
            ours.append(sent / (finished - started))
            ours_send.append(sent / (finished - planned))
            if not body_size:
                with core.engine.connect() as c:
                    body_size = len(
                        c.exec_driver_sql("SELECT body FROM webhook_deliveries LIMIT 1").scalar_one()
                    )
            rate, cost = bare_loop(base, args.endpoints, b"x" * body_size)
            bare.append(rate)
            bare_cpu.append(cost)
        sender.close()
        stats = httpx.get(base + "/stats", trust_env=False).json()
        core.dispose()
    b, o, s = statistics.median(bare), statistics.median(ours), statistics.median(ours_send)
    load = os.getloadavg()[0]
    print(f"database {args.database}, {args.endpoints} endpoints, {args.rounds} rounds, "
          f"concurrency {settings.webhook_concurrency}, body {body_size} B, load {load:.1f}")  # fmt: skip
    print(
        f"bare httpx loop:           {b:8.1f} deliveries/s  (rounds: {', '.join(f'{x:.0f}' for x in bare)})"
    )
    print(
        f"ours, relay + send:        {o:8.1f} deliveries/s  (rounds: {', '.join(f'{x:.0f}' for x in ours)})"
    )
    print(f"ours, send only:           {s:8.1f} deliveries/s  (planning {statistics.median(plan_ms):.0f} ms)")
    print(f"ratio (relay + send)/bare: {o / b:8.2f}   goal >= 0.8")
    bc, oc = statistics.median(bare_cpu), statistics.median(ours_cpu)
    print(f"client CPU per delivery:   bare {bc:.2f} ms, ours {oc:.2f} ms (relay, sign, send, record)")
    split = {name: statistics.median(values) for name, values in by_phase.items()}
    print("  ours by phase:           " + ", ".join(f"{name} {ms:.3f}" for name, ms in split.items()) + " ms")
    total, distinct, twice = stats["total"], stats["distinct"], stats["duplicates"]
    print(f"webhook-ids received: {total}, distinct {distinct}, duplicates {twice}; retries {retries}")
    print(
        json.dumps(
            {
                "bare": b,
                "ours": o,
                "ours_send": s,
                "ratio": o / b,
                "bare_cpu_ms": bc,
                "ours_cpu_ms": oc,
                "ours_cpu_ms_by_phase": split,
                **stats,
            }
        )
    )


def posted_event(core, comment_id: int) -> int:
    with core.engine.connect() as c:
        return int(
            c.exec_driver_sql(
                "SELECT max(id) FROM outbox_events WHERE kind = 'comment.published'"
            ).scalar_one()
        )


if __name__ == "__main__":
    main()
