"""The baseline of bench/ship_logs.py: a plain Python shipper of the same documents.

stdlib ``json`` decodes the payload and each message and builds the documents opswire builds
(same fields, same parsed kinds of line), and opensearch-py ``helpers.bulk`` sends them (default
client: urllib3, chunks of 500, stdlib JSON, no compression). Kept apart so that a fresh process
imports only what this shipper needs.
"""

import base64
import gzip
import json
import re
from datetime import UTC, datetime
from typing import Any

REGION = "us-east-1"
_LEVEL_KEYS = ("level", "levelname", "log_level", "severity", "loglevel")
_REQUEST_ID_KEYS = ("function_request_id", "request_id", "requestId", "aws_request_id",
                    "AWSRequestId")  # fmt: skip
_PLATFORM_LINE = re.compile(r"(START|END|REPORT) RequestId: ([0-9A-Za-z-]+)")
_REPORT_METRIC = re.compile(r"([A-Z][A-Za-z ]*?): ([0-9.]+) (ms|MB)")
_RUNTIME_TEXT_LINE = re.compile(r"\[([A-Za-z]+)\]\t[^\t]*\t([0-9a-fA-F-]{36})\t")


def _first_str(parsed: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if isinstance(parsed.get(key), str):
            return str(parsed[key])
    return None


def _json_fields(document: dict[str, Any], parsed: dict[str, Any]) -> None:
    document["json"] = parsed
    if isinstance(parsed.get("message"), str):
        document["message"] = parsed["message"]
    level = _first_str(parsed, _LEVEL_KEYS)
    if level is not None:
        document["level"] = level.upper()
    request_id = _first_str(parsed, _REQUEST_ID_KEYS)
    if request_id is not None:
        document["request_id"] = request_id
    kind, record = parsed.get("type"), parsed.get("record")
    if isinstance(kind, str) and kind.startswith("platform.") and isinstance(record, dict):
        fields: dict[str, Any] = {"event": kind[len("platform.") :].upper()}
        if isinstance(record.get("requestId"), str):
            document["request_id"] = fields["request_id"] = record["requestId"]
        for name, value in (record.get("metrics") or {}).items():
            if isinstance(value, int | float):
                fields[re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()] = value
        document["lambda"] = fields


def _text_fields(document: dict[str, Any], message: str) -> None:
    platform = _PLATFORM_LINE.match(message)
    if platform is not None:
        kind, request_id = platform.groups()
        fields: dict[str, Any] = {"event": kind, "request_id": request_id}
        if kind == "REPORT":
            for name, value, unit in _REPORT_METRIC.findall(message):
                key = f"{name.strip().lower().replace(' ', '_')}_{unit.lower()}"
                fields[key] = int(value) if unit == "MB" else float(value)
            trace = re.search(r"XRAY TraceId: (\S+)", message)
            if trace is not None:
                fields["xray_trace_id"] = trace.group(1)
        elif kind == "START":
            version = re.search(r"Version: (\S+)", message)
            if version is not None:
                fields["version"] = version.group(1)
        document["request_id"] = request_id
        document["lambda"] = fields
        return
    runtime = _RUNTIME_TEXT_LINE.match(message)
    if runtime is not None:
        document["level"] = runtime.group(1).upper()
        document["request_id"] = runtime.group(2)


def baseline_documents(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The same documents as opswire builds, the plain way."""
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    group = data["logGroup"].lower().replace("/", "-").strip("-")
    actions = []
    for log_event in data["logEvents"]:
        when = datetime.fromtimestamp(log_event["timestamp"] / 1000, UTC)
        message = log_event["message"]
        document: dict[str, Any] = {
            "@timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "message": message.rstrip("\n"),
            "log_group": data["logGroup"],
            "log_stream": data["logStream"],
            "owner": data["owner"],
            "region": REGION,
        }
        try:
            parsed = json.loads(message)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            _json_fields(document, parsed)
        elif parsed is None:
            _text_fields(document, message)
        actions.append(
            {"_index": f"logs-{group}-{when:%Y.%m.%d}", "_id": log_event["id"], "_source": document}
        )
    return actions


def new_client(endpoint: str) -> Any:
    from opensearchpy import OpenSearch

    return OpenSearch(hosts=[endpoint])


def baseline_ship(event: dict[str, Any], client: Any) -> int:
    from opensearchpy import helpers

    indexed, _ = helpers.bulk(client, baseline_documents(event))
    return int(indexed)
