"""The README's first command, `engagement demo`, as a new user meets it: a real process, a real browser."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from browser.conftest import free_port
from browser.support import follow_link, main_form, open_mail, open_widget, post_comment_ui

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ENGAGEMENT = str(Path(sys.executable).with_name("engagement"))


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"engagement demo stopped early:\n{process.stdout.read()}"
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout} s")


def test_engagement_demo_in_a_browser(page, tmp_path, page_errors):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEMENT_")}
    process = subprocess.Popen(
        [ENGAGEMENT, "demo", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/demo/article", process)
        open_widget(page, base + "/demo/article")
        expect(page.locator(".eg-toolbar h2")).to_have_text("7 Comments")
        page.get_by_role("button", name="Love").click()
        expect(page.get_by_role("button", name="Love")).to_have_attribute("aria-pressed", "true")
        post_comment_ui(
            main_form(page),
            "Trying the demo.",
            name="New user",
            email="new@user.example",
            notify="New follow-up comments",
        )
        expect(main_form(page).locator(".eg-status")).to_contain_text("Check your inbox to confirm")
        open_mail(page, base, "new@user.example", re.compile(r"Confirm your subscription"))
        follow_link(page.locator("pre.mail a[href*='/s/confirm/']"))
        page.get_by_role("button", name="Confirm my subscription").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Subscription confirmed")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Demo stopped." in output
