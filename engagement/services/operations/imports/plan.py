"""The shape of an import, from a first pass that keeps ids only: which comments, where, under whom.

Comments are numbered in the order the file gives them, and everything the writer needs is
kept in flat arrays by that number: 64-bit keys of the source ids, parents, pages, states.
Parents are found once the pass is over, through a map of only the ids that are parents, so
a file of millions of comments plans in bounded memory and in any order (replies before
their parents, posts before their threads).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import blake2b

from engagement.services.operations.imports.records import APPROVED, DELETED, DROPPED, PENDING, CommentRecord

_STATUS_CODES = {APPROVED: 1, PENDING: 2, DELETED: 3, DROPPED: 4}
_LIVE = (1, 2)
MAX_DEPTH = 150  # deeper (or circular) chains are cut: the path column holds 2000 characters
NO_PARENT = -1
TOP_LEVEL = -2  # the parent is missing: made top-level, and counted
MISSING = -3  # a parent neither the file nor the database holds
_NONE = 0xFFFF_FFFF_FFFF_FFFF  # the key of "no parent"
_HASHED = 1 << 63  # set on the key of an id that is not a plain number


def _or_missing(number: int | None) -> int:
    return MISSING if number is None else number


def source_key(source_id: str) -> int:
    """A source id as 64 bits: its digits when it is a number, else a hash with the top bit set."""
    if source_id.isdigit() and len(source_id) < 19 and (source_id[0] != "0" or source_id == "0"):
        return int(source_id)
    return int.from_bytes(blake2b(source_id.encode(), digest_size=8).digest()) | _HASHED


@dataclass
class Plan:
    """What the first pass learnt, by comment number (the comment's place in the file)."""

    keys: array[int] = field(default_factory=lambda: array("Q"))
    parent_keys: array[int] = field(default_factory=lambda: array("Q"))  # until resolve()
    parent: array[int] = field(default_factory=lambda: array("i"))
    page: array[int] = field(default_factory=lambda: array("i"))  # page number in the source
    status: bytearray = field(default_factory=bytearray)  # 0: a parent the file does not hold
    page_numbers: dict[str, int] = field(default_factory=dict)
    # Filled in by resolve() and the writer, once the database has been asked.
    existing: bytearray = field(default_factory=bytearray)
    kept: bytearray = field(default_factory=bytearray)
    db_id: array[int] = field(default_factory=lambda: array("q"))
    replies: array[int] = field(default_factory=lambda: array("i"))
    _known_pages: dict[int, int] = field(default_factory=dict)  # pages of parents not in the file

    def page_number(self, source_id: str) -> int:
        found = self.page_numbers.get(source_id)
        if found is None:
            found = self.page_numbers[source_id] = len(self.page_numbers)
        return found

    def add(self, record: CommentRecord) -> None:
        self.keys.append(source_key(record.source_id))
        self.parent_keys.append(source_key(record.parent) if record.parent else _NONE)
        self.page.append(self.page_number(record.page))
        self.status.append(_STATUS_CODES[record.status])

    def __len__(self) -> int:
        return len(self.status)

    def resolve(self, existing: Iterable[tuple[str, int, int]]) -> None:
        """Find each comment's parent, and which comments an earlier import wrote.

        ``existing`` gives (source id, comment id, page id) of the comments already imported
        from this source. A parent only the database holds gets a number past the file's.
        """
        # Only parents need finding by id: one map of those (None until found), never of all.
        numbers: dict[int, int | None] = dict.fromkeys(k for k in self.parent_keys if k != _NONE)
        for number, key in enumerate(self.keys):
            if key in numbers and numbers[key] is None:
                numbers[key] = number
        count = len(self.keys)
        self.existing = bytearray(count)
        self.db_id = array("q", bytes(8 * count))
        before = {source_key(source_id): (comment_id, page_id) for source_id, comment_id, page_id in existing}
        if before:
            for number, key in enumerate(self.keys):
                found = before.get(key)
                if found is not None:
                    self.existing[number] = 1
                    self.db_id[number] = found[0]
            for key in [key for key, number in numbers.items() if number is None]:
                found = before.get(key)
                if found is not None:  # a parent from an earlier export, not in this one
                    numbers[key] = len(self.status)
                    self._add_known(*found)
        del before
        self.parent = array(
            "i",
            (NO_PARENT if key == _NONE else _or_missing(numbers.get(key)) for key in self.parent_keys),
        )
        self.parent.extend([NO_PARENT] * (len(self.status) - count))
        self.parent_keys = array("Q")

    def _add_known(self, comment_id: int, page_id: int) -> None:
        self.keys.append(0)
        self.page.append(-1)
        self.status.append(0)
        self.existing.append(1)
        self.db_id.append(comment_id)
        self._known_pages[len(self.status) - 1] = page_id

    def number_of(self, source_ids: Iterable[str]) -> dict[str, int]:
        """The numbers of a few comments by source id (a scan: for a handful, not for each)."""
        wanted = {source_key(source_id): source_id for source_id in source_ids}
        return {wanted[key]: n for n, key in enumerate(self.keys) if key in wanted}

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
            if source_page < 0:  # a parent only the database holds
                self.page[number] = self._known_pages.get(number, -1)
            else:
                self.page[number] = page_ids[source_page] or -1
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
            return parent == NO_PARENT
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
