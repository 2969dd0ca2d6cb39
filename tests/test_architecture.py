"""Imports point inward: the core never imports the web, the CLI, Celery or the workers."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import engagement

PACKAGE = Path(engagement.__file__).resolve().parent
ADAPTERS = ("web", "cli")
FORBIDDEN = (
    "fastapi",
    "starlette",
    "celery",
    "kombu",
    "click",
    "uvicorn",
    "workers",
    "engagement.web",
    "engagement.cli",
)


def _core_files() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in ADAPTERS and "__pycache__" not in path.parts
    )


def _module_name(path: Path) -> str:
    parts = ["engagement", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(module: str, source: str, *, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """Every module that ``source`` imports, relative imports resolved, with its line."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # `from engagement import web` imports engagement.web
                yield node.lineno, f"{base}.{alias.name}"


def _forbidden(name: str) -> bool:
    return any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN)


def test_the_core_is_found():
    names = {_module_name(path) for path in _core_files()}
    assert {"engagement.uow", "engagement.config", "engagement.services.sites"} <= names
    assert not any(name.startswith(("engagement.web", "engagement.cli")) for name in names)


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_core_module_imports_an_adapter(path: Path):
    imports = _imported(_module_name(path), path.read_text(), is_package=path.name == "__init__.py")
    bad = [f"line {line}: {name}" for line, name in imports if _forbidden(name)]
    assert bad == [], f"{path.relative_to(PACKAGE.parent)} imports what the core must not"


def test_the_checker_sees_every_kind_of_import():
    source = (
        "import celery.app\nfrom ..web import app\nfrom engagement import cli\nfrom fastapi import FastAPI\n"
    )
    found = {name for _, name in _imported("engagement.services.probe", source)}
    assert {"celery.app", "engagement.web", "engagement.cli", "fastapi"} <= found
    assert not any(
        _forbidden(name) for _, name in _imported("engagement.services.probe", "from . import sites")
    )


# Imports the modules named on the command line (pkgutil.walk_packages would import the
# adapter packages itself while walking), then lists everything that got loaded.
PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_the_whole_core_loads_no_adapter_or_queue():
    # env.py runs migrations when imported: Alembic alone loads it.
    names = [_module_name(path) for path in _core_files() if path.name != "env.py"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *names], capture_output=True, text=True, timeout=120, check=True
    )

    loaded = json.loads(done.stdout)
    assert "engagement.services.sites" in loaded
    assert [name for name in loaded if _forbidden(name)] == []


WORKERS = PACKAGE.parent / "workers"


def _workers_graph() -> dict[str, set[str]]:
    """Which workers module imports which (at any depth of the file: type-only and late imports too)."""
    modules = {f"workers.{path.stem}" for path in WORKERS.glob("*.py") if path.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name in sorted(modules):
        source = (WORKERS / f"{name.split('.')[1]}.py").read_text()
        graph[name] = {
            ".".join(imported.split(".")[:2])
            for _, imported in _imported(name, source)
            if ".".join(imported.split(".")[:2]) in modules - {name}
        }
    return graph


def test_the_workers_modules_import_in_one_direction():
    # The app module builds the app and has the tasks module register on it; nothing imports back.
    graph = _workers_graph()
    assert "workers.tasks" in graph["workers.app"]
    assert "workers.app" not in graph["workers.tasks"]

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    circles = sorted(name for name in graph if reaches(name, name, {name}))
    assert circles == [], f"these workers modules import each other in a circle: {circles}"
