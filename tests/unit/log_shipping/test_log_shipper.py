"""The bulk loop with fakes: batching by bytes, item-level retries with backoff and jitter within
the remaining time, 413 splitting, and dead letters for everything that is not indexed."""

import random

import orjson
import pytest

from opswire.core.errors import (
    OpenSearchNotConfiguredError,
    OpenSearchRequestError,
    OpenSearchRetryableError,
)
from opswire.log_shipping.bulk import BulkItem, encode_item
from opswire.log_shipping.shipper import RetryPolicy, ShipReport, ship
from tests.fakes.log_shipping import (
    CONFLICT,
    MAPPING_ERROR,
    REJECTED,
    UNAVAILABLE,
    FakeBulk,
    FakeClock,
)

POLICY = RetryPolicy(max_attempts=4, base_delay_seconds=0.2, max_delay_seconds=1.0,
                     request_timeout_seconds=5.0, reserve_seconds=1.0)  # fmt: skip


def items(count: int, size: int = 100, op: str = "index") -> list[BulkItem]:
    return [
        encode_item(op, "logs-app-2026.11.24", f"id-{n}", {"message": "x" * size, "n": n})  # type: ignore[arg-type]
        for n in range(count)
    ]


def run(
    bulk: FakeBulk,
    to_ship: list[BulkItem],
    *,
    clock: FakeClock | None = None,
    max_bytes: int = 1_000_000,
    policy: RetryPolicy = POLICY,
    jitter: float = 1.0,
) -> tuple[ShipReport, FakeClock]:
    clock = clock or FakeClock()
    bulk.clock = clock
    report = ship(
        to_ship, bulk, clock, max_bulk_bytes=max_bytes, policy=policy, jitter=lambda: jitter
    )
    return report, clock


def dead_letter_ids(report: ShipReport) -> list[str]:
    return [orjson.loads(line)["id"] for line in report.dead_letters]


def assert_each_exactly_once(report: ShipReport, bulk: FakeBulk, count: int) -> None:
    """The contract: every id indexed (once in the index, however often sent) or dead-lettered,
    never both, none missing."""
    indexed, dead = set(bulk.indexed), set(dead_letter_ids(report))
    assert not indexed & dead
    assert indexed | dead == {f"id-{n}" for n in range(count)}
    assert report.indexed + report.already_indexed + report.dead_lettered == count


def test_all_indexed_in_batches_that_respect_the_byte_limit() -> None:
    bulk = FakeBulk()
    to_ship = [encode_item("index", "i", f"doc-{n:02d}", {"message": "x" * 90}) for n in range(50)]
    line = len(to_ship[0].line)
    assert {len(item.line) for item in to_ship} == {line}

    report, _ = run(bulk, to_ship, max_bytes=line * 20 + line // 2)

    assert [len(ids) for ids in bulk.requests] == [20, 20, 10]
    assert (report.documents, report.indexed, report.dead_lettered) == (50, 50, 0)
    assert report.bytes_sent == sum(len(i.line) for i in to_ship)
    assert set(bulk.indexed) == {f"doc-{n:02d}" for n in range(50)}


def test_only_the_rejected_items_are_sent_again_with_growing_backoff() -> None:
    bulk = FakeBulk(item_script={"id-3": [REJECTED, REJECTED], "id-7": [UNAVAILABLE]})

    report, clock = run(bulk, items(10))

    assert bulk.requests[0] == [f"id-{n}" for n in range(10)]
    assert bulk.requests[1:] == [["id-3", "id-7"], ["id-3"]]
    assert clock.sleeps == [0.2, 0.4]  # base * 2**round, jitter pinned to its maximum
    assert (report.indexed, report.retried, report.dead_lettered) == (10, 3, 0)
    assert_each_exactly_once(report, bulk, 10)


def test_backoff_is_full_jitter_below_a_ceiling() -> None:
    bulk = FakeBulk(item_script={"id-0": [REJECTED] * 3})

    _, clock = run(bulk, items(1), jitter=0.5)

    assert clock.sleeps == [0.1, 0.2, 0.4]
    capped = RetryPolicy(max_attempts=10, base_delay_seconds=0.2, max_delay_seconds=0.5)
    _, clock = run(FakeBulk(item_script={"id-0": [REJECTED] * 6}), items(1), policy=capped)
    assert max(clock.sleeps) == 0.5


def test_a_mapping_error_goes_to_the_dead_letters_at_once_with_its_error_and_document() -> None:
    bulk = FakeBulk(item_script={"id-2": [MAPPING_ERROR]})

    report, clock = run(bulk, items(5))

    assert len(bulk.requests) == 1 and clock.sleeps == []
    (record,) = [orjson.loads(line) for line in report.dead_letters]
    assert record["id"] == "id-2"
    assert record["index"] == "logs-app-2026.11.24"
    assert record["op"] == "index"
    assert record["gave_up"] == "permanent"
    assert record["error"] == {
        "status": 400,
        "type": "mapper_parsing_exception",
        "reason": "failed to parse field [json.n]",
    }
    assert record["document"] == {"message": "x" * 100, "n": 2}
    assert_each_exactly_once(report, bulk, 5)


def test_items_that_keep_failing_are_dead_lettered_after_the_last_attempt() -> None:
    bulk = FakeBulk(item_script={"id-1": [REJECTED] * 10})

    report, _ = run(bulk, items(3))

    assert sum(ids.count("id-1") for ids in bulk.requests) == POLICY.max_attempts
    (record,) = [orjson.loads(line) for line in report.dead_letters]
    assert (record["id"], record["gave_up"], record["attempts"]) == ("id-1", "attempts", 4)
    assert record["error"]["status"] == 429
    assert_each_exactly_once(report, bulk, 3)


def test_a_503_or_timeout_of_the_whole_request_retries_all_its_items() -> None:
    bulk = FakeBulk(
        request_script={
            0: OpenSearchRetryableError("OpenSearch answered HTTP 503", 503),
            1: OpenSearchRetryableError("bulk request timed out after 5.0s"),
        }
    )

    report, clock = run(bulk, items(4))

    assert len(bulk.requests) == 3 and bulk.requests[0] == bulk.requests[2]
    assert len(clock.sleeps) == 2
    assert report.indexed == 4 and report.retried == 8
    assert_each_exactly_once(report, bulk, 4)


def test_a_413_splits_the_batch_until_the_halves_fit() -> None:
    to_ship = items(8)
    bulk = FakeBulk(max_body_bytes=len(to_ship[0].line) * 2)

    report, clock = run(bulk, to_ship)

    assert [len(ids) for ids in bulk.requests] == [8, 4, 2, 2, 4, 2, 2]
    assert clock.sleeps == []  # a split is not a failure: no backoff
    assert report.indexed == 8 and report.dead_lettered == 0
    assert_each_exactly_once(report, bulk, 8)


def test_a_single_document_refused_with_413_is_dead_lettered() -> None:
    to_ship = [*items(2, size=10), encode_item("index", "i", "id-2", {"message": "y" * 500})]
    bulk = FakeBulk(max_body_bytes=300)

    report, _ = run(bulk, to_ship)

    assert dead_letter_ids(report) == ["id-2"]
    assert orjson.loads(report.dead_letters[0])["error"]["status"] == 413
    assert_each_exactly_once(report, bulk, 3)


def test_a_document_larger_than_the_bulk_limit_is_never_sent() -> None:
    to_ship = [*items(2, size=10), encode_item("index", "i", "id-2", {"message": "y" * 5000})]
    bulk = FakeBulk()

    report, _ = run(bulk, to_ship, max_bytes=1000)

    assert bulk.requests == [["id-0", "id-1"]]
    assert orjson.loads(report.dead_letters[0])["error"]["type"] == "document_too_large"
    assert_each_exactly_once(report, bulk, 3)


def test_permanent_request_errors_dead_letter_the_whole_batch_without_retry() -> None:
    for error in (
        OpenSearchRequestError("OpenSearch answered HTTP 403: no permissions", 403),
        OpenSearchNotConfiguredError("OPENSEARCH_ENDPOINT is empty"),
    ):
        bulk = FakeBulk(request_script={0: error})
        report, clock = run(bulk, items(3))

        assert len(bulk.requests) == 1 and clock.sleeps == []
        assert report.dead_lettered == 3
        assert {orjson.loads(r)["error"]["type"] for r in report.dead_letters} == {
            type(error).__name__
        }


def test_when_time_runs_out_the_rest_is_dead_lettered_and_no_sleep_overruns() -> None:
    # 1.5 s left, 1 s reserved: one request, then no time for a backoff and a second request.
    bulk = FakeBulk(item_script={"id-0": [REJECTED] * 10}, seconds_per_request=0.2)
    clock = FakeClock(budget=1.5)
    policy = RetryPolicy(max_attempts=10, base_delay_seconds=0.2, reserve_seconds=1.0)

    report, clock = run(bulk, items(3), clock=clock, policy=policy)

    assert clock.remaining_seconds() > policy.reserve_seconds - 1e-9
    (record,) = [orjson.loads(line) for line in report.dead_letters]
    assert record["gave_up"] == "time" and record["error"]["status"] == 429
    assert max(bulk.timeouts) <= 0.5 + 1e-9  # request timeout capped by the time left
    assert_each_exactly_once(report, bulk, 3)


def test_nothing_is_sent_once_the_reserve_is_reached() -> None:
    bulk = FakeBulk()

    report, _ = run(bulk, items(3), clock=FakeClock(budget=1.1))

    assert bulk.requests == []
    assert {orjson.loads(r)["gave_up"] for r in report.dead_letters} == {"time"}
    assert report.dead_lettered == 3


def test_create_conflicts_count_as_already_indexed() -> None:
    bulk = FakeBulk(item_script={"id-1": [CONFLICT]})

    report, _ = run(bulk, items(3, op="create"))

    assert (report.indexed, report.already_indexed, report.dead_lettered) == (2, 1, 0)


def test_an_index_conflict_is_not_mistaken_for_success() -> None:
    bulk = FakeBulk(item_script={"id-1": [CONFLICT]})

    report, _ = run(bulk, items(3, op="index"))

    assert dead_letter_ids(report) == ["id-1"]


@pytest.mark.parametrize("seed", range(8))
def test_random_failures_never_lose_or_duplicate_an_event(seed: int) -> None:
    rng = random.Random(seed)
    outcomes = [None, None, None, REJECTED, UNAVAILABLE, MAPPING_ERROR]
    script = {f"id-{n}": [rng.choice(outcomes) for _ in range(6)] for n in range(200)}
    requests = {n: OpenSearchRetryableError("HTTP 503", 503) for n in rng.sample(range(30), 4)}
    bulk = FakeBulk(item_script=script, request_script=requests)
    to_ship = items(200, size=rng.randint(10, 200))
    max_bytes = len(to_ship[0].line) * rng.randint(5, 60)

    report, _ = run(bulk, to_ship, max_bytes=max_bytes, jitter=rng.random())

    assert_each_exactly_once(report, bulk, 200)
    assert all(count == 1 for count in bulk.indexed.values())
