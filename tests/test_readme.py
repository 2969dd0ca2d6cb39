"""The README gives the two set-up commands first, documents every setting, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

from engagement.config import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _commands(text: str) -> list[str]:
    return [line.split("#")[0].strip() for line in text.splitlines() if line.startswith("    ")]


def test_the_first_lines_give_the_demo_and_test_commands():
    first = README.splitlines()[:5]

    assert _commands("\n".join(first)) == ["make demo", "make test"]


def test_every_setting_is_in_the_configuration_table():
    documented = set(re.findall(r"^\| `(ENGAGEMENT_[A-Z_]+)`", README, re.MULTILINE))
    settings = {f"ENGAGEMENT_{name.upper()}" for name in Settings.model_fields}

    assert settings - documented == set(), "document these settings in README.md"
    assert documented - settings == set(), "README.md documents settings that do not exist"


def test_ci_runs_the_readme_test_command_with_every_service_required():
    script = (ROOT / ".ci" / "run").read_text()

    assert script.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in script
    assert "ENGAGEMENT_REQUIRE_SERVICES=1" in script
    assert "\nmake test\n" in script


def test_the_makefile_has_the_readme_targets():
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))

    assert {"bootstrap", "demo", "test", "lock"} <= targets
