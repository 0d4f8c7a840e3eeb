"""CloudWatch Logs events -> OpenSearch documents.

Every document has ``@timestamp`` (the event's time, UTC, milliseconds), ``message``,
``log_group``, ``log_stream``, ``owner`` (the account) and ``region``. Three kinds of message
get parsed fields on top:

* JSON objects (Powertools and other structured loggers): the object under ``json``; ``level``
  and ``request_id`` lifted from their usual keys; ``message`` is the object's ``message`` when
  that is a string. Lambda's own JSON platform records (``"type": "platform.report"``) too.
* Lambda platform lines ``START`` / ``END`` / ``REPORT RequestId: ...``: ``request_id`` and a
  ``lambda`` object (event, version, duration_ms, billed_duration_ms, memory_size_mb,
  max_memory_used_mb, init_duration_ms, xray_trace_id).
* The Python runtime's text format ``[LEVEL]\\t<time>\\t<request id>\\t<message>``: ``level`` and
  ``request_id``.

Anything else stays text. The document id is the CloudWatch event id, so a batch shipped twice
overwrites instead of duplicating.
"""

import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

_PLATFORM_LINE = re.compile(r"(START|END|REPORT) RequestId: ([0-9A-Za-z-]+)")
_REPORT_METRIC = re.compile(r"([A-Z][A-Za-z ]*?): ([0-9.]+) (ms|MB)")
_START_VERSION = re.compile(r"Version: (\S+)")
_XRAY_TRACE = re.compile(r"XRAY TraceId: (\S+)")
_RUNTIME_TEXT_LINE = re.compile(r"\[([A-Za-z]+)\]\t[^\t]*\t([0-9a-fA-F-]{36})\t")
_LEVEL_KEYS = ("level", "levelname", "log_level", "severity", "loglevel")
_REQUEST_ID_KEYS = (
    "function_request_id",  # Powertools
    "request_id",
    "requestId",
    "aws_request_id",
    "AWSRequestId",
)
_INDEX_UNSAFE = re.compile(r"[^a-z0-9_.-]+")
_MAX_GROUP_IN_INDEX = 180  # index names are limited to 255 bytes
_DAY_MS = 86_400_000


def normalize_log_group(log_group: str) -> str:
    """``/aws/lambda/My-Fn`` -> ``aws-lambda-my-fn``: lowercase, only characters an index name
    may hold, no leading ``-``/``_``/``.``."""
    name = _INDEX_UNSAFE.sub("-", log_group.lower()).strip("-_.")
    return name[:_MAX_GROUP_IN_INDEX].rstrip("-_.") or "unknown"


@dataclass(frozen=True)
class LogSource:
    """Where the events of one delivery come from."""

    log_group: str
    log_stream: str
    owner: str
    region: str


class DocumentBuilder:
    """Builds the documents of one delivery; caches what repeats (index per day, time prefix)."""

    def __init__(self, source: LogSource, index_pattern: str) -> None:
        self._source = source
        self._pattern = index_pattern.replace("{group}", normalize_log_group(source.log_group))
        self._index_by_day: dict[int, str] = {}
        self._second = -1
        self._second_text = ""

    def index_for(self, timestamp_ms: int) -> str:
        day = timestamp_ms // _DAY_MS
        index = self._index_by_day.get(day)
        if index is None:
            date = time.strftime("%Y.%m.%d", time.gmtime(day * 86_400))
            index = self._index_by_day[day] = self._pattern.replace("{date}", date)
        return index

    def timestamp(self, timestamp_ms: int) -> str:
        second, millis = divmod(timestamp_ms, 1000)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{millis:03d}Z"

    def build(self, event: dict[str, Any]) -> dict[str, Any]:
        """The document of one log event (``id``, ``timestamp``, ``message``)."""
        source = self._source
        message = event.get("message")
        if not isinstance(message, str):
            message = "" if message is None else str(message)
        document: dict[str, Any] = {
            "@timestamp": self.timestamp(int(event["timestamp"])),
            "message": message.rstrip("\n"),
            "log_group": source.log_group,
            "log_stream": source.log_stream,
            "owner": source.owner,
            "region": source.region,
        }
        first = message[:1]
        if first == "{" or (first.isspace() and message.lstrip().startswith("{")):
            _add_json_fields(document, message)
        elif first in "SER":
            found = _PLATFORM_LINE.match(message)
            if found is not None:
                _add_platform_fields(document, found.group(1), found.group(2), message)
        elif first == "[":
            found = _RUNTIME_TEXT_LINE.match(message)
            if found is not None:
                document["level"] = found.group(1).upper()
                document["request_id"] = found.group(2)
        return document


def _add_json_fields(document: dict[str, Any], message: str) -> None:
    try:
        parsed = orjson.loads(message)
    except orjson.JSONDecodeError:
        return  # looks like JSON, is not: stays text
    if not isinstance(parsed, dict):
        return
    document["json"] = parsed
    text = parsed.get("message")
    if isinstance(text, str):
        document["message"] = text
    for key in _LEVEL_KEYS:
        level = parsed.get(key)
        if isinstance(level, str):
            document["level"] = level.upper()
            break
    for key in _REQUEST_ID_KEYS:
        request_id = parsed.get(key)
        if isinstance(request_id, str):
            document["request_id"] = request_id
            break
    record = parsed.get("record")
    kind = parsed.get("type")
    if isinstance(kind, str) and kind.startswith("platform.") and isinstance(record, dict):
        # Lambda's JSON log format: platform.start / platform.report / ...
        lambda_fields: dict[str, Any] = {"event": kind.removeprefix("platform.").upper()}
        request_id = record.get("requestId")
        if isinstance(request_id, str):
            document["request_id"] = lambda_fields["request_id"] = request_id
        metrics = record.get("metrics")
        if isinstance(metrics, dict):
            for name, value in metrics.items():
                if isinstance(value, int | float):
                    lambda_fields[_snake(name)] = value
        document["lambda"] = lambda_fields


def _add_platform_fields(document: dict[str, Any], kind: str, request_id: str, line: str) -> None:
    fields: dict[str, Any] = {"event": kind, "request_id": request_id}
    if kind == "REPORT":
        for name, value, unit in _REPORT_METRIC.findall(line):
            key = f"{name.strip().lower().replace(' ', '_')}_{unit.lower()}"
            fields[key] = int(value) if unit == "MB" else float(value)
        trace = _XRAY_TRACE.search(line)
        if trace is not None:
            fields["xray_trace_id"] = trace.group(1)
    elif kind == "START":
        version = _START_VERSION.search(line)
        if version is not None:
            fields["version"] = version.group(1)
    document["request_id"] = request_id
    document["lambda"] = fields


def _snake(name: str) -> str:
    """``durationMs`` -> ``duration_ms``, ``maxMemoryUsedMB`` -> ``max_memory_used_mb``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
