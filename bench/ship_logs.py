"""Log shipping: ShipLogsFunction's handler next to a plain Python shipper, warm and first delivery.

Ships CloudWatch Logs subscription payloads of several shapes (bench/_ship_logs_payloads.py:
``lambda-json``, the payload of the targets, Lambda's JSON log format with Powertools records,
platform records and stack traces; ``structured``; ``text``; ``large`` messages near 256 KiB),
in the same run, two ways against the same local HTTP bulk endpoint:

* opswire: ``functions/ship_logs/app.handler`` (auth none), as Lambda would call it;
* baseline: bench/_plain_shipper.py, stdlib ``json`` to decode and build the same documents,
  opensearch-py ``helpers.bulk`` (default client: urllib3, chunks of 500, no compression).

Each payload is measured warm (``--runs`` runs in this process, after a warm-up) and as the
first delivery into a fresh interpreter (``--first-runs`` processes: imports, client creation
and the index template count, as on a Lambda cold start; the clock starts once the event is
read). The endpoint runs in its own process, answers like OpenSearch 2.x (all items created) and
measures the time it spends on each request: that server time is subtracted, so "handler ms" is
the shipper's own work. Before timing, both shippers' documents are recorded by the endpoint and
compared: the figures are for the same documents. Memory is the tracemalloc peak of one more
warm run, and the max RSS of the fresh process. The floor row is gunzip + JSON parse of the
payload alone.

A benchmark: it prints figures and exits 0 (1 only if the documents differ or a run fails).
Targets on ``lambda-json``: at least 4x the baseline's events/s warm and 2x on the first
delivery, at no more than its memory.
"""

import argparse
import base64
import contextlib
import functools
import gzip
import importlib.util
import io
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # so that bench/ imports as a namespace package

from bench._plain_shipper import REGION, baseline_ship, new_client  # noqa: E402
from bench._ship_logs_payloads import PAYLOADS, subscription_event  # noqa: E402

TARGET_PAYLOAD = "lambda-json"
TARGET_WARM = 4.0
TARGET_FIRST = 2.0


# ---- the bulk endpoint (own process) -------------------------------------------------------------
class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server_seconds = 0.0
        self.requests = 0
        self.bytes = 0
        self.templates = 0
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
                    "templates": stats.templates,
                }
                if self.path == "/_bench/documents":
                    answer = stats.documents
            self._answer(200, json.dumps(answer).encode())

        def do_PUT(self) -> None:  # the index template
            started = time.perf_counter()
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._answer(200, b'{"acknowledged":true}')
            with stats.lock:
                stats.server_seconds += time.perf_counter() - started
                stats.templates += 1

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
            answer: dict[str, Any] = {"took": 5, "errors": False, "items": items}
            if "filter_path=" in self.path:  # what opswire asks for: errors,items.*.status,...
                answer = {
                    "errors": False,
                    "items": [{op: {"status": 201}} for i in items for op in i],
                }
            self._answer(200, json.dumps(answer, separators=(",", ":")).encode())  # compact
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


# ---- running -------------------------------------------------------------------------------------
@contextlib.contextmanager
def quiet() -> Iterator[None]:
    saved = sys.stdout
    sys.stdout = io.StringIO()  # handler log lines and EMF metrics
    try:
        yield
    finally:
        sys.stdout = saved


def handler_environment(endpoint: str) -> dict[str, str]:
    return {
        "OPENSEARCH_ENDPOINT": endpoint,
        "OPENSEARCH_AUTH": "none",
        "LOG_DLQ_BUCKET": "bench-unused",  # nothing fails here: nothing is dead-lettered
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "opswire",
        "POWERTOOLS_METRICS_NAMESPACE": "opswire",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",  # no log line per run in the figures
    }


def load_handler(endpoint: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    os.environ.update(handler_environment(endpoint))
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
        if result["indexed"] != result["events"]:
            raise RuntimeError(f"handler did not index everything: {result}")
        return result

    return run


# One first delivery in a fresh interpreter (argv: shipper endpoint event-file root). The clock
# starts once the event is read (Lambda's runtime does that) and stops when the handler returns:
# imports, client creation, the index template and the delivery itself.
_FIRST_DELIVERY = """\
import io, json, sys, time
shipper, endpoint, event_path, root = sys.argv[1:]
with open(event_path) as file:
    event = json.load(file)
sys.stdout = io.StringIO()
started = time.perf_counter()
if shipper == "opswire":
    sys.path[:0] = [root + "/layers/common", root + "/functions/ship_logs"]
    import app

    class Context:
        function_name = "bench-ship-logs"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
        memory_limit_in_mb = 512
        aws_request_id = "b3c1d2e4-0000-4000-8000-000000000001"
        function_version = "$LATEST"
        log_group_name = "/aws/lambda/bench-ship-logs"
        log_stream_name = "bench"

        def get_remaining_time_in_millis(self):
            return 900_000

    indexed = app.handler(event, Context())["indexed"]
else:
    sys.path.insert(0, root)
    from bench import _plain_shipper

    indexed = _plain_shipper.baseline_ship(event, _plain_shipper.new_client(endpoint))
seconds = time.perf_counter() - started
with open("/proc/self/status") as file:  # VmHWM: peak RSS of this program (not of the fork)
    rss = int(next(line for line in file if line.startswith("VmHWM:")).split()[1])
sys.__stdout__.write(json.dumps({"seconds": seconds, "indexed": indexed, "rss_kib": rss}))
"""


Sample = dict[str, float]  # handler s, memory bytes, requests, bytes sent, templates


def first_delivery(url: str, shipper: str, event_path: str, events: int) -> Sample:
    before = _get(url + "/_bench/stats")
    completed = subprocess.run(
        [sys.executable, "-I", "-c", _FIRST_DELIVERY, shipper, url, event_path, str(ROOT)],
        env={**os.environ, **handler_environment(url)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    after = _get(url + "/_bench/stats")
    if completed.returncode != 0:
        raise RuntimeError(f"{shipper} first delivery failed:\n{completed.stderr[-3000:]}")
    child = json.loads(completed.stdout)
    if child["indexed"] != events:
        raise RuntimeError(f"{shipper} first delivery indexed {child['indexed']} of {events}")
    return _sample(before, after, child["seconds"], child["rss_kib"] * 1024)


def _sample(before: dict[str, Any], after: dict[str, Any], wall: float, memory: float) -> Sample:
    return {
        "seconds": wall - (after["server_seconds"] - before["server_seconds"]),
        "memory": memory,
        "requests": after["requests"] - before["requests"],
        "bytes": after["bytes"] - before["bytes"],
        "templates": after["templates"] - before["templates"],
    }


def measure(url: str, ship: Callable[[], Any]) -> Sample:
    """One warm run: the wall time less the time the server spent."""
    before = _get(url + "/_bench/stats")
    started = time.perf_counter()
    ship()
    wall = time.perf_counter() - started
    return _sample(before, _get(url + "/_bench/stats"), wall, 0)


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


def floor_seconds(event: dict[str, Any]) -> float:
    """The physical floor: gunzip + JSON parse of the payload (base64 included)."""
    started = time.perf_counter()
    json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    return time.perf_counter() - started


def gzip_levels(event: dict[str, Any], runs: int) -> None:
    """What LOG_GZIP_LEVEL costs on this payload's first bulk body: the transport's compressor
    (ISA-L for 1-3, zlib for 4-9) next to zlib at the fast levels."""
    import zlib

    from opswire.log_shipping.aws.opensearch import _compressor
    from opswire.log_shipping.bulk import body_of
    from opswire.log_shipping.decode import decode_subscription
    from opswire.log_shipping.documents import DocumentBuilder, LogSource

    subscription = decode_subscription(event)
    source = LogSource(subscription.log_group, subscription.log_stream, subscription.owner, "r")
    items = DocumentBuilder(source, "logs-{group}-{date}").bulk_items(
        subscription.log_events, "index", []
    )
    body = body_of(list(items))[: 5 * 2**20]  # LOG_MAX_BULK_BYTES
    engines: list[tuple[str, Callable[[bytes], bytes]]] = []
    for level in (1, 2, 3, 6):
        compress = _compressor(level)
        assert compress is not None
        engines.append((f"LOG_GZIP_LEVEL={level} ({'isal' if level <= 3 else 'zlib'})", compress))
    for level in (1, 2):
        engines.append((f"zlib level {level}", functools.partial(_zlib_gzip, zlib, level)))
    print(f"gzip of a {len(body) / 2**20:.1f} MiB bulk body (median of {runs}):", end="")
    for name, compress in engines:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            size = len(compress(body))
            times.append(time.perf_counter() - started)
        print(f"  {name} {statistics.median(times) * 1000:.1f} ms x{len(body) / size:.1f};",
              end="")  # fmt: skip
    print()


def _zlib_gzip(zlib: Any, level: int, body: bytes) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return bytes(compressor.compress(body) + compressor.flush())


def median(samples: list[Sample]) -> Sample:
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


# ---- one payload ---------------------------------------------------------------------------------
def bench_payload(
    url: str, name: str, ours: Callable[[dict[str, Any]], Any], args: argparse.Namespace
) -> dict[str, Sample]:
    """Warm and first-delivery figures of both shippers on one payload (printed)."""
    make_lines, count = PAYLOADS[name]
    lines = make_lines(count)
    event = subscription_event(lines)
    client = new_client(url)
    shippers: dict[str, Callable[[], Any]] = {
        "opswire": lambda: ours(event),
        "baseline": lambda: baseline_ship(event, client),
    }

    recorded = {}  # same documents? (also the warm-up: imports, connection pools, template)
    for shipper, ship in shippers.items():
        _post(url + "/_bench/record/on")
        ship()
        recorded[shipper] = _get(url + "/_bench/documents")
    _post(url + "/_bench/record/off")
    if recorded["opswire"] != recorded["baseline"] or len(recorded["opswire"]) != count:
        raise RuntimeError(f"{name}: the two shippers did not send the same documents")
    del recorded

    figures: dict[str, list[Sample]] = {}
    for _ in range(args.runs):
        for shipper, ship in shippers.items():
            figures.setdefault(f"warm {shipper}", []).append(measure(url, ship))
        figures.setdefault("warm floor", []).append(
            {"seconds": floor_seconds(event), "memory": 0, "requests": 0, "bytes": 0,
             "templates": 0}
        )  # fmt: skip
    for shipper, ship in shippers.items():
        figures[f"warm {shipper}"][-1]["memory"] = peak_bytes(ship)
    with tempfile.TemporaryDirectory() as folder:
        event_path = os.path.join(folder, "event.json")
        with open(event_path, "w") as file:
            json.dump(event, file)
        for _ in range(args.first_runs):
            for shipper in shippers:
                figures.setdefault(f"first {shipper}", []).append(
                    first_delivery(url, shipper, event_path, count)
                )
    # memory: the tracemalloc peak of one warm run; the max RSS of the fresh process
    result = {key: median(samples) for key, samples in figures.items()}
    for shipper in shippers:
        result[f"warm {shipper}"]["memory"] = figures[f"warm {shipper}"][-1]["memory"]
    decoded = sum(len(line.encode()) for line in lines) / 2**20
    payload_kib = len(event["awslogs"]["data"]) / 1024
    print(f"\n== {name}: {count:,} events, {decoded:.1f} MiB of messages, {payload_kib:.0f} KiB "
          "payload; same documents verified")  # fmt: skip
    print(f"{'':<22}{'handler ms':>11}{'events/s':>10}{'MiB/s':>8}{'memory MiB':>11}"
          f"{'requests':>9}{'sent KiB':>9}{'templates':>10}")  # fmt: skip
    for key, figure in result.items():
        seconds = figure["seconds"]
        memory = f"{figure['memory'] / 2**20:>11.1f}" if figure["memory"] else f"{'':>11}"
        print(f"{key:<22}{seconds * 1000:>11.1f}{count / seconds:>10,.0f}"
              f"{decoded / seconds:>8.1f}{memory}{figure['requests']:>9.0f}"
              f"{figure['bytes'] / 1024:>9.0f}{figure['templates']:>10.0f}")  # fmt: skip
    print("   ".join(
        f"{moment}: {ratio(result, moment, 'seconds', invert=True):.1f}x the baseline's events/s, "
        f"memory {ratio(result, moment, 'memory'):.2f}x" for moment in ("warm", "first")
    ))  # fmt: skip
    gzip_levels(event, args.runs)
    return result


def ratio(result: dict[str, Sample], moment: str, key: str, *, invert: bool = False) -> float:
    ours, theirs = result[f"{moment} opswire"][key], result[f"{moment} baseline"][key]
    return theirs / ours if invert else ours / theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm runs per shipper")
    parser.add_argument("--first-runs", type=int, default=3, help="fresh processes per shipper")
    parser.add_argument("--payload", action="append", choices=sorted(PAYLOADS))
    args = parser.parse_args()

    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}"
    try:
        return _bench(url, args)
    finally:
        server.terminate()


def _bench(url: str, args: argparse.Namespace) -> int:
    ours = load_handler(url)
    print(f"ship_logs bench: opswire ship_logs vs a plain Python shipper (baseline), same run; "
          f"warm = median of {args.runs} runs in this process, first = median of "
          f"{args.first_runs} fresh processes; Python {sys.version.split()[0]}; memory: "
          "tracemalloc peak (warm), max RSS (first); server time excluded")  # fmt: skip
    results = {}
    for name in args.payload or list(PAYLOADS):
        try:
            results[name] = bench_payload(url, name, ours, args)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if TARGET_PAYLOAD in results:
        result = results[TARGET_PAYLOAD]
        print(f"\ntargets on {TARGET_PAYLOAD}:")
        for moment, target in (("warm", TARGET_WARM), ("first", TARGET_FIRST)):
            speedup = ratio(result, moment, "seconds", invert=True)
            memory = ratio(result, moment, "memory")
            print(f"  {moment:<6} {speedup:.1f}x the baseline (target >= {target:.0f}x: "
                  f"{'met' if speedup >= target else 'NOT met'}); memory {memory:.2f}x "
                  f"(target <= 1x: {'met' if memory <= 1 else 'NOT met'})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
