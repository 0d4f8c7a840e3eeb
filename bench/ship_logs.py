"""Log shipping throughput: ShipLogsFunction's handler next to a plain Python shipper.

Builds one CloudWatch Logs subscription payload of 10,000 structured JSON (Powertools) log lines
and ships it, in the same run, two ways against the same local HTTP bulk endpoint:

* opswire: ``functions/ship_logs/app.handler`` in-process (auth none), as Lambda would call it;
* baseline: stdlib ``json`` to decode and build the same documents, opensearch-py
  ``helpers.bulk`` (default client: urllib3, chunks of 500, stdlib JSON, no compression).

The endpoint runs in its own process and answers like OpenSearch 2.x (all items created); it
measures the time it spends on each request, and that server time is subtracted from the wall
time, so "handler ms" is the client's own work. Before timing, both shippers' documents are
recorded by the endpoint and compared: the figures are for the same documents. Peak memory is
the tracemalloc peak of one more run of each (timed runs go without tracemalloc).

A benchmark: it prints figures and exits 0 (1 only if the documents differ or a run fails).
Target: at least 3x the baseline's events/s at no more than its peak memory.
"""

import argparse
import base64
import contextlib
import gzip
import importlib.util
import io
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
import tracemalloc
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 10_000
REGION = "us-east-1"
GROUP = "/aws/lambda/orders-api"
TARGET_SPEEDUP = 3.0


# ---- the bulk endpoint (own process) -------------------------------------------------------------
class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server_seconds = 0.0
        self.requests = 0
        self.bytes = 0
        self.record = False
        self.documents: dict[str, Any] = {}


def _serve(port_queue: Any) -> None:
    stats = _Stats()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            with stats.lock:
                answer = {
                    "server_seconds": stats.server_seconds,
                    "requests": stats.requests,
                    "bytes": stats.bytes,
                }
                if self.path == "/_bench/documents":
                    answer = stats.documents
            self._answer(200, json.dumps(answer).encode())

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._answer(200, b'{"acknowledged":true}')

        def do_POST(self) -> None:
            started = time.perf_counter()
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.startswith("/_bench/record"):
                with stats.lock:
                    stats.record = self.path.endswith("on")
                    stats.documents = {}
                self._answer(200, b"{}")
                return
            body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
            lines = body.splitlines()
            items = []
            pairs = zip(lines[::2], lines[1::2], strict=True)
            for number, (action_line, source_line) in enumerate(pairs):
                ((op, action),) = json.loads(action_line).items()
                items.append(
                    {op: {"_index": action["_index"], "_id": action["_id"], "_version": 1,
                          "result": "created", "_shards": {"total": 2, "successful": 1,
                          "failed": 0}, "_seq_no": number, "_primary_term": 1, "status": 201}}
                )  # fmt: skip
                if stats.record:
                    with stats.lock:
                        stats.documents[action["_id"]] = [
                            action["_index"],
                            json.loads(source_line),
                        ]
            if "filter_path=" in self.path:  # what opswire asks for: errors,items.*.status,...
                items = [{op: {"status": 201}} for item in items for op in item]
            answer = json.dumps({"took": 5, "errors": False, "items": items}).encode()
            self._answer(200, answer)
            with stats.lock:
                stats.server_seconds += time.perf_counter() - started
                stats.requests += 1
                stats.bytes += len(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())


def _post(url: str) -> None:
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request) as response:
        response.read()


# ---- the payload ---------------------------------------------------------------------------------
def subscription_payload(count: int) -> dict[str, Any]:
    start = 1_795_554_312_000
    events = []
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
        events.append(
            {"id": f"{37_000_000_000 + n:056d}", "timestamp": start + n * 7,
             "message": json.dumps(line) + "\n"}
        )  # fmt: skip
    document = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": GROUP,
        "logStream": "2026/11/24/[$LATEST]4f1c2a9b8e7d4c3b9a0f1e2d3c4b5a69",
        "subscriptionFilters": ["opswire-ship-logs"],
        "logEvents": events,
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(document).encode()))
                        .decode()}}  # fmt: skip


# ---- the baseline: a plain Python shipper --------------------------------------------------------
_LEVEL_KEYS = ("level", "levelname", "log_level", "severity", "loglevel")
_REQUEST_ID_KEYS = ("function_request_id", "request_id", "requestId", "aws_request_id",
                    "AWSRequestId")  # fmt: skip


def baseline_documents(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The same documents as opswire builds (for JSON lines), the plain way."""
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
            document["json"] = parsed
            if isinstance(parsed.get("message"), str):
                document["message"] = parsed["message"]
            for key in _LEVEL_KEYS:
                if isinstance(parsed.get(key), str):
                    document["level"] = parsed[key].upper()
                    break
            for key in _REQUEST_ID_KEYS:
                if isinstance(parsed.get(key), str):
                    document["request_id"] = parsed[key]
                    break
        actions.append(
            {"_index": f"logs-{group}-{when:%Y.%m.%d}", "_id": log_event["id"], "_source": document}
        )
    return actions


def baseline_ship(event: dict[str, Any], client: Any) -> None:
    from opensearchpy import helpers

    helpers.bulk(client, baseline_documents(event))


# ---- running -------------------------------------------------------------------------------------
@contextlib.contextmanager
def quiet() -> Iterator[None]:
    saved = sys.stdout
    sys.stdout = io.StringIO()  # handler log lines and EMF metrics
    try:
        yield
    finally:
        sys.stdout = saved


def load_handler(endpoint: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    os.environ.update(
        {
            "OPENSEARCH_ENDPOINT": endpoint,
            "OPENSEARCH_AUTH": "none",
            "LOG_DLQ_BUCKET": "bench-unused",  # nothing fails here: nothing is dead-lettered
            "AWS_REGION": REGION,
            "POWERTOOLS_SERVICE_NAME": "opswire",
            "POWERTOOLS_METRICS_NAMESPACE": "opswire",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",  # no log line per run in the figures
        }
    )
    sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT / "local")]
    spec = importlib.util.spec_from_file_location(
        "ship_logs_app", ROOT / "functions/ship_logs/app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from opswire_local.lambda_runtime import LambdaContext

    def run(event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext("bench-ship-logs", "arn:aws:lambda:::function:bench", 512, 900)
        with quiet():
            result: dict[str, Any] = module.handler(event, context)
        if result["indexed"] != EVENTS:
            raise RuntimeError(f"handler did not index everything: {result}")
        return result

    return run


def measure(url: str, ship: Callable[[], Any]) -> tuple[float, float, int, int]:
    """(wall s, server s, requests, bytes) of one run."""
    before = _get(url + "/_bench/stats")
    started = time.perf_counter()
    ship()
    wall = time.perf_counter() - started
    after = _get(url + "/_bench/stats")
    return (
        wall,
        after["server_seconds"] - before["server_seconds"],
        after["requests"] - before["requests"],
        after["bytes"] - before["bytes"],
    )


def peak_bytes(ship: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        ship()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - current


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}"
    try:
        return _bench(url, args.runs)
    finally:
        server.terminate()


def _bench(url: str, runs: int) -> int:
    from opensearchpy import OpenSearch

    event = subscription_payload(EVENTS)
    raw = gzip.decompress(base64.b64decode(event["awslogs"]["data"]))
    ours = load_handler(url)
    client = OpenSearch(hosts=[url])
    shippers: dict[str, Callable[[], Any]] = {
        "opswire ship_logs": lambda: ours(event),
        "baseline helpers.bulk": lambda: baseline_ship(event, client),
    }

    # Same documents? Record what each one sends and compare.
    recorded = {}
    for name, ship in shippers.items():
        _post(url + "/_bench/record/on")
        ship()  # also the warm-up: imports, connection pools, index template
        recorded[name] = _get(url + "/_bench/documents")
    _post(url + "/_bench/record/off")
    same = recorded["opswire ship_logs"] == recorded["baseline helpers.bulk"]
    if not same or len(recorded["opswire ship_logs"]) != EVENTS:
        print("error: the two shippers did not send the same documents", file=sys.stderr)
        return 1

    samples: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in shippers}
    for _ in range(runs):
        for name, ship in shippers.items():
            samples[name].append(measure(url, ship))
    peaks = {name: peak_bytes(ship) for name, ship in shippers.items()}

    print(
        f"ship_logs bench: {EVENTS:,} structured JSON log events ({len(raw) / 2**20:.1f} MiB "
        f"decoded, {len(event['awslogs']['data']) / 1024:.0f} KiB payload), same documents "
        f"verified; median of {runs} runs; Python {sys.version.split()[0]}"
    )
    print(f"{'shipper':<24}{'wall ms':>9}{'server ms':>11}{'handler ms':>12}{'events/s':>10}"
          f"{'peak MiB':>10}{'requests':>10}{'sent KiB':>10}")  # fmt: skip
    rates = {}
    for name, values in samples.items():
        wall = statistics.median(v[0] for v in values)
        server = statistics.median(v[1] for v in values)
        handler = statistics.median(v[0] - v[1] for v in values)
        rates[name] = EVENTS / handler
        requests, sent = values[-1][2], values[-1][3]
        print(f"{name:<24}{wall * 1000:>9.1f}{server * 1000:>11.1f}{handler * 1000:>12.1f}"
              f"{rates[name]:>10,.0f}{peaks[name] / 2**20:>10.1f}{requests:>10}"
              f"{sent / 1024:>10.0f}")  # fmt: skip
    speedup = rates["opswire ship_logs"] / rates["baseline helpers.bulk"]
    memory = peaks["opswire ship_logs"] / peaks["baseline helpers.bulk"]
    print(
        f"throughput {speedup:.1f}x the baseline (target >= {TARGET_SPEEDUP:.0f}x: "
        f"{'met' if speedup >= TARGET_SPEEDUP else 'NOT met'}); peak memory {memory:.2f}x the "
        f"baseline (target <= 1x: {'met' if memory <= 1 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
