"""``opswire local up``: the platform kept running, its HttpApi routes served on 127.0.0.1.

Besides the template's routes, control routes let the CLI reach the running platform instead of
starting its own: ``GET /_opswire/health``; ``POST /_opswire/send`` (``opswire local send``). A
moto server on 127.0.0.1 shares the platform's in-memory AWS: the CLI's boto3 clients reach the
local stack's resources there (``opswire silence`` writes the incident table through it). While
it runs, ``.opswire/local-up.json`` holds both addresses and the names of the functions and
tables.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from opswire_local.platform import LocalPlatform, combine

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

_CONTROL_PREFIX = "/_opswire/"


def _state_file(state_path: Path) -> Path:
    return state_path / "local-up.json"


def make_server(platform: LocalPlatform, port: int) -> ThreadingHTTPServer:
    """The gateway of ``platform`` on 127.0.0.1:``port`` (0: any free port), not yet serving."""
    return ThreadingHTTPServer(("127.0.0.1", port), _handler_class(platform))


def start_aws_endpoint() -> ThreadedMotoServer:
    """A moto server on 127.0.0.1 (any free port) serving the running platform's in-memory AWS:
    started while the platform's ``mock_aws`` is active, it shares the same backends."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


def announce(platform: LocalPlatform, url: str, aws: ThreadedMotoServer) -> Path:
    """Write ``local-up.json``: where the CLI finds this platform, its AWS and its resources."""
    host, port = aws.get_host_and_port()
    description = platform.describe()
    state_file = _state_file(platform.options.state_path)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "url": url,
        "pid": os.getpid(),
        "aws_endpoint": f"http://{host}:{port}",
        "functions": description["functions"],
        "tables": description["tables"],
    }
    state_file.write_text(json.dumps(document))
    return state_file


def serve(platform: LocalPlatform, port: int, out: TextIO) -> int:
    server = make_server(platform, port)
    aws = start_aws_endpoint()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    state_file = announce(platform, url, aws)
    description = platform.describe()
    print(f"opswire local platform on {url} (Ctrl-C to stop)", file=out)
    for route in description["routes"]:
        print(f"  route    {route}  ->  {url}{route.split(' ', 1)[1]}", file=out)
    for logical_id in description["topics"]:
        print(f"  topic    sns:{logical_id}", file=out)
    for rule in description["rules"]:
        kind = "schedule" if rule["schedule"] else "rule"
        print(f"  {kind:<8} {rule['rule']}", file=out)
    for group in description["log_subscriptions"]:
        print(f"  logs     logs:{group}", file=out)
    print(f"  slack    outbox {description['slack_outbox']}", file=out)
    print("  deliver with: opswire local send SOURCE -e FILE", file=out, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        aws.stop()
        state_file.unlink(missing_ok=True)
    return 0


def _handler_class(platform: LocalPlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._route()

        def do_POST(self) -> None:
            self._route()

        def do_PUT(self) -> None:
            self._route()

        def do_DELETE(self) -> None:
            self._route()

        def do_PATCH(self) -> None:
            self._route()

        def _route(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == _CONTROL_PREFIX + "health":
                self._answer(200, {"content-type": "application/json"}, b'{"ok": true}')
            elif self.path == _CONTROL_PREFIX + "send" and self.command == "POST":
                self._control_send(body)
            else:
                headers = {name: value for name, value in self.headers.items()}
                report = platform.send(f"http:{self.command} {self.path}", body, headers=headers)
                http = report.http or {"status": 502, "headers": {}, "body": str(report.errors)}
                self._answer(http["status"], http["headers"], str(http["body"]).encode())

        def _control_send(self, body: bytes) -> None:
            request = json.loads(body)
            reports = [
                platform.send(
                    request["source"],
                    base64.b64decode(event["body"]) if event.get("body") is not None else None,
                    headers=request.get("headers") or {},
                    event_file=event.get("file"),
                )
                for event in request["events"]
            ]
            if request.get("wait"):
                reports.append(platform.wait(float(request["wait"])))
            answer = json.dumps(combine(reports), default=str).encode()
            self._answer(200, {"content-type": "application/json"}, answer)

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def running_platform(state_path: Path) -> dict[str, Any] | None:
    """What a running ``opswire local up`` for this project announced (see ``announce``), if
    it answers."""
    state_file = _state_file(state_path)
    if not state_file.is_file():
        return None
    document: dict[str, Any] = json.loads(state_file.read_text())
    try:
        with urllib.request.urlopen(document["url"] + _CONTROL_PREFIX + "health", timeout=2):
            return document
    except OSError:
        return None


def send_to_running_platform(
    url: str,
    source: str,
    events: list[tuple[str | None, bytes | None]],
    headers: dict[str, str],
    wait_seconds: float = 0.0,
) -> dict[str, Any]:
    payload = {
        "source": source,
        "headers": headers,
        "wait": wait_seconds,
        "events": [
            {"file": path, "body": None if body is None else base64.b64encode(body).decode()}
            for path, body in events
        ],
    }
    request = urllib.request.Request(
        url + _CONTROL_PREFIX + "send",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result
