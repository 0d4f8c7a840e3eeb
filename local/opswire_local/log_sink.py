"""The local stand-in for OpenSearch: an HTTP server on 127.0.0.1 that answers ``_bulk`` and
``_index_template`` as OpenSearch 2.x does and appends every ``_bulk`` body to an NDJSON file.

When the stack's ``OpenSearchEndpoint`` is empty, the local platform points ShipLogsFunction's
``OPENSEARCH_ENDPOINT`` here (auth ``none``), so the real transport (its HTTP connection, gzip, the
answer's items) runs locally too and the shipped layer holds nothing local. The file can be
posted to a real cluster later: ``curl -XPOST .../_bulk --data-binary @file``.
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SHUTDOWN_POLL_SECONDS = 0.02
"""How often the servers' loops look for ``shutdown`` (the default 0.5 s is paid at each stop)."""


class LocalOpenSearch:
    """``with LocalOpenSearch(path) as sink:`` serves on ``sink.url`` until the block ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # A short poll interval: ``shutdown`` waits for the loop's next look (0.5 s by default).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(SHUTDOWN_POLL_SECONDS,),
            name="opswire-local-opensearch",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LocalOpenSearch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def bulk(self, body: bytes) -> dict[str, Any]:
        """Append ``body`` as sent; answer with one created item per action line."""
        lines = body.splitlines()
        items = []
        for action_line in lines[::2]:
            ((operation, action),) = json.loads(action_line).items()
            items.append({operation: {**action, "status": 201, "result": "created"}})
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as sink:
                sink.write(body if body.endswith(b"\n") else body + b"\n")
        return {"took": 0, "errors": False, "items": items}


def _handler_for(sink: LocalOpenSearch) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.split("?", 1)[0].rsplit("/", 1)[-1] != "_bulk":
                self._answer(404, {"error": f"no such route {self.path}"})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            try:
                self._answer(200, sink.bulk(body))
            except (ValueError, TypeError) as exc:  # not NDJSON action/document pairs
                self._answer(400, {"error": {"type": "parse_exception", "reason": str(exc)}})

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self.path.startswith("/_index_template/"):
                self._answer(404, {"error": f"no such route {self.path}"})
                return
            self._answer(200, {"acknowledged": True})  # a file has no mappings

        def _answer(self, status: int, document: dict[str, Any]) -> None:
            payload = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the platform's report lists the documents; no access log on the terminal

    return Handler
