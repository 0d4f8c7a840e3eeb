"""The dead-letter bucket: object keys, and reading records back for a replay.

Objects are NDJSON, one record per document that was not indexed (see
``shipper.dead_letter_record``): ``id``, ``index``, ``op``, ``attempts``, ``gave_up``
(``permanent`` | ``attempts`` | ``time``), ``error`` ({status, type, reason}), ``failed_at``
and the ``document`` as it was sent. Payloads that could not even be decoded are kept whole
under ``undecodable/``, which replay does not read.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import orjson

from opswire.log_shipping.bulk import BulkItem, encode_source
from opswire.log_shipping.documents import normalize_log_group

DEAD_LETTER_PREFIX = "dead-letters/"
UNDECODABLE_PREFIX = "undecodable/"


class DeadLetterStore(Protocol):
    """Where dead letters live (S3 when deployed). ``write`` raises ``DeadLetterWriteError``."""

    def write(self, key: str, body: bytes) -> str: ...

    def list_keys(self, prefix: str) -> Iterator[str]: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def dead_letter_key(log_group: str, invocation_id: str, now: datetime | None = None) -> str:
    """``dead-letters/2025/05/01/aws-lambda-orders/<invocation id>.ndjson``: by day, then group,
    so a replay can pick a day or a group by prefix."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{DEAD_LETTER_PREFIX}{day}/{normalize_log_group(log_group)}/{invocation_id}.ndjson"


def undecodable_key(invocation_id: str, now: datetime | None = None) -> str:
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{UNDECODABLE_PREFIX}{day}/{invocation_id}.json"


@dataclass(frozen=True)
class ReplayableRecords:
    items: list[BulkItem]
    unreadable_lines: list[bytes]


def read_records(body: bytes) -> ReplayableRecords:
    """The items of a dead-letter object, ready to send again; lines that are not records are
    returned apart so that a replay keeps them instead of dropping them."""
    items: list[BulkItem] = []
    unreadable: list[bytes] = []
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            op = record.get("op", "index")
            if op not in ("index", "create"):
                raise ValueError(op)
            items.append(
                encode_source(
                    op, str(record["index"]), str(record["id"]), orjson.dumps(record["document"])
                )
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            unreadable.append(line + b"\n")
    return ReplayableRecords(items, unreadable)
