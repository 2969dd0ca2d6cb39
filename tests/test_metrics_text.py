"""The multiprocess folder written by engagement/metrics_text.py reads as prometheus-client's own writer's."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from prometheus_client.parser import text_string_to_metric_families

# Run apart: multiprocess mode is for a whole process, from before its first metric.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from prometheus_client import generate_latest, multiprocess
    from engagement.metrics import enable_multiprocess, instruments
    from engagement.metrics_scrape import Scrape

    enable_multiprocess(Path(sys.argv[1]), "test")
    odd = ['/api/v1/x/{id}', 'quote " back \\\\ slash', 'new\\nline', 'ünïcode ✓']
    children = []
    for child in range(3):
        pid = os.fork()
        if pid == 0:
            m = instruments()
            for n, route in enumerate(odd):
                for status in ("200", "404")[: child + 1]:
                    m.http_requests.labels("GET", route, status).inc(n + child + 1)
                    seconds = 0.003 * (n + 1) * (child + 1)
                    m.http_request_duration.labels("GET", route, status).observe(seconds)
            m.smtp_send_duration.observe(0.2 * child)
            m.deliveries.labels("digest", "sent").inc(2)
            m.live_streams.inc(5)  # streams a process held when it died: not open any more
            os._exit(0)
        os.waitpid(pid, 0)
        children.append(pid)
    instruments().live_streams.inc(2)
    scrape = Scrape()
    assert scrape.folder.handles_everything()
    fast = scrape.folder.render()
    for pid in children:  # what a supervisor would do; the fast text needs no such step
        multiprocess.mark_process_dead(pid)
    library = generate_latest(scrape.library).decode()
    print(json.dumps([fast, library, scrape.render().decode()]))
    """
)


def families(text: str) -> dict:
    return {
        family.name: (
            family.type,
            family.documentation,
            sorted((s.name, sorted(s.labels.items()), s.value) for s in family.samples),
        )
        for family in text_string_to_metric_families(text)
    }


def test_the_fast_text_reads_as_the_librarys(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    fast, library, served = json.loads(run.stdout)

    ours, theirs = families(fast), families(library)
    assert ours == theirs
    assert len(ours["engagement_http_request_duration_seconds"][2]) > 100
    assert ours["engagement_deliveries"][2] == [
        ("engagement_deliveries_total", [("status", "sent"), ("template", "digest")], 6.0)
    ]
    assert ours["engagement_live_streams"] == (
        "gauge",
        "Live thread streams open",
        [("engagement_live_streams", [], 2.0)],
    )
    assert families(served)["engagement_build_info"][2] == [
        ("engagement_build_info", [("version", "0.1.0")], 1.0)
    ]
