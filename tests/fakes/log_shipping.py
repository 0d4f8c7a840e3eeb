"""Fakes of the log shipping ports: a bulk endpoint with scripted outcomes, a clock, the
dead-letter store and the log groups to subscribe.

The fake bulk endpoint reads the real NDJSON it is sent, so tests see which ids each request
carried; it answers each item by a script keyed on the document id.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from opswire.core.errors import BulkRequestTooLargeError, DeadLetterWriteError
from opswire.log_shipping.dead_letters import DeadLetterStore
from opswire.log_shipping.shipper import BulkResult, BulkTransport, Clock, ItemFailure
from opswire.log_shipping.subscriptions import LogGroupSubscriptions

MAPPING_ERROR = ItemFailure(400, "mapper_parsing_exception", "failed to parse field [json.n]")
REJECTED = ItemFailure(429, "es_rejected_execution_exception", "rejected execution")
UNAVAILABLE = ItemFailure(503, "unavailable_shards_exception", "primary shard is not active")
CONFLICT = ItemFailure(409, "version_conflict_engine_exception", "document already exists")


@dataclass
class FakeBulk(BulkTransport):
    # id -> outcomes for its 1st, 2nd, ... send (None = indexed); afterwards: indexed
    item_script: dict[str, list[ItemFailure | None]] = field(default_factory=dict)
    # request number (0-based) -> exception raised instead of answering
    request_script: dict[int, Exception] = field(default_factory=dict)
    max_body_bytes: int | None = None
    seconds_per_request: float = 0.01
    clock: "FakeClock | None" = None
    requests: list[list[str]] = field(default_factory=list)
    timeouts: list[float] = field(default_factory=list)
    indexed: dict[str, int] = field(default_factory=dict)
    _sends: dict[str, int] = field(default_factory=dict)

    def send(self, body: bytes, *, timeout: float) -> BulkResult:
        number = len(self.requests)
        lines = body.splitlines()
        ids = [orjson.loads(action).popitem()[1]["_id"] for action in lines[::2]]
        self.requests.append(ids)
        self.timeouts.append(timeout)
        if self.clock is not None:
            self.clock.now += self.seconds_per_request
        if number in self.request_script:
            raise self.request_script[number]
        if self.max_body_bytes is not None and len(body) > self.max_body_bytes:
            raise BulkRequestTooLargeError("HTTP 413", 413)
        failures = {}
        for position, doc_id in enumerate(ids):
            attempt = self._sends.get(doc_id, 0)
            self._sends[doc_id] = attempt + 1
            script = self.item_script.get(doc_id, [])
            outcome = script[attempt] if attempt < len(script) else None
            if outcome is None:
                self.indexed[doc_id] = self.indexed.get(doc_id, 0) + 1
            else:
                failures[position] = outcome
        return BulkResult(items=len(ids), failures=failures, bytes_sent=len(body))


@dataclass
class FakeClock(Clock):
    budget: float = 60.0
    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def remaining_seconds(self) -> float:
        return self.budget - self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeDeadLetters(DeadLetterStore):
    objects: dict[str, bytes] = field(default_factory=dict)
    fail_writes: bool = False
    deleted: list[str] = field(default_factory=list)

    def write(self, key: str, body: bytes) -> str:
        if self.fail_writes:
            raise DeadLetterWriteError("bucket unavailable")
        self.objects[key] = body
        return f"s3://fake/{key}"

    def list_keys(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))

    def read(self, key: str) -> bytes:
        return self.objects[key]

    def delete(self, key: str) -> None:
        self.deleted.append(key)
        del self.objects[key]

    def records(self) -> list[dict[str, object]]:
        return [orjson.loads(line) for body in self.objects.values() for line in body.splitlines()]


class FakeLogGroups(LogGroupSubscriptions):
    """CloudWatch Logs with ``groups``: records the prefixes listed and the subscriptions made."""

    def __init__(self, groups: list[str]) -> None:
        self.groups = groups
        self.subscribed: list[tuple[str, str, str, str]] = []
        self.prefixes: list[str] = []

    def log_groups(self, prefix: str) -> Iterator[str]:
        self.prefixes.append(prefix)
        return iter([g for g in self.groups if g.startswith(prefix)])

    def subscribe(
        self, log_group: str, *, filter_name: str, filter_pattern: str, destination_arn: str
    ) -> None:
        self.subscribed.append((log_group, filter_name, filter_pattern, destination_arn))
