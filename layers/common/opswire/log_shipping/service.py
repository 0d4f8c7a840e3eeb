"""One CloudWatch Logs subscription delivery, end to end: decode, documents, bulk, dead letters."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel

from opswire.core.errors import LogPayloadError
from opswire.core.settings import LogShippingSettings
from opswire.log_shipping.bulk import BulkItem, BulkOp
from opswire.log_shipping.dead_letters import DeadLetterStore, dead_letter_key, undecodable_key
from opswire.log_shipping.decode import Subscription, decode_subscription
from opswire.log_shipping.documents import DocumentBuilder, LogSource
from opswire.log_shipping.shipper import BulkTransport, Clock, RetryPolicy, ship


@dataclass(frozen=True)
class ShippingOptions:
    index_pattern: str
    op: BulkOp
    max_bulk_bytes: int
    retry: RetryPolicy
    region: str

    @classmethod
    def from_settings(cls, settings: LogShippingSettings) -> "ShippingOptions":
        return cls(
            index_pattern=settings.log_index_pattern,
            # Data streams take only `create`; a retried `create` of an indexed id answers 409,
            # which counts as indexed. Indices take `index`: a second write overwrites.
            op="create" if settings.log_index_mode == "data_stream" else "index",
            max_bulk_bytes=settings.log_max_bulk_bytes,
            retry=RetryPolicy(
                max_attempts=settings.log_max_attempts,
                base_delay_seconds=settings.log_retry_base_seconds,
                max_delay_seconds=settings.log_retry_max_seconds,
                request_timeout_seconds=settings.log_request_timeout_seconds,
                reserve_seconds=settings.log_time_reserve_seconds,
            ),
            region=settings.aws_region,
        )


class ShippingResult(BaseModel):
    log_group: str | None = None
    log_stream: str | None = None
    control_message: bool = False
    events: int = 0
    indexed: int = 0
    already_indexed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    bytes_sent: int = 0
    requests: int = 0
    dead_letter_objects: list[str] = []
    error: str | None = None


def ship_subscription_event(
    event: dict[str, Any],
    *,
    transport: BulkTransport,
    dead_letters: DeadLetterStore,
    clock: Clock,
    options: ShippingOptions,
    invocation_id: str,
) -> ShippingResult:
    """Every log event of ``event`` ends indexed (by its CloudWatch id) or in ``dead_letters``
    with its error. Raises only ``DeadLetterWriteError`` (the store could not be written)."""
    try:
        subscription = decode_subscription(event)
    except LogPayloadError as exc:
        record = {"error": {"type": "LogPayloadError", "reason": str(exc)}, "event": event}
        location = dead_letters.write(
            undecodable_key(invocation_id), orjson.dumps(record, default=str)
        )
        return ShippingResult(dead_lettered=1, dead_letter_objects=[location], error=str(exc))
    result = ShippingResult(log_group=subscription.log_group, log_stream=subscription.log_stream)
    if subscription.is_control_message:
        result.control_message = True
        return result

    invalid: list[bytes] = []
    report = ship(
        _items(subscription, options, invalid),
        transport,
        clock,
        max_bulk_bytes=options.max_bulk_bytes,
        policy=options.retry,
    )
    records = invalid + report.dead_letters
    if records:
        key = dead_letter_key(subscription.log_group, invocation_id)
        result.dead_letter_objects.append(dead_letters.write(key, b"".join(records)))
    result.events = len(subscription.log_events)
    result.indexed = report.indexed + report.already_indexed
    result.already_indexed = report.already_indexed
    result.retried = report.retried
    result.dead_lettered = len(records)
    result.bytes_sent = report.bytes_sent
    result.requests = report.requests
    return result


def _items(
    subscription: Subscription, options: ShippingOptions, invalid: list[bytes]
) -> Iterator[BulkItem]:
    """Items built one at a time while the shipper consumes them (one batch in memory)."""
    source = LogSource(
        log_group=subscription.log_group,
        log_stream=subscription.log_stream,
        owner=subscription.owner,
        region=options.region,
    )
    rejected: list[dict[str, Any]] = []
    builder = DocumentBuilder(source, options.index_pattern)
    yield from builder.bulk_items(subscription.log_events, options.op, rejected)
    for problem in rejected:
        record = {
            "gave_up": "permanent",
            "error": {"status": None, "type": "invalid_log_event", "reason": problem["reason"]},
            "event": problem["event"],
        }
        invalid.append(orjson.dumps(record, default=str) + b"\n")
