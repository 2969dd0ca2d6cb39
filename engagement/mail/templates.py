"""Where each mail template is found: a site's own, the publisher's own for every site, the shipped one."""

from __future__ import annotations

from pathlib import Path

TEMPLATES = (
    "confirm_subscription",
    "thread_notification",
    "reply_notification",
    "moderation_request",
    "comment_approved",
    "digest",
    "webhook_disabled",
)
PARTS = ("subject.txt", "body.txt", "body.html")
BASE = "_base"


def shipped_templates() -> Path:
    """The shipped ``templates/`` folder: inside the installed package, or atop a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


SHIPPED = shipped_templates() / "emails"


def search_path(overrides: Path | None, site: str | None) -> list[Path]:
    """The folders a template is looked up in, first match wins; the shipped ones come last.

    ``overrides`` is ``ENGAGEMENT_TEMPLATES_DIR``: ``emails/<site>/<name>/…`` serves one site,
    ``emails/<name>/…`` every site. ``_base/`` is looked up the same way, so a site can restyle
    every mail by overriding it alone.
    """
    if overrides is None:
        return [SHIPPED]
    folders = [overrides / "emails"]
    if site and site not in (*TEMPLATES, BASE) and "/" not in site and not site.startswith("."):
        folders.insert(0, overrides / "emails" / site)
    return [*folders, SHIPPED]


def override_sites(overrides: Path | None) -> list[str]:
    """The sites that have a folder of their own overrides."""
    if overrides is None or not (overrides / "emails").is_dir():
        return []
    return sorted(
        child.name
        for child in (overrides / "emails").iterdir()
        if child.is_dir() and child.name not in (*TEMPLATES, BASE) and not child.name.startswith(".")
    )


def overridden_files(overrides: Path, site: str | None) -> list[Path]:
    """The override files that serve ``site`` (or every site): what a check must render."""
    root = overrides / "emails" / site if site else overrides / "emails"
    return sorted(path for name in (*TEMPLATES, BASE) for path in (root / name).glob("*") if path.is_file())


def describe_error(exc: Exception) -> str:
    """A template's error in one line, with the file and line it names."""
    where = getattr(exc, "filename", None) or getattr(exc, "name", None)
    line = getattr(exc, "lineno", None)
    place = f" ({where}{f', line {line}' if line else ''})" if where else ""
    return f"{type(exc).__name__}: {exc}{place}"
