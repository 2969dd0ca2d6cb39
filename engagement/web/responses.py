"""JSON answers serialised once, by orjson: the app's response class, and the bytes reads hash for an ETag."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, as every answer of the API is written."""
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


class FastJSON(JSONResponse):
    """A JSON answer rendered by orjson (about ten times faster than the standard library)."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
