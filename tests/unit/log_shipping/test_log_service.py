"""One delivery end to end with fakes (service), replay of dead letters, subscription rules and
the settings of both functions."""

import base64
import gzip
import json
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from opswire.core.errors import DeadLetterWriteError
from opswire.core.settings import LogShippingSettings, LogSubscriberSettings
from opswire.log_shipping.dead_letters import DEAD_LETTER_PREFIX
from opswire.log_shipping.replay import ReplayRequest, replay_dead_letters
from opswire.log_shipping.service import ShippingOptions, ship_subscription_event
from opswire.log_shipping.shipper import RetryPolicy
from opswire.log_shipping.subscriptions import (
    SubscriptionRules,
    literal_prefix,
    shipper_log_group,
    subscribe_created_group,
    subscribe_existing_groups,
)
from tests.conftest import EVENTS
from tests.fakes.log_shipping import (
    MAPPING_ERROR,
    FakeBulk,
    FakeClock,
    FakeDeadLetters,
    FakeLogGroups,
)

OPTIONS = ShippingOptions(
    index_pattern="logs-{group}-{date}",
    op="index",
    max_bulk_bytes=1_000_000,
    retry=RetryPolicy(max_attempts=3, base_delay_seconds=0.01, reserve_seconds=1.0),
    region="us-east-1",
)


def subscription_event(messages: list[str], group: str = "/aws/lambda/orders") -> dict[str, Any]:
    document = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": group,
        "logStream": "stream-1",
        "subscriptionFilters": ["f"],
        "logEvents": [
            {"id": f"e{n}", "timestamp": 1795554312481 + n, "message": m}
            for n, m in enumerate(messages)
        ],
    }
    return {
        "awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()}
    }


def deliver(event: dict[str, Any], bulk: FakeBulk, store: FakeDeadLetters) -> Any:
    return ship_subscription_event(
        event, transport=bulk, dead_letters=store, clock=FakeClock(), options=OPTIONS,
        invocation_id="req-1",
    )  # fmt: skip


def test_a_delivery_is_indexed_by_event_id_and_failures_land_in_one_object() -> None:
    bulk = FakeBulk(item_script={"e1": [MAPPING_ERROR]})
    store = FakeDeadLetters()

    result = deliver(subscription_event(['{"n": 1}', '{"n": "one"}', "text"]), bulk, store)

    assert (result.events, result.indexed, result.dead_lettered) == (3, 2, 1)
    assert set(bulk.indexed) == {"e0", "e2"}
    ((key, body),) = store.objects.items()
    assert key.startswith(DEAD_LETTER_PREFIX) and key.endswith("/aws-lambda-orders/req-1.ndjson")
    assert result.dead_letter_objects == [f"s3://fake/{key}"]
    record = orjson.loads(body)
    assert record["id"] == "e1" and record["document"]["json"] == {"n": "one"}


def test_control_messages_ship_nothing() -> None:
    document = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
                "logStream": "", "subscriptionFilters": [], "logEvents": []}  # fmt: skip
    event = {
        "awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()}
    }
    bulk, store = FakeBulk(), FakeDeadLetters()

    result = deliver(event, bulk, store)

    assert result.control_message and bulk.requests == [] and store.objects == {}


def test_an_undecodable_payload_is_kept_whole_in_the_bucket() -> None:
    store = FakeDeadLetters()

    result = deliver({"awslogs": {"data": "bm90IGd6aXA="}}, FakeBulk(), store)

    ((key, body),) = store.objects.items()
    assert key.startswith("undecodable/")
    assert orjson.loads(body)["event"] == {"awslogs": {"data": "bm90IGd6aXA="}}
    assert result.dead_lettered == 1 and result.error


def test_an_event_without_id_or_timestamp_is_dead_lettered_not_dropped() -> None:
    event = subscription_event(["good"])
    raw = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    raw["logEvents"].append({"message": "no id, no time"})
    event = {
        "awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(raw).encode())).decode()}
    }
    store = FakeDeadLetters()

    result = deliver(event, FakeBulk(), store)

    assert (result.events, result.indexed, result.dead_lettered) == (2, 1, 1)
    (record,) = store.records()
    assert record["event"] == {"message": "no id, no time"}


def test_when_the_bucket_cannot_be_written_the_invocation_fails_for_lambda_to_retry() -> None:
    with pytest.raises(DeadLetterWriteError):
        deliver(subscription_event(["x"]), FakeBulk(item_script={"e0": [MAPPING_ERROR]}),
                FakeDeadLetters(fail_writes=True))  # fmt: skip


def test_replay_reships_dead_letters_and_keeps_what_fails_again() -> None:
    store = FakeDeadLetters()
    failing = FakeBulk(item_script={"e1": [MAPPING_ERROR], "e2": [MAPPING_ERROR]})
    deliver(subscription_event(['{"n": 1}', '{"n": "one"}', '{"n": "two"}']), failing, store)
    (original,) = store.objects
    store.objects[original] += b"this line is not a record\n"
    bulk = FakeBulk(item_script={"e2": [MAPPING_ERROR]})  # e1's mapping was fixed meanwhile

    result = replay_dead_letters(
        ReplayRequest(), store=store, transport=bulk, clock=FakeClock(), options=OPTIONS,
        invocation_id="replay-1",
    )  # fmt: skip

    assert set(bulk.indexed) == {"e1"}
    assert (result.objects, result.documents, result.indexed, result.dead_lettered) == (1, 2, 1, 1)
    assert result.unreadable_kept == 1
    assert store.deleted == [original]
    ((key, body),) = store.objects.items()
    assert "/replayed/replay-1-0" in key
    lines = body.splitlines()
    assert lines[0] == b"this line is not a record"
    assert orjson.loads(lines[1])["id"] == "e2"


def test_replay_stops_at_max_objects() -> None:
    store = FakeDeadLetters(objects={f"{DEAD_LETTER_PREFIX}a{n}.ndjson": b"" for n in range(3)})

    result = replay_dead_letters(
        ReplayRequest(max_objects=2), store=store, transport=FakeBulk(), clock=FakeClock(),
        options=OPTIONS, invocation_id="r",
    )  # fmt: skip

    assert result.objects == 2 and result.more_remaining
    assert len(store.objects) == 1


# ---- subscriptions --------------------------------------------------------------------------
SHIPPER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:opswire-ShipLogs-X1"
RULES = SubscriptionRules(
    include=("/aws/lambda/*", "/ecs/*"),
    exclude=("*-test",),
    destination_arn=SHIPPER_ARN,
    filter_name="opswire-ship-logs",
)


def test_rules_include_exclude_and_never_the_shipper_itself() -> None:
    assert RULES.decide("/aws/lambda/orders") is None
    assert RULES.decide("/ecs/web") is None
    assert RULES.decide("/aws/lambda/orders-test") == "excluded by '*-test'"
    assert RULES.decide("/opswire/dev/demo") == "matches no include pattern"
    assert RULES.decide("/aws/lambda/opswire-ShipLogs-X1") == "the shipper's own log group"
    assert shipper_log_group(SHIPPER_ARN + ":live") == "/aws/lambda/opswire-ShipLogs-X1"


def test_created_group_from_the_cloudtrail_event_is_subscribed() -> None:
    event = json.loads((EVENTS / "cloudtrail" / "create-log-group.json").read_text())
    logs = FakeLogGroups([])

    outcome = subscribe_created_group(event, logs, RULES)

    assert outcome is not None and outcome.action == "subscribed"
    assert logs.subscribed == [("/aws/lambda/orders-api", "opswire-ship-logs", "", SHIPPER_ARN)]
    event["detail"]["errorCode"] = "ResourceAlreadyExistsException"
    assert subscribe_created_group(event, logs, RULES) is None
    assert subscribe_created_group({"detail": {"eventName": "DeleteLogGroup"}}, logs, RULES) is None


def test_existing_groups_are_listed_by_the_common_prefix_and_dry_run_changes_nothing() -> None:
    logs = FakeLogGroups(["/aws/lambda/a", "/aws/lambda/a-test", "/aws/lambda/b", "/other"])
    rules = SubscriptionRules(include=("/aws/lambda/*",), exclude=("*-test",),
                              destination_arn=SHIPPER_ARN, filter_name="f")  # fmt: skip

    planned = subscribe_existing_groups(logs, rules, dry_run=True)
    assert logs.subscribed == []
    done = subscribe_existing_groups(logs, rules)

    assert logs.prefixes == ["/aws/lambda/", "/aws/lambda/"]
    assert [(o.log_group, o.action) for o in planned] == [
        ("/aws/lambda/a", "would subscribe"),
        ("/aws/lambda/a-test", "skipped"),
        ("/aws/lambda/b", "would subscribe"),
    ]
    assert [s[0] for s in logs.subscribed] == ["/aws/lambda/a", "/aws/lambda/b"]
    assert [o.action for o in done] == ["subscribed", "skipped", "subscribed"]


def test_literal_prefix() -> None:
    assert literal_prefix(("/aws/lambda/*", "/aws/lambda/x?")) == "/aws/lambda/"
    assert literal_prefix(("/aws/lambda/*", "/ecs/*")) == "/"
    assert literal_prefix(("*",)) == ""
    assert literal_prefix(()) == ""


# ---- settings -------------------------------------------------------------------------------
def test_shipping_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "search-logs-abc.eu-west-1.es.amazonaws.com/")
    monkeypatch.setenv("OPENSEARCH_AUTH", "sigv4")
    monkeypatch.setenv("LOG_DLQ_BUCKET", "dlq")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    settings = LogShippingSettings()

    assert settings.opensearch_endpoint == "https://search-logs-abc.eu-west-1.es.amazonaws.com"
    assert settings.aws_region == "eu-west-1"
    options = ShippingOptions.from_settings(settings)
    assert options.op == "index" and options.max_bulk_bytes == 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"OPENSEARCH_ENDPOINT": "http://x", "OPENSEARCH_AUTH": "basic"}, "SECRET_NAME"),
        ({"LOG_INDEX_MODE": "data_stream"}, "data stream name cannot contain {date}"),
        ({"LOG_INDEX_PATTERN": "logs-{service}"}, "unknown placeholders"),
        ({"OPENSEARCH_AUTH": "kerberos"}, "OPENSEARCH_AUTH"),
        ({"LOG_DLQ_BUCKET": ""}, "LOG_DLQ_BUCKET"),
    ],
)
def test_inconsistent_shipping_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("LOG_DLQ_BUCKET", "dlq")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as raised:
        LogShippingSettings()
    assert message.lower() in str(raised.value).lower()


def test_data_stream_mode_uses_create(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_DLQ_BUCKET", "dlq")
    monkeypatch.setenv("LOG_INDEX_MODE", "data_stream")
    monkeypatch.setenv("LOG_INDEX_PATTERN", "logs-{group}")

    assert ShippingOptions.from_settings(LogShippingSettings()).op == "create"


def test_subscriber_settings_split_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_DESTINATION_ARN", SHIPPER_ARN)
    monkeypatch.setenv("LOG_SUBSCRIPTION_INCLUDE", " /aws/lambda/* , /ecs/*,")
    monkeypatch.setenv("LOG_SHIPPER_LOG_GROUP", "/aws/lambda/shipper")

    rules = SubscriptionRules.from_settings(LogSubscriberSettings())

    assert rules.include == ("/aws/lambda/*", "/ecs/*") and rules.exclude == ()
    assert rules.decide("/aws/lambda/shipper") == "the shipper's own log group"
