"""The first pass's comments kept on disk for the second: read back, not parsed from the file again."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from dataclasses import fields
from operator import attrgetter
from typing import IO, Any

from engagement.services.operations.imports.records import CommentRecord

_BATCH = 1000
_VALUES = attrgetter(*(f.name for f in fields(CommentRecord)))


class Spool:
    """Comment records in file order, pickled a thousand at a time to an unnamed temporary file.

    The file has no name from the start, so a run that is killed leaves nothing behind, and
    memory holds one batch whatever the number of comments.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self._batch: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, record: CommentRecord) -> None:
        self._batch.append(_VALUES(record))
        self.count += 1
        if len(self._batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        pickle.dump(self._batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._batch = []

    def size(self) -> int:
        return self._file.tell()

    def read(self) -> Iterator[tuple[CommentRecord, int]]:
        """Each record with the bytes of the spool read so far."""
        if self._batch:
            self._flush()
        total = self._file.tell()
        self._file.seek(0)
        while (done := self._file.tell()) < total:
            for values in pickle.load(self._file):  # noqa: S301 (our own file, written above)
                yield CommentRecord(*values), done

    def close(self) -> None:
        self._file.close()
