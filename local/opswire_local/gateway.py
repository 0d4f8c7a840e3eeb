"""``opswire local up``: the platform kept running, its HttpApi routes served on 127.0.0.1.

Besides the template's routes, control routes let the CLI reach the running platform instead of
starting its own: ``GET /_opswire/health``; ``POST /_opswire/send`` (``opswire local send``);
``GET /_opswire/silences``, ``PUT`` and ``DELETE /_opswire/silences/<id>`` (``opswire silence``,
written to the platform's incident table through its ``IncidentStore``). The address is written
to ``.opswire/local-up.json`` while it runs.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from opswire.alarms.models.incident import Silence
from opswire_local.platform import LocalPlatform, combine
from opswire_local.silences import NoIncidentTableError

_CONTROL_PREFIX = "/_opswire/"
_SILENCES = _CONTROL_PREFIX + "silences"


def _state_file(state_path: Path) -> Path:
    return state_path / "local-up.json"


def make_server(platform: LocalPlatform, port: int) -> ThreadingHTTPServer:
    """The gateway of ``platform`` on 127.0.0.1:``port`` (0: any free port), not yet serving."""
    return ThreadingHTTPServer(("127.0.0.1", port), _handler_class(platform))


def serve(platform: LocalPlatform, port: int, out: TextIO) -> int:
    server = make_server(platform, port)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    state_file = _state_file(platform.options.state_path)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps({"url": url, "pid": os.getpid()}))
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
            elif self.path == _SILENCES or self.path.startswith(_SILENCES + "/"):
                silence_id = urllib.parse.unquote(self.path.removeprefix(_SILENCES).strip("/"))
                self._control_silences(silence_id, body)
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

        def _control_silences(self, silence_id: str, body: bytes) -> None:
            self._json(*_silences_answer(platform, self.command, silence_id, body))

        def _json(self, status: int, document: Any) -> None:
            body = json.dumps(document).encode()
            self._answer(status, {"content-type": "application/json"}, body)

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


def _silences_answer(
    platform: LocalPlatform, method: str, silence_id: str, body: bytes
) -> tuple[int, Any]:
    """The control routes of silences: list, put or delete, through the platform's store."""
    silences = platform.silences
    try:
        if method == "GET" and not silence_id:
            return 200, [s.model_dump(mode="json") for s in silences.list_silences()]
        if method == "PUT" and silence_id:
            silence = Silence.model_validate_json(body)
            if silence.silence_id != silence_id:
                return 400, {"message": "the silence's id is not the one in the path"}
            silences.put_silence(silence)
            return 200, silence.model_dump(mode="json")
        if method == "DELETE" and silence_id:
            return 200, {"deleted": silences.delete_silence(silence_id)}
    except NoIncidentTableError as exc:
        return 404, {"message": str(exc)}
    return 405, {"message": "Method Not Allowed"}


def running_platform_url(state_path: Path) -> str | None:
    """The URL of a running ``opswire local up`` for this project, if one answers."""
    state_file = _state_file(state_path)
    if not state_file.is_file():
        return None
    url = str(json.loads(state_file.read_text())["url"])
    try:
        with urllib.request.urlopen(url + _CONTROL_PREFIX + "health", timeout=2):
            return url
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


class RunningPlatformSilences:
    """The silences of a running ``opswire local up`` (its incident table), through its gateway:
    ``opswire silence`` without ``--stack`` while one runs."""

    def __init__(self, url: str) -> None:
        self.url = url

    def put_silence(self, silence: Silence) -> None:
        path = f"{_SILENCES}/{urllib.parse.quote(silence.silence_id, safe='')}"
        self._call("PUT", path, silence.model_dump_json().encode())

    def list_silences(self) -> list[Silence]:
        return [Silence.model_validate(item) for item in self._call("GET", _SILENCES)]

    def delete_silence(self, silence_id: str) -> bool:
        path = f"{_SILENCES}/{urllib.parse.quote(silence_id, safe='')}"
        return bool(self._call("DELETE", path)["deleted"])

    def _call(self, method: str, path: str, body: bytes | None = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=body,
            headers={"Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            message = json.loads(exc.read() or b"{}").get("message", exc.reason)
            raise SystemExit(f"opswire: local up at {self.url}: {message}") from None
