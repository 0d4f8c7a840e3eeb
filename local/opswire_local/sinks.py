"""Local stand-ins for the outside world: a Slack incoming-webhook endpoint that keeps an outbox.

The Slack secret of the local stack points at this endpoint, so the notify function runs its real
HTTP path. Each message is appended to the outbox (memory and a JSON-lines file); when a real
webhook URL is configured, the message is also forwarded there and Slack's answer is passed back.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class SlackOutbox:
    def __init__(self, outbox_file: Path | None, forward_url: str | None) -> None:
        self.messages: list[dict[str, Any]] = []
        self._outbox_file = outbox_file
        self._forward_url = forward_url
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def webhook_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/slack/webhook"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, payload: dict[str, Any]) -> tuple[int, bytes]:
        status, answer = 200, b"ok"
        if self._forward_url:
            status, answer = _forward(self._forward_url, payload)
        entry = {
            "channel": "slack",
            "recipient": "real webhook" if self._forward_url else "local outbox",
            "subject": str(payload.get("text", "")),
            "text": str(payload.get("text", "")),
            "payload": payload,
            "status": status,
        }
        with self._lock:
            self.messages.append(entry)
            if self._outbox_file is not None:
                self._outbox_file.parent.mkdir(parents=True, exist_ok=True)
                with self._outbox_file.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")
        return status, answer

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        outbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    payload = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._answer(400, b"invalid_payload")
                    return
                if self.path != "/slack/webhook" or not isinstance(payload, dict):
                    self._answer(404 if self.path != "/slack/webhook" else 400, b"no_service")
                    return
                self._answer(*outbox.record(payload))

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep the CLI output clean; the outbox is the record

        return Handler


def _forward(url: str, payload: dict[str, Any]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()
    except OSError as exc:
        return 502, f"forwarding to Slack failed: {type(exc).__name__}".encode()
