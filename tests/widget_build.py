"""The widget's bundle built afresh by the checkout's esbuild (`make widget` installs it), for tests.

Without node or node_modules the test skips here and fails in CI (the shared rule).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from required_services import missing_service

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "widget" / "src"
BUNDLE = ROOT / "engagement" / "web" / "static" / "widget.js"


def build_widget(outfile: Path, root: Path = ROOT) -> bytes:
    """Runs `widget/build.mjs` of ``root`` into ``outfile`` and returns the bundle."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "esbuild").is_dir():
        missing_service("node and esbuild", "run `make widget` (npm ci, then the build)")
    modules = root / "node_modules"
    if root != ROOT and not modules.exists():
        modules.symlink_to(ROOT / "node_modules", target_is_directory=True)
    run = subprocess.run(
        [str(node), str(root / "widget" / "build.mjs"), "--outfile", str(outfile)],
        cwd=root, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return outfile.read_bytes()


def stale_bundle() -> str | None:
    """Why the bundle cannot stand for the sources (missing, or older than one of them), else None."""
    if not BUNDLE.is_file():
        return "engagement/web/static/widget.js is missing: run `make widget`"
    built = BUNDLE.stat().st_mtime_ns
    newer = [
        p for p in [*SOURCES.rglob("*.js"), ROOT / "widget" / "build.mjs"] if p.stat().st_mtime_ns > built
    ]
    if newer:
        names = ", ".join(str(p.relative_to(ROOT)) for p in newer[:3])
        return f"engagement/web/static/widget.js is older than {names}: run `make widget`"
    return None
