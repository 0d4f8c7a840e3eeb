"""Log events -> documents, index names, decoding of subscription payloads."""

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from opswire.core.errors import LogPayloadError
from opswire.log_shipping.decode import decode_subscription
from opswire.log_shipping.documents import DocumentBuilder, LogSource, normalize_log_group
from opswire.log_shipping.index_template import index_patterns, index_template_body
from tests.conftest import EVENTS

SOURCE = LogSource("/aws/lambda/Orders-API", "2026/11/24/[$LATEST]abc", "123456789012", "eu-west-1")
TS = 1795554312481  # 2026-11-24T21:05:12.481Z


def build(message: str, timestamp: int = TS) -> dict[str, Any]:
    """The document as the shipper sends it (the source line of its bulk item)."""
    invalid: list[dict[str, Any]] = []
    builder = DocumentBuilder(SOURCE, "logs-{group}-{date}")
    (item,) = builder.bulk_items(
        [{"id": "1", "timestamp": timestamp, "message": message}], "index", invalid
    )
    assert invalid == [] and item.doc_id == "1"
    document: dict[str, Any] = orjson.loads(item.source)
    return document


def sample_messages(name: str) -> list[str]:
    document = json.loads((EVENTS / "cwlogs" / name).read_text())
    events = document if isinstance(document, list) else document["logEvents"]
    return [e if isinstance(e, str) else e["message"] for e in events]


def test_every_document_has_time_message_and_origin() -> None:
    document = build("plain words\n")

    assert document == {
        "@timestamp": "2026-11-24T21:05:12.481Z",
        "message": "plain words",
        "log_group": "/aws/lambda/Orders-API",
        "log_stream": "2026/11/24/[$LATEST]abc",
        "owner": "123456789012",
        "region": "eu-west-1",
    }


def test_powertools_json_lines_keep_the_object_and_lift_level_and_request_id() -> None:
    first, warning, error = (build(m) for m in sample_messages("powertools-structured.json"))

    assert first["message"] == "order accepted"
    assert first["level"] == "INFO"
    assert first["request_id"] == "6f9d1c3e-2b7a-4e8f-9c1d-3a5b7e9f1c2d"
    assert first["json"]["amount_cents"] == 12900
    assert first["json"]["service"] == "orders"
    assert warning["level"] == "WARNING" and warning["json"]["remaining"] == 3
    assert error["level"] == "ERROR"
    assert error["json"]["exception"].startswith("Traceback")


def test_lambda_platform_lines_become_lambda_fields() -> None:
    init, start, end, report = (build(m) for m in sample_messages("lambda-platform-lines.json"))

    assert "lambda" not in init  # INIT_START carries no request id
    assert start["lambda"] == {
        "event": "START",
        "request_id": "6f9d1c3e-2b7a-4e8f-9c1d-3a5b7e9f1c2d",
        "version": "$LATEST",
    }
    assert end["request_id"] == "6f9d1c3e-2b7a-4e8f-9c1d-3a5b7e9f1c2d"
    assert report["lambda"] == {
        "event": "REPORT",
        "request_id": "6f9d1c3e-2b7a-4e8f-9c1d-3a5b7e9f1c2d",
        "duration_ms": 182.41,
        "billed_duration_ms": 183.0,
        "memory_size_mb": 256,
        "max_memory_used_mb": 91,
        "init_duration_ms": 412.07,
        "xray_trace_id": "1-6743a1b8-3c9e5f7a1b2d4e6f8a0c2e4b",
    }


def test_python_runtime_text_lines_get_level_and_request_id_other_text_stays_text() -> None:
    info, error, access, braces = (build(m) for m in sample_messages("plain-text.json"))

    assert (info["level"], info["request_id"]) == ("INFO", "6f9d1c3e-2b7a-4e8f-9c1d-3a5b7e9f1c2d")
    assert error["level"] == "ERROR"
    assert "level" not in access and "json" not in access
    assert access["message"].startswith("10.0.3.17 - -")
    assert "json" not in braces and braces["message"] == "{ not json, just braces }"


def test_lambda_json_log_format_platform_records() -> None:
    line = json.dumps(
        {
            "time": "2026-11-24T21:05:12.481Z",
            "type": "platform.report",
            "record": {"requestId": "r-1", "metrics": {"durationMs": 12.5, "maxMemoryUsedMB": 70}},
        }
    )
    document = build(line)

    assert document["request_id"] == "r-1"
    assert document["lambda"] == {
        "event": "REPORT",
        "request_id": "r-1",
        "duration_ms": 12.5,
        "max_memory_used_mb": 70,
    }


def test_a_json_message_that_is_not_a_string_keeps_the_raw_line_as_message() -> None:
    line = '{"level": "info", "message": {"nested": true}}'
    document = build(line)

    assert document["message"] == line
    assert document["level"] == "INFO"
    assert document["json"]["message"] == {"nested": True}


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("/aws/lambda/Orders-API", "aws-lambda-orders-api"),
        ("/ecs/web app#1", "ecs-web-app-1"),
        ("_private", "private"),
        ("///", "unknown"),
    ],
)
def test_log_group_names_are_normalized_for_index_names(group: str, expected: str) -> None:
    assert normalize_log_group(group) == expected


def test_items_carry_action_lines_with_index_and_event_id() -> None:
    builder = DocumentBuilder(SOURCE, "logs-{group}-{date}")
    events = [
        {"id": "a", "timestamp": TS, "message": "one"},
        {"id": 7, "timestamp": str(TS + 3 * 3600 * 1000), "message": None},
        {"timestamp": TS, "message": "no id"},
    ]
    invalid: list[dict[str, Any]] = []

    first, second = builder.bulk_items(events, "create", invalid)

    assert first.line.splitlines()[0] == (
        b'{"create":{"_index":"logs-aws-lambda-orders-api-2026.11.24","_id":"a"}}'
    )
    assert (second.index, second.doc_id) == ("logs-aws-lambda-orders-api-2026.11.25", "7")
    assert orjson.loads(second.source)["message"] == ""
    assert [problem["event"] for problem in invalid] == [events[2]]


def test_daily_index_from_the_event_time_in_utc() -> None:
    builder = DocumentBuilder(SOURCE, "logs-{group}-{date}")

    assert builder.index_for(TS) == "logs-aws-lambda-orders-api-2026.11.24"
    assert builder.index_for(TS + 3 * 3600 * 1000) == "logs-aws-lambda-orders-api-2026.11.25"
    assert DocumentBuilder(SOURCE, "app-logs").index_for(TS) == "app-logs"


def test_index_template_matches_what_the_pattern_names_and_maps_keywords() -> None:
    assert index_patterns("logs-{group}-{date}") == ["logs-*"]
    assert index_patterns("{group}-logs") == ["*-logs"]
    body = index_template_body("logs-{group}", "data_stream")
    properties = body["template"]["mappings"]["properties"]

    assert properties["@timestamp"] == {"type": "date"}
    for field in ("log_group", "log_stream", "level", "request_id"):
        assert properties[field]["type"] == "keyword"
    assert body["data_stream"] == {"timestamp_field": {"name": "@timestamp"}}
    assert "data_stream" not in index_template_body("logs-{group}-{date}", "index")


def _payload(document: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()
    return {"awslogs": {"data": data}}


def test_decode_a_data_message_and_recognize_a_control_message() -> None:
    data = decode_subscription(
        _payload(
            {
                "messageType": "DATA_MESSAGE",
                "owner": "123456789012",
                "logGroup": "/g",
                "logStream": "s",
                "subscriptionFilters": ["f"],
                "logEvents": [{"id": "1", "timestamp": TS, "message": "m"}],
            }
        )
    )
    control = decode_subscription(
        _payload({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logEvents": []})
    )

    assert (data.log_group, data.log_stream, len(data.log_events)) == ("/g", "s", 1)
    assert not data.is_control_message
    assert control.is_control_message


@pytest.mark.parametrize(
    "event",
    [
        {"Records": []},
        {"awslogs": {"data": "not base64!"}},
        {"awslogs": {"data": base64.b64encode(b"not gzip").decode()}},
        {"awslogs": {"data": base64.b64encode(gzip.compress(b"[1, 2]")).decode()}},
        {"awslogs": {"data": base64.b64encode(gzip.compress(b'{"logEvents": []}')).decode()}},
    ],
)
def test_anything_else_is_a_payload_error(event: dict[str, Any]) -> None:
    with pytest.raises(LogPayloadError):
        decode_subscription(event)


def test_sample_files_exist_for_every_kind(repo_root: Path) -> None:
    names = {p.name for p in (repo_root / "events" / "cwlogs").glob("*.json")}
    assert {"powertools-structured.json", "lambda-platform-lines.json", "plain-text.json"} <= names
