"""Opening an import file: gzip or not by its first bytes, read as a stream, positions for errors."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from engagement.errors import BadImportFile

GZIP_MAGIC = b"\x1f\x8b"
_BROKEN_GZIP = (gzip.BadGzipFile, EOFError, zlib.error)


class Source:
    """The file being read: its raw byte position (for progress) and the stream of its content."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.raw: IO[bytes] = path.open("rb")
        except OSError as exc:
            raise BadImportFile(path, None, exc.strerror or "cannot be opened") from exc
        self.size = path.stat().st_size
        head = self.raw.read(2)
        self.raw.seek(0)
        if not head:
            self.raw.close()
            raise BadImportFile(path, None, "the file is empty")
        self.gzipped = head == GZIP_MAGIC
        if not self.gzipped and path.name.endswith(".gz"):
            self.raw.close()
            raise BadImportFile(path, None, "named .gz but not a gzip file")
        self.stream: IO[bytes] = self.raw
        if self.gzipped:
            self.stream = cast(IO[bytes], gzip.GzipFile(fileobj=self.raw, mode="rb"))

    def position(self) -> int:
        """Bytes of the file read so far (compressed bytes for a gzip)."""
        return self.raw.tell()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


@contextmanager
def opened(path: Path) -> Iterator[Source]:
    """The source, with a broken gzip reported as a bad file wherever the reading stops."""
    source = Source(path)
    try:
        yield source
    except _BROKEN_GZIP as exc:
        raise BadImportFile(path, f"byte {source.position()}", f"broken gzip data ({exc})") from exc
    finally:
        source.close()


def xml_elements(
    source: Source, depth: int, check_root: Callable[[str], str | None]
) -> Iterator[tuple[Element, Element]]:
    """Each element ``depth`` levels under the root, with its parent, as it ends; cleared after.

    ``check_root`` gets the root's tag and returns why it is the wrong document, or None.
    DTDs and entities are refused, never expanded (defusedxml). The parent is emptied after
    each element too, so memory stays bounded however many elements the file holds.
    """
    stack: list[Element] = []
    try:
        for event, element in iterparse(source.stream, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if not stack and (wrong := check_root(element.tag)) is not None:
                    raise BadImportFile(source.path, "line 1", wrong)
                stack.append(element)
                continue
            stack.pop()
            if len(stack) == depth:
                yield element, stack[-1]
                stack[-1].clear()
            elif len(stack) < depth:
                element.clear()
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = str(exc).split(":")[0]
        where = f"line {line}, column {column + 1}"
        raise BadImportFile(source.path, where, f"not well-formed XML ({reason})") from exc
    except DefusedXmlException as exc:
        raise BadImportFile(source.path, None, f"refused: {_defused_reason(exc)}") from exc


def _defused_reason(exc: Any) -> str:
    name = type(exc).__name__
    return {
        "DTDForbidden": "the file declares a DTD",
        "EntitiesForbidden": "the file declares an entity",
        "ExternalReferenceForbidden": "the file refers to an external entity",
    }.get(name, name)


def text(element: Element | None) -> str:
    return "" if element is None or element.text is None else element.text.strip()
