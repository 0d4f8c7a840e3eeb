"""ShipLogsFunction against a local HTTP server answering like OpenSearch 2.x, through the real
transport (http.client, SigV4 by botocore): every input event ends indexed exactly once by id or in
the dead-letter bucket (moto S3) with its error."""

import gzip
import json
import secrets
from typing import Any

import boto3
import pytest

from tests.fakes.opensearch import FakeOpenSearch, Fault, SigV4Expectation
from tests.integration.aws_support import REGION
from tests.integration.log_shipping.support import (
    Invoke,
    current_credentials,
    dead_letters,
    event_id,
    subscription_event,
)

FAST_RETRIES = {"LOG_RETRY_BASE_SECONDS": "0.01", "LOG_RETRY_MAX_SECONDS": "0.05"}


def powertools_lines(count: int, **extra: Any) -> list[str]:
    return [
        json.dumps(
            {
                "level": "INFO",
                "location": "handler:41",
                "message": f"order {n} accepted",
                "timestamp": "2026-11-24 21:05:12,481+0000",
                "service": "orders",
                "function_request_id": f"req-{n % 7}",
                "order": n,
                **extra,
            }
        )
        for n in range(count)
    ]


def set_env(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def assert_exactly_once_or_dead_lettered(fake: FakeOpenSearch, count: int) -> list[dict[str, Any]]:
    """Every id is one document in OpenSearch or one record in the bucket, never both, none
    missing; returns the dead-letter records."""
    indexed = fake.ids()
    records = dead_letters()
    dead = [r["id"] for r in records]
    assert len(indexed) == len(set(indexed))
    assert len(dead) == len(set(dead))
    assert not set(indexed) & set(dead)
    assert set(indexed) | set(dead) == {event_id(n) for n in range(count)}
    return records


def test_sigv4_with_only_the_template_environment(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OPENSEARCH_ENDPOINT, OPENSEARCH_AUTH and LOG_DLQ_BUCKET are all the function gets.
    fake.sigv4 = SigV4Expectation(REGION, "es", current_credentials)
    set_env(monkeypatch, OPENSEARCH_AUTH="sigv4")

    result = ship_logs(subscription_event(powertools_lines(25)))

    assert (result["events"], result["indexed"], result["dead_lettered"]) == (25, 25, 0)
    bulk = fake.requests[-1]
    assert bulk["headers"]["Content-Encoding"] == "gzip"
    assert bulk["headers"]["Content-Type"] == "application/x-ndjson"
    assert bulk["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert f"/{REGION}/es/aws4_request" in bulk["headers"]["Authorization"]
    assert result["bytes_sent"] == bulk["raw_bytes"] < len(bulk["body"])
    document = fake.documents[("logs-aws-lambda-orders-api-2026.11.24", event_id(3))]
    assert document["@timestamp"] == "2026-11-24T21:05:12.003Z"
    assert document["message"] == "order 3 accepted"
    assert (document["level"], document["request_id"]) == ("INFO", "req-3")
    assert document["region"] == REGION and document["owner"] == "123456789012"
    # The index template went in first (signed as well), with the keyword mappings.
    template = fake.templates["opswire-logs"]
    assert template["index_patterns"] == ["logs-*"]
    assert fake.mappings["logs-aws-lambda-orders-api-2026.11.24"]["request_id"] == "keyword"
    assert_exactly_once_or_dead_lettered(fake, 25)


def test_aoss_signs_for_the_aoss_service_with_the_payload_hash(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.sigv4 = SigV4Expectation(REGION, "aoss", current_credentials)
    set_env(monkeypatch, OPENSEARCH_AUTH="aoss")

    result = ship_logs(subscription_event(powertools_lines(5)))

    assert result["indexed"] == 5
    headers = fake.requests[-1]["headers"]
    assert f"/{REGION}/aoss/aws4_request" in headers["Authorization"]
    assert len(headers["X-Amz-Content-Sha256"]) == 64


def test_a_wrong_signature_is_refused_and_everything_is_dead_lettered(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cluster expects the es service; the function signs for aoss: HTTP 403, permanent.
    fake.sigv4 = SigV4Expectation(REGION, "es", current_credentials)
    set_env(monkeypatch, OPENSEARCH_AUTH="aoss")

    result = ship_logs(subscription_event(powertools_lines(4)))

    assert (result["indexed"], result["dead_lettered"], result["retried"]) == (0, 4, 0)
    records = assert_exactly_once_or_dead_lettered(fake, 4)
    assert {r["error"]["status"] for r in records} == {403}
    assert {r["gave_up"] for r in records} == {"permanent"}


def test_basic_auth_from_a_secrets_manager_secret(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = secrets.token_urlsafe(16)
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="opswire/opensearch-basic-auth",
        SecretString=json.dumps({"username": "shipper", "password": password}),
    )
    fake.basic = ("shipper", password)
    set_env(
        monkeypatch,
        OPENSEARCH_AUTH="basic",
        OPENSEARCH_BASIC_AUTH_SECRET_NAME="opswire/opensearch-basic-auth",
    )

    result = ship_logs(subscription_event(powertools_lines(3)))

    assert result["indexed"] == 3
    assert fake.requests[-1]["headers"]["Authorization"].startswith("Basic ")
    fake.basic = ("shipper", "rotated-elsewhere")
    refused = ship_logs(subscription_event(powertools_lines(2), first_id=100))
    assert refused["dead_lettered"] == 2
    assert {r["error"]["status"] for r in dead_letters()} == {401}


def test_item_level_429_and_mapping_errors(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, **FAST_RETRIES)
    fake.item_faults = {event_id(1): [429, 429], event_id(4): [429], event_id(6): [503]}
    lines = powertools_lines(10)
    # `order` is mapped as a number by the first document: a word there cannot be indexed.
    lines[7] = lines[7].replace('"order": 7', '"order": "seven"')
    lines[8] = lines[8].replace('"order": 8', '"order": {"id": 8}')

    result = ship_logs(subscription_event(lines))

    assert (result["indexed"], result["dead_lettered"]) == (8, 2)
    assert result["retried"] == 4  # ids 1, 4, 6, then 1 again: only the failed items
    resent = [ids for request in fake.requests[1:] for ids in request["ids"]]
    assert sorted(resent) == sorted([event_id(1), event_id(4), event_id(6), event_id(1)])
    records = assert_exactly_once_or_dead_lettered(fake, 10)
    by_id = {r["id"]: r for r in records}
    assert by_id[event_id(7)]["error"]["type"] == "mapper_parsing_exception"
    assert "json.order" in by_id[event_id(7)]["error"]["reason"]
    assert by_id[event_id(8)]["document"]["json"]["order"] == {"id": 8}
    assert by_id[event_id(8)]["index"] == "logs-aws-lambda-orders-api-2026.11.24"
    assert by_id[event_id(8)]["_key"].startswith("dead-letters/")


def test_a_413_body_is_split_and_a_document_too_large_alone_is_dead_lettered(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.max_body_bytes = 6_000
    # Random text compresses badly: 40 events of ~300 bytes make a body well over the limit.
    lines = [f"event {n} {secrets.token_hex(150)}" for n in range(40)]
    lines[13] = "huge " + secrets.token_hex(8_000)  # alone over the limit, even gzipped

    result = ship_logs(subscription_event(lines))

    statuses = [r["raw_bytes"] > fake.max_body_bytes for r in fake.requests]
    assert statuses[0] and not statuses[-1]  # the first body was refused, the last fitted
    assert (result["indexed"], result["dead_lettered"]) == (39, 1)
    assert result["retried"] == 0  # splitting is not retrying
    (record,) = assert_exactly_once_or_dead_lettered(fake, 40)
    assert (record["id"], record["error"]["status"]) == (event_id(13), 413)
    assert "Request size exceeded" in record["error"]["reason"]


def test_a_503_of_the_whole_request_is_retried(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, **FAST_RETRIES)
    fake.request_faults = [Fault(status=503), Fault(status=503)]

    result = ship_logs(subscription_event(powertools_lines(6)))

    assert len(fake.requests) == 3
    assert (result["indexed"], result["retried"], result["dead_lettered"]) == (6, 12, 0)
    assert_exactly_once_or_dead_lettered(fake, 6)


def test_a_timeout_is_retried_and_the_late_write_does_not_duplicate(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, LOG_REQUEST_TIMEOUT_SECONDS="0.3", **FAST_RETRIES)
    fake.request_faults = [Fault(delay_seconds=1.0)]  # answers after the client gave up

    result = ship_logs(subscription_event(powertools_lines(5)))

    assert (result["indexed"], result["retried"]) == (5, 5)
    import time

    time.sleep(1.0)  # let the slow request finish its writes too
    assert_exactly_once_or_dead_lettered(fake, 5)
    versions = {fake.versions[key] for key in fake.documents}
    assert versions == {2}  # written twice, one document per id


def test_when_the_time_runs_out_the_rest_goes_to_the_bucket(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, LOG_RETRY_BASE_SECONDS="0.3", LOG_RETRY_MAX_SECONDS="0.3",
            LOG_TIME_RESERVE_SECONDS="1", LOG_MAX_ATTEMPTS="50")  # fmt: skip
    fake.item_faults = {event_id(n): [429] * 100 for n in (0, 2)}

    result = ship_logs(subscription_event(powertools_lines(4)), timeout_seconds=3)

    assert (result["indexed"], result["dead_lettered"]) == (2, 2)
    records = assert_exactly_once_or_dead_lettered(fake, 4)
    assert {r["gave_up"] for r in records} == {"time"}
    assert {r["error"]["status"] for r in records} == {429}
    assert all(r["attempts"] >= 2 for r in records)


def test_replay_reships_dead_letters_once_the_mapping_is_fixed(
    ship_logs: Invoke, fake: FakeOpenSearch
) -> None:
    lines = powertools_lines(4)
    lines[2] = lines[2].replace('"order": 2', '"order": "two"')
    first = ship_logs(subscription_event(lines))
    assert first["dead_lettered"] == 1
    # The operator fixes the mapping (here: a new index would take strings in `order`).
    for mapping in fake.mappings.values():
        mapping["json.order"] = "keyword"

    replayed = ship_logs({"replay": {}})

    assert (replayed["objects"], replayed["indexed"], replayed["dead_lettered"]) == (1, 1, 0)
    assert dead_letters() == []
    assert sorted(fake.ids()) == [event_id(n) for n in range(4)]
    assert (
        fake.documents[("logs-aws-lambda-orders-api-2026.11.24", event_id(2))]["json"]["order"]
        == "two"
    )


def test_data_streams_take_create_and_a_second_delivery_is_already_indexed(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, LOG_INDEX_MODE="data_stream", LOG_INDEX_PATTERN="logs-{group}")
    event = subscription_event(powertools_lines(3))

    first = ship_logs(event)
    again = ship_logs(event)  # Lambda retried the same delivery

    assert fake.templates["opswire-logs"]["data_stream"] == {
        "timestamp_field": {"name": "@timestamp"}
    }
    assert "logs-aws-lambda-orders-api" in fake.data_streams
    assert (first["indexed"], first["already_indexed"]) == (3, 0)
    assert (again["indexed"], again["already_indexed"], again["dead_lettered"]) == (3, 3, 0)
    assert_exactly_once_or_dead_lettered(fake, 3)


def test_an_existing_index_template_is_left_alone(ship_logs: Invoke, fake: FakeOpenSearch) -> None:
    fake.templates["opswire-logs"] = {"index_patterns": ["logs-*"], "priority": 1, "tuned": True}

    ship_logs(subscription_event(powertools_lines(1)))

    assert fake.templates["opswire-logs"]["tuned"] is True


def test_no_endpoint_and_no_sink_dead_letters_everything_for_a_later_replay(
    ship_logs: Invoke, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "")

    result = ship_logs(subscription_event(powertools_lines(3)))

    assert (result["indexed"], result["dead_lettered"]) == (0, 3)
    assert {r["error"]["type"] for r in dead_letters()} == {"OpenSearchNotConfiguredError"}
    assert fake.requests == []


def test_the_gzip_body_is_the_ndjson_the_documents_make(
    ship_logs: Invoke, fake: FakeOpenSearch
) -> None:
    ship_logs(subscription_event(["plain", "text"]))

    request = fake.requests[-1]
    assert request["body"].count(b"\n") == 4
    first_action = json.loads(request["body"].splitlines()[0])
    assert first_action == {
        "index": {"_index": "logs-aws-lambda-orders-api-2026.11.24", "_id": event_id(0)}
    }
    assert gzip.decompress(gzip.compress(request["body"])) == request["body"]
