"""The shape of an import, from a first pass that keeps ids only: which comments, where, under whom.

Comments are numbered in the order their ids are first mentioned (as a comment or as a
parent), and everything the writer needs is kept in flat arrays by that number, so a file
of millions of comments plans in bounded memory and in any order (replies before their
parents, posts before their threads).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from engagement.services.imports.records import APPROVED, DELETED, DROPPED, PENDING, CommentRecord

_STATUS_CODES = {APPROVED: 1, PENDING: 2, DELETED: 3, DROPPED: 4}
_LIVE = (1, 2)
MAX_DEPTH = 150  # deeper (or circular) chains are cut: the path column holds 2000 characters
NO_PARENT = -1
TOP_LEVEL = -2  # the parent is missing: made top-level, and counted


def source_key(source_id: str) -> int | str:
    """The dictionary key of a source id: digits kept as an int, which takes half the memory."""
    return (
        int(source_id) if source_id.isdigit() and source_id[0] != "0" and len(source_id) < 19 else source_id
    )


@dataclass
class Plan:
    """What the first pass learnt, by comment number."""

    numbers: dict[int | str, int] = field(default_factory=dict)
    parent: array[int] = field(default_factory=lambda: array("i"))
    page: array[int] = field(default_factory=lambda: array("i"))  # page number in the source
    status: bytearray = field(default_factory=bytearray)  # 0 = only named as a parent
    skips: dict[int, str] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    page_numbers: dict[str, int] = field(default_factory=dict)
    # Filled in by the writer, once the database has been asked.
    existing: bytearray = field(default_factory=bytearray)
    kept: bytearray = field(default_factory=bytearray)
    db_id: array[int] = field(default_factory=lambda: array("q"))
    replies: array[int] = field(default_factory=lambda: array("i"))

    def number(self, source_id: str) -> int:
        key = source_key(source_id)
        found = self.numbers.get(key)
        if found is None:
            found = self.numbers[key] = len(self.status)
            self.parent.append(NO_PARENT)
            self.page.append(-1)
            self.status.append(0)
        return found

    def page_number(self, source_id: str) -> int:
        found = self.page_numbers.get(source_id)
        if found is None:
            found = self.page_numbers[source_id] = len(self.page_numbers)
        return found

    def add(self, record: CommentRecord) -> None:
        number = self.number(record.source_id)
        if self.status[number]:
            self.duplicates.append(record.source_id)
            return
        self.status[number] = _STATUS_CODES[record.status]
        self.page[number] = self.page_number(record.page)
        if record.parent:
            self.parent[number] = self.number(record.parent)
        if record.skip:
            self.skips[number] = record.skip

    def __len__(self) -> int:
        return len(self.status)

    def settle(self, page_ids: list[int | None]) -> int:
        """Decide what is written: live comments, placeholders that keep a reply; fix parents.

        ``page_ids`` gives the page each source page became (None: unusable). Before, each
        comment's ``page`` is its page's number in the source; after, the database page id
        (-1 when it has none). Returns how many comments lost a missing parent.
        """
        count = len(self)
        self.kept = bytearray(count)
        for number in range(count):
            source_page = self.page[number]
            self.page[number] = -1 if source_page < 0 else (page_ids[source_page] or -1)
        for number in range(count):
            if self.status[number] in _LIVE and self.page[number] >= 0 and not self.existing[number]:
                self._keep_with_ancestors(number)
        orphans = 0
        for number in range(count):
            if self.kept[number] and not self._parent_stays(number):
                self.parent[number] = TOP_LEVEL
                orphans += 1
        return orphans + self._cut_long_chains()

    def _cut_long_chains(self) -> int:
        """Make top-level the head of any chain deeper than ``MAX_DEPTH`` (or circular)."""
        depth = array("h", [-1]) * len(self)
        cut = 0
        for number in range(len(self)):
            if not self.kept[number] or depth[number] >= 0:
                continue
            chain = [number]
            while True:
                parent = self.parent[chain[-1]]
                if parent < 0 or self.existing[parent]:
                    base = 0
                    break
                if depth[parent] >= 0 and depth[parent] + len(chain) < MAX_DEPTH:
                    base = depth[parent] + 1
                    break
                if depth[parent] >= 0 or len(chain) >= MAX_DEPTH:
                    self.parent[chain[-1]] = TOP_LEVEL
                    cut, base = cut + 1, 0
                    break
                chain.append(parent)
            for node in reversed(chain):
                depth[node] = base
                base += 1
        return cut

    def _keep_with_ancestors(self, number: int) -> None:
        # A removed comment stays, as a placeholder, above every reply that is written.
        self.kept[number] = 1
        page, parent, steps = self.page[number], self.parent[number], 0
        while parent >= 0 and steps < MAX_DEPTH:
            if self.kept[parent] or self.existing[parent] or self.page[parent] != page:
                return
            if self.status[parent] != _STATUS_CODES[DELETED]:
                return
            self.kept[parent] = 1
            parent, steps = self.parent[parent], steps + 1

    def _parent_stays(self, number: int) -> bool:
        parent = self.parent[number]
        if parent < 0:
            return True
        return bool(self.existing[parent] or self.kept[parent]) and self.page[parent] == self.page[number]

    def count_replies(self) -> set[int]:
        """Each written comment's visible replies, as publishing them one by one would count.

        Returns the numbers of comments already in the database that gain visible replies.
        """
        count = len(self)
        self.replies = array("i", bytes(4 * count))
        visible = bytearray(count)
        touched: set[int] = set()
        for number in range(count):
            if self.kept[number] and self.status[number] == 1:
                visible[number] = 1
        for number in range(count):
            if not (self.kept[number] and self.status[number] == 1):
                continue
            parent, steps = self.parent[number], 0
            while parent >= 0 and steps < MAX_DEPTH:
                if self.existing[parent]:
                    touched.add(parent)
                    break
                self.replies[parent] += 1
                if visible[parent]:
                    break
                visible[parent] = 1  # a placeholder that gains its first reply shows, up the chain
                parent, steps = self.parent[parent], steps + 1
        return touched
