"""Browser fixtures: Debian's Chromium, the real app on loopback, and a publisher's pages on another origin.

The widget is tested as a publisher embeds it: the article and listing pages come from one
origin (a plain HTTP server, like any CMS), the widget and the API from the engagement server
on another, so every request crosses origins exactly as in production.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from required_services import missing_service
from widget_build import stale_bundle

from engagement.config import load_settings
from engagement.core import Core, build_core
from engagement.models import Base
from engagement.services.sites import SiteChanges, add_site

CHROMIUM = Path("/usr/bin/chromium")
PAGES = Path(__file__).parent / "pages"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """Launch Debian's Chromium (never a downloaded browser: the network refuses)."""
    if not CHROMIUM.exists():
        missing_service("Chromium", f"{CHROMIUM} is not installed (apt-get install chromium)")
    if problem := stale_bundle():  # the browser would run yesterday's widget
        pytest.fail(problem, pytrace=False)
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1100, "height": 900}, "locale": "en-GB"}


class _ThreadedUvicorn(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread is pytest's
        pass


@dataclass
class EngagementServer:
    """The real app (create_app) serving on a loopback port, with the core the test seeds through."""

    url: str
    core: Core
    data_dir: Path
    server: _ThreadedUvicorn
    thread: threading.Thread
    sites: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.core.dispose()


def _core(data_dir: Path, url: str, **overrides: object) -> Core:
    settings = load_settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'engagement.db'}",
        secret_key="browser-test-secret-" + "x" * 32,
        base_url=url,
        **{"rate_limits_enabled": False, **overrides},
    )
    core = build_core(settings)
    Base.metadata.create_all(core.engine)
    return core


def _serve(core: Core, port: int, *, demo: bool = False) -> EngagementServer:
    """Run create_app over ``core`` on a loopback port in a thread, until stop()."""
    from engagement.web import create_app

    app = create_app(core.settings, core, demo=demo)
    server = _ThreadedUvicorn(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the engagement server did not start")
        time.sleep(0.02)
    return EngagementServer(core.settings.base_url, core, core.settings.data_dir, server, thread)


def start_engagement(data_dir: Path, publisher_origin: str, **overrides: object) -> EngagementServer:
    port = free_port()
    core = _core(data_dir, f"http://127.0.0.1:{port}", **overrides)
    changes = {
        "daily": SiteChanges(
            name="The Daily Example",
            origins=[publisher_origin],
            support_url="https://www.patreon.com/dailyexample",
        ),
        "queued": SiteChanges(name="The Careful Gazette", origins=[publisher_origin], moderation="all"),
        "hasty": SiteChanges(name="The Hasty Herald", origins=[publisher_origin], edit_window_seconds=3),
        # Everything a publisher types is text to the widget, never markup.
        "evil": SiteChanges(
            name="<img src=x onerror=alert('site')>",
            origins=[publisher_origin],
            support_text="<script>alert('support')</script> Support us",
            support_url="https://example.org/?q=<script>alert(1)</script>",
            reactions=[
                {"key": "boo", "label": "<img src=x onerror=alert(1)> Boo"},
                {"key": "yay", "label": "🎉 <b onmouseover=alert(1)>Yay</b>"},
            ],
        ),
    }
    for key, change in changes.items():
        add_site(core.uow(), key, change)
    return _serve(core, port)


class _PublisherHandler(http.server.BaseHTTPRequestHandler):
    """Serves tests/browser/pages/*.html with an engagement server's URL filled in (``?server=``)."""

    servers: dict[str, str]

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        name = parts.path.strip("/") or "article.html"
        template = PAGES / name
        if not name.endswith(".html") or "/" in name or not template.exists():
            self.send_error(404)
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        text = template.read_text()
        values = {
            "engagement": self.servers[query.get("server", "main")],
            "site": query.get("site", "daily"),
            "theme": query.get("theme", ""),
            "limit": query.get("limit", "20"),
            "poll": query.get("poll", ""),
            "lang": query.get("lang", ""),
        }
        if "$fragment" in text:  # as a publisher's server does: the thread's HTML put in the article
            values["page"] = query.get("page", "")
            params = {"site": values["site"], "page": values["page"]}
            values["fragment"] = httpx.get(f"{values['engagement']}/api/v1/comments.html", params=params).text
        body = Template(text).safe_substitute(values)
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Publisher:
    url: str
    server: http.server.ThreadingHTTPServer
    servers: dict[str, str]

    def page(self, name: str = "article.html", **query: str) -> str:
        """A page URL; ``t`` (the test's name) gives every test its own thread."""
        args = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.url}/{name}" + (f"?{args}" if args else "")


@pytest.fixture(scope="session")
def publisher_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def engagement(tmp_path_factory: pytest.TempPathFactory, publisher_port: int) -> Iterator[EngagementServer]:
    server = start_engagement(tmp_path_factory.mktemp("engagement"), f"http://127.0.0.1:{publisher_port}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def publisher(engagement: EngagementServer, publisher_port: int) -> Iterator[Publisher]:
    servers = {"main": engagement.url}
    handler = type("Handler", (_PublisherHandler,), {"servers": servers})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", publisher_port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Publisher(f"http://127.0.0.1:{publisher_port}", server, servers)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def limited(tmp_path_factory: pytest.TempPathFactory, publisher: Publisher) -> Iterator[EngagementServer]:
    """A second server with rate limits on (two comments a minute); pages use it with ``server=limited``."""
    server = start_engagement(
        tmp_path_factory.mktemp("limited"),
        publisher.url,
        rate_limits_enabled=True,
        comment_rate_limit="2/minute",
    )
    publisher.servers["limited"] = server.url
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngagementServer]:
    """The demo as `engagement demo` runs it: seeded discussion, article, listing, mailbox, and a
    real worker with beat in its own process on the serverless broker, writing mail to a folder."""
    from engagement.demo import seed_demo
    from workers import handoff, make_celery
    from workers.embedded import start_embedded

    port = free_port()
    # No coalescing window: a notification leaves at once instead of two minutes later.
    core = _core(tmp_path_factory.mktemp("demo"), f"http://127.0.0.1:{port}", notify_window_seconds=0)
    core.on_commit = handoff(make_celery(core.settings))
    seed_demo(core, core.settings.base_url)
    workers = start_embedded(core.settings)
    server = _serve(core, port, demo=True)
    yield server
    server.stop()
    workers.stop()


@pytest.fixture
def no_dialogs(page) -> Iterator[list[str]]:
    """Fails the test if any alert/confirm/prompt opens (an XSS payload ran, or the widget used one)."""
    opened: list[str] = []

    def on_dialog(dialog) -> None:
        opened.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield opened
    assert not opened, f"a dialog opened: {opened}"


@pytest.fixture
def page_errors(page) -> Iterator[list[str]]:
    """JavaScript errors on the page; a test that uses this fixture fails on any."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield errors
    assert not errors, errors


@pytest.fixture(scope="session")
def base_url(publisher: Publisher) -> str:
    """The publisher's origin (replaces pytest-base-url's fixture, which pytest 9 warns about)."""
    return publisher.url
