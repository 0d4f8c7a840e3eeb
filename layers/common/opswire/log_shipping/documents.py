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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from opswire.log_shipping.bulk import BulkItem, BulkOp, action_prefix

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
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
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

    def index_for(self, timestamp_ms: int) -> str:
        day = timestamp_ms // _DAY_MS
        index = self._index_by_day.get(day)
        if index is None:
            date = time.strftime("%Y.%m.%d", time.gmtime(day * 86_400))
            index = self._index_by_day[day] = self._pattern.replace("{date}", date)
        return index

    def bulk_items(
        self, events: Iterable[dict[str, Any]], op: BulkOp, invalid: list[dict[str, Any]]
    ) -> Iterator[BulkItem]:
        """The document of every event, encoded as a ``_bulk`` item, in one loop: the hot path
        of the shipper (a 10,000-event delivery runs it 10,000 times), so what repeats is
        hoisted out, and the source line is joined from orjson pieces, without a document dict,
        in a fixed key order: ``@timestamp``, ``message``, the origin fields, then ``json``,
        ``level``, ``request_id``, ``lambda``. Events without id or timestamp go to
        ``invalid`` instead."""
        source = self._source
        dumps = orjson.dumps
        join = b"".join
        # ,"log_group":...,"log_stream":...,"owner":...,"region":... : the same in every document
        origin = dumps(
            {
                "log_group": source.log_group,
                "log_stream": source.log_stream,
                "owner": source.owner,
                "region": source.region,
            }
        )
        origin = b"," + origin[1:-1]
        millis_text = _MILLIS
        last_second = -1
        time_prefix = b""
        index = ""
        prefix = b""
        last_day = -1
        for event in events:
            try:
                timestamp = event["timestamp"]
                doc_id = event["id"]
                if timestamp.__class__ is not int:
                    timestamp = int(timestamp)
                if doc_id.__class__ is not str:
                    doc_id = str(doc_id)
            except (KeyError, TypeError, ValueError) as exc:
                invalid.append({"event": event, "reason": repr(exc)})
                continue
            message = event.get("message")
            if message.__class__ is not str:
                message = "" if message is None else str(message)
            second, millis = divmod(timestamp, 1000)
            if second != last_second:
                last_second = second
                second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
                time_prefix = b'}}\n{"@timestamp":"' + second_text.encode() + b"."
                day = second // 86_400
                if day != last_day:
                    last_day = day
                    index = self.index_for(timestamp)
                    prefix = action_prefix(op, index)
            text, fields = _parsed_fields(message)
            line = join(
                (prefix, dumps(doc_id), time_prefix, millis_text[millis], dumps(text), origin,
                 fields, b"}\n")
            )  # fmt: skip
            yield BulkItem(op, index, doc_id, line)


# What follows the @timestamp's seconds: ``<millis>Z","message":``, for every millisecond.
_MILLIS = [f'{n:03d}Z","message":'.encode() for n in range(1000)]


def _parsed_fields(message: str) -> tuple[str, bytes]:
    """The document's ``message`` and its parsed fields as JSON members (``,"json":{...},...``;
    empty for text)."""
    first = message[:1]
    if first == "{" or (first.isspace() and message.lstrip().startswith("{")):
        return _json_fields(message)
    if first == "S" or first == "E" or first == "R":
        found = _PLATFORM_LINE.match(message)
        if found is not None:
            return message.rstrip("\n"), _platform_fields(found.group(1), found.group(2), message)
    elif first == "[":
        found = _RUNTIME_TEXT_LINE.match(message)
        if found is not None:
            fields = {"level": found.group(1).upper(), "request_id": found.group(2)}
            return message.rstrip("\n"), b"," + orjson.dumps(fields)[1:-1]
    return message.rstrip("\n"), b""


def _first_str(get: Any, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = get(key)
        if value.__class__ is str:
            return str(value)
    return None


def _json_fields(message: str) -> tuple[str, bytes]:
    try:
        parsed = orjson.loads(message)
    except orjson.JSONDecodeError:
        return message.rstrip("\n"), b""  # looks like JSON, is not: stays text
    if parsed.__class__ is not dict:
        return message.rstrip("\n"), b""
    get = parsed.get
    text = get("message")
    if text.__class__ is not str:
        text = message.rstrip("\n")
    fields: dict[str, Any] = {"json": parsed}
    level = get("level")  # the common keys first: one lookup each for Powertools lines
    if level.__class__ is not str:
        level = _first_str(get, _LEVEL_KEYS)
    if level is not None:
        fields["level"] = level.upper()
    request_id = get("function_request_id")
    if request_id.__class__ is not str:
        request_id = _first_str(get, _REQUEST_ID_KEYS)
    if request_id is not None:
        fields["request_id"] = request_id
    kind = get("type")
    if kind.__class__ is str and kind.startswith("platform."):
        record = get("record")
        if isinstance(record, dict):
            _add_lambda_json_record(fields, kind, record)
    try:
        encoded = orjson.dumps(fields)
    except TypeError:  # something orjson cannot write back: keep the text and the fields
        del fields["json"]
        encoded = orjson.dumps(fields)
    return text, b"," + encoded[1:-1] if len(encoded) > 2 else b""


def _add_lambda_json_record(fields: dict[str, Any], kind: str, record: dict[str, Any]) -> None:
    """Lambda's JSON log format: platform.start / platform.report / ..."""
    lambda_fields: dict[str, Any] = {"event": kind.removeprefix("platform.").upper()}
    request_id = record.get("requestId")
    if isinstance(request_id, str):
        fields["request_id"] = lambda_fields["request_id"] = request_id
    metrics = record.get("metrics")
    if isinstance(metrics, dict):
        for name, value in metrics.items():
            if isinstance(value, int | float):
                lambda_fields[_snake(name)] = value
    fields["lambda"] = lambda_fields


def _platform_fields(kind: str, request_id: str, line: str) -> bytes:
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
    return b"," + orjson.dumps({"request_id": request_id, "lambda": fields})[1:-1]


@lru_cache(maxsize=256)  # a few metric names, in every platform record
def _snake(name: str) -> str:
    """``durationMs`` -> ``duration_ms``, ``maxMemoryUsedMB`` -> ``max_memory_used_mb``."""
    return _CAMEL_HUMP.sub("_", name).lower()
