"""The bulk loop: send batches, read item-level results, retry what is retryable, dead-letter
the rest.

Why not ``opensearchpy.helpers.streaming_bulk``: it retries only item-level 429s, sleeps its
backoff without knowing how much of the Lambda's time is left, has no jitter, resends nothing on
a 5xx or a timeout of the whole request, cannot split a batch the cluster answered with 413, and
serializes every action through the client's serializer on every attempt. Here every item is
serialized once (``bulk``), failed items are retried alone with exponential backoff and full
jitter while the remaining time allows, and everything that is not indexed in the end comes back
as a dead-letter record with its last error. The HTTP requests themselves go through one
``http.client`` connection (``opswire.log_shipping.aws.opensearch``).
"""

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import orjson

from opswire.core.errors import (
    BulkRequestTooLargeError,
    ConfigurationError,
    OpenSearchRequestError,
    OpenSearchRetryableError,
)
from opswire.log_shipping.bulk import BulkItem, batches, body_of

GaveUp = Literal["permanent", "attempts", "time"]


@dataclass(frozen=True)
class ItemFailure:
    """Why one item was not indexed: the item's status and error, or the request's."""

    status: int | None
    type: str
    reason: str

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "type": self.type, "reason": self.reason}


@dataclass(frozen=True)
class BulkResult:
    """What a ``_bulk`` answer says: ``items`` results, the failed ones by position."""

    items: int
    failures: dict[int, ItemFailure]
    bytes_sent: int


class BulkTransport(Protocol):
    """Sends one ``_bulk`` body. Raises ``OpenSearchRetryableError`` (429, 5xx, timeout,
    unreachable), ``BulkRequestTooLargeError`` (413), ``OpenSearchRequestError`` (other 4xx) or
    a ``ConfigurationError`` (no destination)."""

    def send(self, body: bytes, *, timeout: float) -> BulkResult: ...


class Clock(Protocol):
    def remaining_seconds(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay_seconds: float = 0.2
    max_delay_seconds: float = 5.0
    request_timeout_seconds: float = 10.0
    # Kept back from the remaining time for writing dead letters and returning.
    reserve_seconds: float = 2.0
    # No request is started with less time than this left (after the reserve).
    min_request_seconds: float = 0.25


@dataclass
class ShipReport:
    documents: int = 0
    indexed: int = 0
    already_indexed: int = 0  # 409 for a `create` (data streams): indexed by an earlier attempt
    retried: int = 0  # item sends beyond the first
    dead_lettered: int = 0
    bytes_sent: int = 0
    requests: int = 0
    dead_letters: list[bytes] = field(default_factory=list, repr=False)


TOO_LARGE = ItemFailure(None, "document_too_large", "larger than the maximum bulk body size")
_OUT_OF_TIME = ItemFailure(None, "deadline", "not sent: the function's remaining time ran out")


def ship(
    items: Iterable[BulkItem],
    transport: BulkTransport,
    clock: Clock,
    *,
    max_bulk_bytes: int,
    policy: RetryPolicy,
    jitter: Callable[[], float] = random.random,
) -> ShipReport:
    """Send ``items``; every item ends indexed or as a record in ``report.dead_letters``."""
    run = _Run(transport, clock, policy, max_bulk_bytes)
    counted = _Counted(items)
    for batch in batches(
        counted, max_bulk_bytes, lambda item: run.dead_letter(item, TOO_LARGE, "permanent")
    ):
        run.send(batch)
    run.report.documents = counted.count
    run.retry_failed(jitter)
    return run.report


class _Run:
    """One ``ship``: its report, and the items waiting for the next retry round."""

    def __init__(
        self, transport: BulkTransport, clock: Clock, policy: RetryPolicy, max_bulk_bytes: int
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.policy = policy
        self.max_bulk_bytes = max_bulk_bytes
        self.report = ShipReport()
        self.retry: list[BulkItem] = []

    def dead_letter(self, item: BulkItem, failure: ItemFailure, gave_up: GaveUp) -> None:
        self.report.dead_letters.append(dead_letter_record(item, failure, gave_up))
        self.report.dead_lettered += 1

    def failed(self, item: BulkItem, failure: ItemFailure) -> None:
        item.error = failure
        if not failure.retryable:
            self.dead_letter(item, failure, "permanent")
        elif item.attempts >= self.policy.max_attempts:
            self.dead_letter(item, failure, "attempts")
        else:
            self.retry.append(item)

    def send(self, batch: list[BulkItem]) -> None:
        """Send ``batch``, in halves (and halves of those) while the cluster answers 413."""
        parts = [batch]
        while parts:
            parts += self._send_part(parts.pop())

    def _send_part(self, part: list[BulkItem]) -> list[list[BulkItem]]:
        """One request; returns the halves to send instead when it was too large."""
        policy = self.policy
        budget = self.clock.remaining_seconds() - policy.reserve_seconds
        if budget < policy.min_request_seconds:
            for item in part:
                self.dead_letter(item, item.error or _OUT_OF_TIME, "time")
            return []
        for item in part:
            item.attempts += 1
        self.report.requests += 1
        try:
            result = self.transport.send(
                body_of(part), timeout=min(policy.request_timeout_seconds, budget)
            )
        except BulkRequestTooLargeError as exc:
            if len(part) == 1:
                self.dead_letter(
                    part[0], ItemFailure(413, "request_too_large", str(exc)), "permanent"
                )
                return []
            for item in part:  # the cluster's limit is not the documents' fault
                item.attempts -= 1
            middle = len(part) // 2
            return [part[middle:], part[:middle]]
        except OpenSearchRetryableError as exc:
            failure = _request_failure(exc)
            for item in part:
                self.failed(item, failure)
            return []
        except (OpenSearchRequestError, ConfigurationError) as exc:
            failure = _request_failure(exc)
            for item in part:
                self.dead_letter(item, failure, "permanent")
            return []
        self.report.bytes_sent += result.bytes_sent
        _record(part, result, self.report, self.failed)
        return []

    def retry_failed(self, jitter: Callable[[], float]) -> None:
        """Rounds of retries with exponential backoff and full jitter, while time is left."""
        policy = self.policy
        backoff_round = 0
        while self.retry:
            backoff_round += 1
            ceiling = min(
                policy.max_delay_seconds, policy.base_delay_seconds * 2 ** (backoff_round - 1)
            )
            delay = jitter() * ceiling  # "full jitter": spreads concurrent shippers' retries
            left = self.clock.remaining_seconds() - policy.reserve_seconds - delay
            if left < policy.min_request_seconds:
                for item in self.retry:
                    self.dead_letter(item, item.error, "time")
                break
            self.clock.sleep(delay)
            current, self.retry = self.retry, []
            self.report.retried += len(current)
            for batch in batches(current, self.max_bulk_bytes, lambda item: None):
                self.send(batch)


def _record(
    part: list[BulkItem],
    result: BulkResult,
    report: ShipReport,
    failed: Callable[[BulkItem, ItemFailure], None],
) -> None:
    failures = result.failures
    if not failures and result.items == len(part):
        report.indexed += len(part)
        return
    for position, item in enumerate(part):
        failure = failures.get(position)
        if position >= result.items:
            failed(item, ItemFailure(None, "missing_item", "no result for this item"))
        elif failure is None:
            report.indexed += 1
        elif failure.status == 409 and item.op == "create":
            report.already_indexed += 1  # a data stream already holds this id
        else:
            failed(item, failure)


def _request_failure(exc: Exception) -> ItemFailure:
    status = getattr(exc, "status", None)
    return ItemFailure(status if isinstance(status, int) else None, type(exc).__name__, str(exc))


class _Counted:
    """Counts what passes through, without holding it."""

    def __init__(self, items: Iterable[BulkItem]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Any:
        for item in self._items:
            self.count += 1
            yield item


def dead_letter_record(item: BulkItem, failure: ItemFailure, gave_up: GaveUp) -> bytes:
    """One NDJSON line of a dead-letter object: what to replay and why it was not indexed."""
    record = {
        "id": item.doc_id,
        "index": item.index,
        "op": item.op,
        "attempts": item.attempts,
        "gave_up": gave_up,
        "error": failure.as_dict(),
        "failed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "document": orjson.Fragment(item.source),
    }
    return orjson.dumps(record) + b"\n"
