"""``engagement serve`` runs on uvicorn's C parser and event loop, which the lock file installs."""

from __future__ import annotations

from engagement.cli.serve import fast_io


def test_serve_uses_httptools_and_uvloop() -> None:
    assert fast_io() == {"http": "httptools", "loop": "uvloop"}
