"""How migrations are generated and compared: shared by env.py and the schema check."""

from __future__ import annotations

from typing import Any

from engagement.db import UTCDateTime
from engagement.models import Base


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Spell our own column types in plain SQLAlchemy: a migration never imports app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# render_as_batch makes autogenerate write batch operations, which SQLite needs for ALTER and
# PostgreSQL runs as plain ALTERs: one migration file serves both databases.
COMPARE_OPTIONS: dict[str, Any] = {
    "target_metadata": Base.metadata,
    "render_as_batch": True,
    "compare_type": True,
    "compare_server_default": False,
    "render_item": render_item,
}
