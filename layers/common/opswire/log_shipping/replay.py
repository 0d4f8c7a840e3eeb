"""Dead-letter objects -> OpenSearch again (``opswire logs replay``, or the function itself
when invoked with ``{"replay": {...}}``).

Keys are listed first, then each object is shipped with the same loop as a delivery; what fails
again is written to a new object under ``dead-letters/<today>/replayed/`` before the original is
deleted, so a replay that stops half-way loses nothing and a second replay re-ships by id
without duplicates.
"""

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from opswire.log_shipping.dead_letters import DEAD_LETTER_PREFIX, DeadLetterStore, read_records
from opswire.log_shipping.service import ShippingOptions
from opswire.log_shipping.shipper import BulkTransport, Clock, ship


class ReplayRequest(BaseModel):
    prefix: str = DEAD_LETTER_PREFIX
    max_objects: int = Field(default=100, ge=1, le=10_000)


class ReplayResult(BaseModel):
    objects: int = 0
    documents: int = 0
    indexed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    unreadable_kept: int = 0
    more_remaining: bool = False
    replayed_objects: list[str] = []
    new_dead_letter_objects: list[str] = []


def replay_dead_letters(
    request: ReplayRequest,
    *,
    store: DeadLetterStore,
    transport: BulkTransport,
    clock: Clock,
    options: ShippingOptions,
    invocation_id: str,
) -> ReplayResult:
    result = ReplayResult()
    keys: list[str] = []
    for key in store.list_keys(request.prefix):
        if len(keys) == request.max_objects:
            result.more_remaining = True
            break
        keys.append(key)
    policy = options.retry
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    for number, key in enumerate(keys):
        if clock.remaining_seconds() - policy.reserve_seconds < 2 * policy.min_request_seconds:
            result.more_remaining = True
            break
        records = read_records(store.read(key))
        report = ship(
            records.items,
            transport,
            clock,
            max_bulk_bytes=options.max_bulk_bytes,
            policy=policy,
        )
        leftovers = records.unreadable_lines + report.dead_letters
        if leftovers:
            new_key = f"{DEAD_LETTER_PREFIX}{day}/replayed/{invocation_id}-{number}.ndjson"
            result.new_dead_letter_objects.append(store.write(new_key, b"".join(leftovers)))
        store.delete(key)
        result.objects += 1
        result.replayed_objects.append(key)
        result.documents += report.documents
        result.indexed += report.indexed + report.already_indexed
        result.retried += report.retried
        result.dead_lettered += report.dead_lettered
        result.unreadable_kept += len(records.unreadable_lines)
    return result
