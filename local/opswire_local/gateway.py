"""``opswire local up``: the platform kept running, its HttpApi routes served on 127.0.0.1.

Besides the template's routes, control routes let the CLI reach the running platform instead of
starting its own: ``GET /_opswire/health``; ``POST /_opswire/send`` (``opswire local send``). A
moto server on 127.0.0.1 shares the platform's in-memory AWS: the CLI's boto3 clients reach the
local stack's resources there (``opswire silence`` writes the incident table through it). While
it runs, ``.opswire/local-up.json`` (mode 0600) holds both addresses, the names of the functions
and tables, and the run's control token.

Every control route but health requires that per-run random token in ``X-Opswire-Token`` (401)
and ``Content-Type: application/json`` (415): a web page open in the developer's browser can
reach 127.0.0.1, but neither knows the token nor can send JSON without a CORS preflight, which
this gateway never answers. The stack's own routes (webhooks, Slack, ack links) are served as
API Gateway serves them: they check their own signatures.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import secrets
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from opswire_local.platform import LocalPlatform, combine

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

_CONTROL_PREFIX = "/_opswire/"
TOKEN_HEADER = "X-Opswire-Token"


def _state_file(state_path: Path) -> Path:
    return state_path / "local-up.json"


def new_control_token() -> str:
    """A fresh random token for one run of ``local up``'s control routes."""
    return secrets.token_urlsafe(32)


def make_server(platform: LocalPlatform, port: int, token: str) -> ThreadingHTTPServer:
    """The gateway of ``platform`` on 127.0.0.1:``port`` (0: any free port), not yet serving;
    its control routes require ``token``."""
    return ThreadingHTTPServer(("127.0.0.1", port), _handler_class(platform, token))


def start_aws_endpoint() -> ThreadedMotoServer:
    """A moto server on 127.0.0.1 (any free port) serving the running platform's in-memory AWS:
    started while the platform's ``mock_aws`` is active, it shares the same backends."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


def announce(platform: LocalPlatform, url: str, aws: ThreadedMotoServer, token: str) -> Path:
    """Write ``local-up.json`` (mode 0600, it holds the control ``token``): where the CLI finds
    this platform, its AWS and its resources."""
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
        # the stack's outputs, as `opswire provision|secrets --local` read a deployed stack's
        "outputs": {
            name: str(platform.resolve(output["Value"]))
            for name, output in (platform.template.document.get("Outputs") or {}).items()
        },
        "token": token,
    }
    partial = state_file.with_name(state_file.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(json.dumps(document))
    os.replace(partial, state_file)
    return state_file


def serve(platform: LocalPlatform, port: int, out: TextIO) -> int:
    token = new_control_token()
    server = make_server(platform, port, token)
    aws = start_aws_endpoint()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    state_file = announce(platform, url, aws, token)
    description = platform.describe()
    print(f"opswire local platform on {url} (Ctrl-C to stop)", file=out)
    print(f"  control  token {token} ({TOKEN_HEADER}; also in {state_file})", file=out)
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


def _handler_class(platform: LocalPlatform, token: str) -> type[BaseHTTPRequestHandler]:
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
            elif self.path.startswith(_CONTROL_PREFIX):
                self._control(body)
            else:
                headers = {name: value for name, value in self.headers.items()}
                report = platform.send(f"http:{self.command} {self.path}", body, headers=headers)
                http = report.http or {"status": 502, "headers": {}, "body": str(report.errors)}
                self._answer(http["status"], http["headers"], str(http["body"]).encode())

        def _control(self, body: bytes) -> None:
            """A state-changing control route: token, then JSON content type, then the route."""
            given = (self.headers.get(TOKEN_HEADER) or "").encode()
            if not hmac.compare_digest(given, token.encode()):
                self._refuse(401, f"missing or wrong {TOKEN_HEADER} (see local-up.json)")
            elif self.headers.get_content_type() != "application/json":
                self._refuse(415, "control routes take Content-Type: application/json")
            elif self.path == _CONTROL_PREFIX + "send" and self.command == "POST":
                try:
                    request = json.loads(body)
                    events = list(request["events"])
                except (ValueError, KeyError, TypeError) as exc:
                    self._refuse(400, f"not a send request: {exc!r}")
                    return
                self._control_send(request, events)
            else:
                self._refuse(404, "no such control route")

        def _refuse(self, status: int, message: str) -> None:
            answer = json.dumps({"ok": False, "error": message}).encode()
            self._answer(status, {"content-type": "application/json"}, answer)

        def _control_send(self, request: dict[str, Any], events: list[dict[str, Any]]) -> None:
            reports = [
                platform.send(
                    request["source"],
                    base64.b64decode(event["body"]) if event.get("body") is not None else None,
                    headers=request.get("headers") or {},
                    event_file=event.get("file"),
                )
                for event in events
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
    token: str,
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
        headers={"Content-Type": "application/json", TOKEN_HEADER: token},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            result: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise SystemExit(
            f"opswire: the running local up at {url} refused the send: HTTP {exc.code} {detail}"
            " (restart `opswire local up` if it predates its control token)"
        ) from None
    return result
