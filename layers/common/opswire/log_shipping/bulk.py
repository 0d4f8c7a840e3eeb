"""``_bulk`` NDJSON items and byte-size batches.

Each item is serialized once (orjson) into its two NDJSON lines, action and source. Batches are
concatenations of those bytes, so a retry resends exactly the failed items without serializing
again, and a dead letter embeds the source bytes as they were sent.
"""

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any, Literal

import orjson

BulkOp = Literal["index", "create"]


class BulkItem:
    """One document as ``_bulk`` lines, with its delivery state."""

    __slots__ = ("attempts", "doc_id", "error", "index", "line", "op")

    def __init__(self, op: BulkOp, index: str, doc_id: str, line: bytes) -> None:
        self.op: BulkOp = op
        self.index = index
        self.doc_id = doc_id
        self.line = line  # action line + source line, both ending in "\n"
        self.attempts = 0
        self.error: Any = None  # the last ItemFailure (shipper), None while all went well

    @property
    def source(self) -> bytes:
        """The document as sent (the second NDJSON line, without its newline)."""
        return self.line[self.line.index(b"\n") + 1 : -1]

    def __repr__(self) -> str:
        return f"BulkItem({self.op} {self.index}/{self.doc_id}, attempts={self.attempts})"


@cache
def action_prefix(op: BulkOp, index: str) -> bytes:
    return b'{"' + op.encode() + b'":{"_index":' + orjson.dumps(index) + b',"_id":'


def encode_item(op: BulkOp, index: str, doc_id: str, document: dict[str, Any]) -> BulkItem:
    try:
        source = orjson.dumps(document)
    except TypeError:
        # Only parsed JSON can hold what orjson refuses (e.g. an integer beyond 64 bits): keep
        # the document, without the parsed object.
        source = orjson.dumps({k: v for k, v in document.items() if k != "json"})
    return encode_source(op, index, doc_id, source)


def encode_source(op: BulkOp, index: str, doc_id: str, source: bytes) -> BulkItem:
    """An item from an already serialized document (replay of a dead letter)."""
    line = b"".join((action_prefix(op, index), orjson.dumps(doc_id), b"}}\n", source, b"\n"))
    return BulkItem(op, index, doc_id, line)


def batches(
    items: Iterable[BulkItem],
    max_bytes: int,
    too_large: Callable[[BulkItem], None],
) -> Iterator[list[BulkItem]]:
    """Consecutive batches whose bodies stay within ``max_bytes``; an item that alone exceeds
    it is handed to ``too_large`` instead (it can never be sent)."""
    batch: list[BulkItem] = []
    size = 0
    for item in items:
        length = len(item.line)
        if length > max_bytes:
            too_large(item)
            continue
        if size + length > max_bytes and batch:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += length
    if batch:
        yield batch


def body_of(batch: list[BulkItem]) -> bytes:
    return b"".join([item.line for item in batch])
