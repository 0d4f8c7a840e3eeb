"""CloudWatch Logs subscription payloads for bench/ship_logs.py, one per shape of log line.

* ``lambda-json``: a Lambda function with the JSON log format and Powertools: per invocation a
  ``platform.start`` record, Powertools records of ~15 fields (about 2% ERROR with a multi-line
  stack trace, as text and as Powertools' structured ``stack_trace``), a runtime ``print`` line
  and a ``platform.report`` record with nested metrics and tracing. The payload of the targets.
* ``structured``: the earlier benchmark's payload, flat Powertools records of 14 fields.
* ``text``: the text log format: START / END / REPORT lines, ``[LEVEL]\\t...`` runtime lines,
  plain prints, access-log lines and multi-line tracebacks as one event.
* ``large``: a few messages near the 256 KiB CloudWatch Logs event limit, JSON and text.

Deterministic (a seeded random): two runs build the same bytes.
"""

import base64
import gzip
import json
import random
from collections.abc import Callable
from typing import Any

GROUP = "/aws/lambda/orders-api"
START_MS = 1_795_554_312_000
EVENT_LIMIT = 256 * 1024 - 26  # CloudWatch Logs counts 26 bytes per event on top


def _request_id(n: int) -> str:
    return f"6f9d1c3e-2b7a-4e8f-9c1d-{n:012x}"


def _trace(n: int) -> str:
    return f"1-6743a1b8-{n:024x}"


def _when(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return f"2026-11-24T21:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}Z"


_FRAMES = [
    ("/var/task/app.py", 118, "handler", "return process(event)"),
    ("/opt/python/aws_lambda_powertools/logging/logger.py", 449, "decorate", "return fn(e, c)"),
    ("/var/task/orders/service.py", 77, "process", "charge(order, customer)"),
    ("/var/task/orders/payments.py", 203, "charge", "response = client.charge(**req)"),
    ("/var/task/orders/payments.py", 41, "_call", "raise CardDeclined(body['reason'])"),
]


def _traceback(n: int) -> str:
    lines = ["Traceback (most recent call last):"]
    for file, line, function, statement in _FRAMES:
        lines += [f'  File "{file}", line {line + n % 7}, in {function}', f"    {statement}"]
    return "\n".join([*lines, f"CardDeclined: insufficient funds for order o-{n}"])


def _powertools(n: int, ms: int, invocation: int, error: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "level": "ERROR" if error else ("INFO", "INFO", "DEBUG", "WARNING")[n % 4],
        "location": f"process:{40 + n % 30}",
        "message": f"payment declined for order o-{n}" if error else f"order o-{n} step {n % 7}",
        "timestamp": f"2026-11-24 21:05:12,{ms % 1000:03d}+0000",
        "service": "orders",
        "sampling_rate": 0.1,
        "cold_start": invocation == 0,
        "function_name": "orders-api",
        "function_memory_size": "256",
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:orders-api",
        "function_request_id": _request_id(invocation),
        "correlation_id": f"c-{invocation:08d}",
        "xray_trace_id": _trace(invocation),
        "order_id": f"o-{n}",
        "amount_cents": (n * 137) % 50_000,
        "customer": {"id": f"cus_{n % 911:05d}", "tier": ("gold", "silver", "basic")[n % 3]},
        "items": [f"SKU-{(n + k) % 300}" for k in range(n % 4)],
    }
    if error:
        record["exception_name"] = "CardDeclined"
        record["exception"] = _traceback(n)
        record["stack_trace"] = {
            "type": "CardDeclined",
            "value": "insufficient funds",
            "module": "orders.payments",
            "frames": [
                {"file": file, "line": line, "function": function, "statement": statement}
                for file, line, function, statement in _FRAMES
            ],
        }
    return record


def lambda_json_lines(count: int) -> list[str]:
    lines: list[str] = []
    per_invocation = 25
    for n in range(count):
        invocation, position = divmod(n, per_invocation)
        ms = START_MS + n * 7
        if position == 0:
            record: dict[str, Any] = {
                "time": _when(ms),
                "type": "platform.start",
                "record": {
                    "requestId": _request_id(invocation),
                    "version": "$LATEST",
                    "tracing": {"spanId": f"{invocation:016x}", "type": "X-Amzn-Trace-Id",
                                "value": f"Root={_trace(invocation)};Sampled=1"},
                },
            }  # fmt: skip
        elif position == per_invocation - 1:
            metrics: dict[str, Any] = {
                "durationMs": 12.5 + n % 300,
                "billedDurationMs": 13 + n % 300,
                "memorySizeMB": 256,
                "maxMemoryUsedMB": 70 + n % 50,
            }
            if invocation == 0:
                metrics["initDurationMs"] = 412.07
            record = {
                "time": _when(ms),
                "type": "platform.report",
                "record": {
                    "requestId": _request_id(invocation),
                    "metrics": metrics,
                    "tracing": {"spanId": f"{invocation:016x}", "type": "X-Amzn-Trace-Id",
                                "value": f"Root={_trace(invocation)};Sampled=1"},
                    "status": "success",
                },
            }  # fmt: skip
        elif position == per_invocation - 2:  # a print() under the JSON log format
            record = {"timestamp": _when(ms), "level": "INFO", "message": f"batch {invocation}",
                      "requestId": _request_id(invocation)}  # fmt: skip
        else:
            error = position == 12 and invocation % 2 == 0  # 2% of all lines
            record = _powertools(n, ms, invocation, error)
        lines.append(json.dumps(record, separators=(",", ":")) + "\n")
    return lines


def structured_lines(count: int) -> list[str]:
    lines = []
    for n in range(count):
        line = {
            "level": ("INFO", "INFO", "INFO", "WARNING", "ERROR")[n % 5],
            "location": f"handler:{40 + n % 30}",
            "message": f"order {n} processed in {n % 97} ms",
            "timestamp": "2026-11-24 21:05:12,481+0000",
            "service": "orders",
            "cold_start": n == 0,
            "function_name": "orders-api",
            "function_memory_size": "256",
            "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:orders-api",
            "function_request_id": f"6f9d1c3e-2b7a-4e8f-9c1d-{n // 20:012x}",
            "xray_trace_id": f"1-6743a1b8-{n:024x}",
            "order_id": f"o-{n}",
            "amount_cents": (n * 137) % 50_000,
            "items": n % 9,
        }
        lines.append(json.dumps(line) + "\n")
    return lines


def text_lines(count: int) -> list[str]:
    lines: list[str] = []
    per_invocation = 25
    for n in range(count):
        invocation, position = divmod(n, per_invocation)
        request = _request_id(invocation)
        when = _when(START_MS + n * 7)
        if position == 0:
            line = f"START RequestId: {request} Version: $LATEST\n"
        elif position == per_invocation - 2:
            line = f"END RequestId: {request}\n"
        elif position == per_invocation - 1:
            line = (f"REPORT RequestId: {request}\tDuration: {12.5 + n % 300:.2f} ms\tBilled "
                    f"Duration: {13 + n % 300} ms\tMemory Size: 256 MB\tMax Memory Used: "
                    f"{70 + n % 50} MB\t\nXRAY TraceId: {_trace(invocation)}\tSegmentId: "
                    f"{invocation:016x}\tSampled: true\t\n")  # fmt: skip
        elif position == 12 and invocation % 2 == 0:
            line = f"[ERROR]\t{when}\t{request}\t{_traceback(n)}\n"
        elif position % 5 == 3:
            line = (f'10.0.{n % 255}.17 - - [24/Nov/2026:21:05:14 +0000] "GET /orders/o-{n} '
                    f'HTTP/1.1" 200 {n % 5000} "-" "Mozilla/5.0"\n')  # fmt: skip
        elif position % 7 == 4:
            line = f"processing order o-{n} for customer cus_{n % 911:05d}\n"
        else:
            level = ("INFO", "INFO", "DEBUG", "WARNING")[n % 4]
            line = f"[{level}]\t{when}\t{request}\torder o-{n} step {n % 7} done\n"
        lines.append(line)
    return lines


def large_lines(count: int) -> list[str]:
    """Messages just below the event limit: a JSON record with a large field, then text."""
    rng = random.Random(15)
    lines = []
    for n in range(count):
        blob = base64.b64encode(rng.randbytes(3 * EVENT_LIMIT // 4)).decode()
        if n % 2 == 0:
            head = json.dumps(_powertools(n, START_MS + n, 0, n % 4 == 0))[:-1]
            line = head + ', "payload": "' + blob[: EVENT_LIMIT - len(head) - 20] + '"}\n'
        else:
            rows = [f"row {k}: {blob[k * 60 : k * 60 + 60]}" for k in range(EVENT_LIMIT // 60)]
            line = (f"dump of batch {n}:\n" + "\n".join(rows))[: EVENT_LIMIT - 1] + "\n"
        assert len(line.encode()) <= EVENT_LIMIT
        lines.append(line)
    return lines


PAYLOADS: dict[str, tuple[Callable[[int], list[str]], int]] = {
    "lambda-json": (lambda_json_lines, 10_000),
    "structured": (structured_lines, 10_000),
    "text": (text_lines, 10_000),
    "large": (large_lines, 24),
}


def subscription_event(lines: list[str]) -> dict[str, Any]:
    events = [
        {"id": f"{37_000_000_000 + n:056d}", "timestamp": START_MS + n * 7, "message": line}
        for n, line in enumerate(lines)
    ]
    document = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": GROUP,
        "logStream": "2026/11/24/[$LATEST]4f1c2a9b8e7d4c3b9a0f1e2d3c4b5a69",
        "subscriptionFilters": ["opswire-ship-logs"],
        "logEvents": events,
    }
    data = base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()
    return {"awslogs": {"data": data}}
