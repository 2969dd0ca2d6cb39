"""The installed package (the Docker image's) carries every data file the code reads."""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

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
