"""The installed package (the Docker image's) carries every data file the code reads."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from widget_build import BUNDLE, SOURCES, build_widget

from engagement.mail.render import TEMPLATES

ROOT = Path(__file__).resolve().parent.parent


def test_every_data_file_is_declared_as_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["engagement"]
    package = ROOT / "engagement"
    declared = {
        Path(path).resolve()
        for pattern in patterns
        for path in glob.glob(str(package / pattern), recursive=True)
        if Path(path).is_file()
    }
    data_files = {
        path.resolve()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".py", ".pyc")
    }

    missing = sorted(str(path.relative_to(ROOT)) for path in data_files - declared)
    assert missing == [], "add these to [tool.setuptools.package-data] in pyproject.toml"


def test_migrations_ship_with_the_package():
    # versions/ is no Python package (no __init__.py), so only package-data ships its files.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    versions = ROOT / "engagement" / "migrations" / "versions"

    assert "migrations/versions/*.py" in config["tool"]["setuptools"]["package-data"]["engagement"]
    assert not (versions / "__init__.py").exists()
    assert list(versions.glob("*.py"))


def test_a_build_carries_the_top_level_mail_templates(tmp_path):
    # What a wheel holds is what `build` writes: run it, then render a mail from that copy alone,
    # from a folder where the checkout's own templates/ cannot be found by accident.
    build = subprocess.run(
        [sys.executable, "setup.py", "-q", "build", "--build-base", str(tmp_path / "build")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    lib = tmp_path / "build" / "lib"
    for name in TEMPLATES:
        for part in ("subject.txt", "body.txt", "body.html"):
            assert (lib / "engagement" / "templates" / "emails" / name / part).is_file()

    probe = (
        "from engagement.mail.render import TEMPLATE_DIR, MailRenderer\n"
        "from engagement.mail.samples import sample_context\n"
        "print(TEMPLATE_DIR)\n"
        "print(MailRenderer().render('confirm_subscription', sample_context()).subject)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(lib)}
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    where, subject = run.stdout.splitlines()
    assert Path(where) == lib / "engagement" / "templates" / "emails"
    assert "Example" in subject


def test_the_served_widget_is_a_fresh_build_of_its_sources(tmp_path):
    # The bundle is a build product (gitignored): what the server sends and the browser tests
    # exercise must be what widget/src/ says today. `make widget` rebuilds it.
    assert BUNDLE.is_file(), "run `make widget`"
    fresh = build_widget(tmp_path / "widget.js")
    assert BUNDLE.read_bytes() == fresh, "widget.js is older than widget/src/: run `make widget`"
    assert list(SOURCES.glob("*.js"))


def test_the_widget_bundle_is_never_committed():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(BUNDLE)], cwd=ROOT, capture_output=True, check=False, timeout=30
    )
    assert ignored.returncode == 0, (
        "engagement/web/static/widget.js is a build product: keep it in .gitignore"
    )
