"""Opening an import file: gzip or not by its first bytes, read as a stream, positions for errors."""

from __future__ import annotations

import gzip
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from engagement.errors import BadImportFile

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16
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


class _RootSeen:
    """The guard's target: notes that the root element has started (the prolog is over)."""

    started = False

    def start(self, _tag: str, _attrib: dict[str, str]) -> None:
        self.started = True

    def end(self, _tag: str) -> None:
        return None

    def data(self, _text: str) -> None:
        return None

    def close(self) -> None:
        return None


def _guarded_chunks(source: Source) -> Iterator[bytes]:
    """The file's bytes, its prolog first read by defusedxml: a DTD or entity is refused there.

    A document can only declare a DTD or entities before its root element, and an entity it
    has not declared is an error to any parser: once defusedxml has read up to the root, the
    fast C parser reads the rest (defusedxml's own iterparse is pure Python, 5× slower).
    """
    seen = _RootSeen()
    guard = DefusedXMLParser(target=seen, forbid_dtd=True)
    while chunk := source.stream.read(_CHUNK):
        if not seen.started:
            guard.feed(chunk)
        yield chunk


def xml_elements(
    source: Source, depth: int, check_root: Callable[[str], str | None]
) -> Iterator[tuple[Element, Element]]:
    """Each element ``depth`` levels under the root, with its parent, as it ends; cleared after.

    ``check_root`` gets the root's tag and returns why it is the wrong document, or None.
    The parent is emptied after each element too, so memory stays bounded however many
    elements the file holds.
    """
    above: list[Element] = []  # the open elements less deep than ``depth``
    level = 0
    parser: XMLPullParser[Element] = XMLPullParser(events=("start", "end"))
    # The deque read_events() drains (CPython 3.8+), read here without a generator step per
    # event: a post has some twenty elements, a file millions of posts.
    queue: deque[Any] = vars(parser)["_events_queue"]
    try:
        for chunk in _guarded_chunks(source):
            parser.feed(chunk)
            while queue:
                item = queue.popleft()
                if type(item) is not tuple:
                    raise item  # the parser's error, queued in order like an event
                event, element = item
                if event == "start":
                    if level < depth:
                        if not level and (wrong := check_root(element.tag)) is not None:
                            raise BadImportFile(source.path, "line 1", wrong)
                        above.append(element)
                    level += 1
                    continue
                level -= 1
                if level == depth:
                    parent = above[-1]
                    yield element, parent
                    parent.clear()
                elif level < depth:
                    above.pop()
        parser.close()
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
