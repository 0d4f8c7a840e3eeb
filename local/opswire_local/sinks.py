"""Local stand-ins for the outside world: Slack (an incoming webhook and a small Web API), and
the file the log shipper writes when there is no OpenSearch.

The local stack's Slack secrets point at this server, so the notify function runs its real HTTP
path (slack_sdk over urllib): ``/slack/webhook`` is an incoming webhook; ``/api/chat.postMessage``,
``chat.update`` and ``chat.postEphemeral`` answer like the Slack Web API for a bot token (channel
ids, increasing ``ts``, thread replies, ``message_not_found``), and ``users.info`` knows the users
given to ``add_user`` (``user_not_found`` for the others). Every call is appended to the outbox
(memory and a JSON-lines file), with ``method``, ``slack_channel``, ``ts`` and ``thread_ts``, so a
report can show "posted, replied in thread, updated to resolved". When a real webhook URL is
configured, webhook messages are also forwarded there and Slack's answer is passed back.

``LogSinkFile`` reads back what ShipLogsFunction wrote to the local OpenSearch sink (``_bulk``
NDJSON) since a mark, for the report of a delivery.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opswire_local.log_sink import SHUTDOWN_POLL_SECONDS

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
_API_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "users.info")


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None


class SlackOutbox:
    def __init__(
        self,
        outbox_file: Path | None,
        forward_url: str | None,
        bot_token: str | None = None,
    ) -> None:
        """``bot_token``: the only token the Web API accepts (None: any ``xoxb-`` token)."""
        self.messages: list[dict[str, Any]] = []
        """What got through: webhook posts and successful Web API calls, in order."""
        self.rejected: list[dict[str, Any]] = []
        """Web API calls answered with an error (injected failures, unknown messages, auth)."""
        self._outbox_file = outbox_file
        self._forward_url = forward_url
        self._bot_token = bot_token
        self._lock = threading.Lock()
        # The Web API's state: messages by (channel id, ts), channel names by id.
        self._posted: dict[tuple[str, str], dict[str, Any]] = {}
        self._channel_names: dict[str, str] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._last_ts = 0.0
        self._failures: list[_Failure] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/slack/webhook"

    @property
    def api_url(self) -> str:
        """The Web API base URL (what ``SLACK_API_URL`` points at locally)."""
        return f"{self.base_url}/api/"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(
        self, count: int = 1, status: int = 429, error: str = "ratelimited", retry_after: int = 1
    ) -> None:
        """Answer the next ``count`` Web API calls with an error (429 carries Retry-After)."""
        with self._lock:
            self._failures.extend(
                _Failure(status, error, retry_after if status == 429 else None)
                for _ in range(count)
            )

    def add_user(self, user_id: str, email: str, name: str = "") -> None:
        """A workspace member ``users.info`` answers for (with ``profile.email``)."""
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "name": name or email.split("@", 1)[0],
                "profile": {"email": email},
            }

    def conversation(self) -> list[dict[str, Any]]:
        """The Web API's messages as they look now: each top-level message (after updates)
        with its thread replies, in posting order."""
        with self._lock:
            roots = [m for m in self._posted.values() if m.get("thread_ts") is None]
            replies = [m for m in self._posted.values() if m.get("thread_ts") is not None]
        return [
            {
                **root,
                "replies": [
                    r
                    for r in replies
                    if r["channel_id"] == root["channel_id"] and r["thread_ts"] == root["ts"]
                ],
            }
            for root in sorted(roots, key=lambda m: float(m["ts"]))
        ]

    # ---- incoming webhook -------------------------------------------------------------------
    def record(self, payload: dict[str, Any]) -> tuple[int, bytes]:
        status, answer = 200, b"ok"
        if self._forward_url:
            status, answer = _forward(self._forward_url, payload)
        self._append(
            {
                "channel": "slack",
                "method": "webhook",
                "recipient": "real webhook" if self._forward_url else "local outbox",
                "subject": str(payload.get("text", "")),
                "text": str(payload.get("text", "")),
                "payload": payload,
                "status": status,
            }
        )
        return status, answer

    # ---- Web API ----------------------------------------------------------------------------
    def api_call(
        self, method: str, authorization: str | None, arguments: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(HTTP status, JSON answer, extra headers) of one Web API call."""
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            self._append_api(method, arguments, None, failure.status, failure.error)
            return failure.status, {"ok": False, "error": failure.error}, headers
        token = (authorization or "").removeprefix("Bearer ").strip()
        error = None
        if not token:
            error = "not_authed"
        elif not token.startswith("xoxb-") or (self._bot_token and token != self._bot_token):
            error = "invalid_auth"
        elif method not in _API_METHODS:
            error = "unknown_method"
        elif method == "users.info":
            with self._lock:
                user = self._users.get(str(arguments.get("user") or ""))
            # A lookup is not a message: it is answered, not added to the outbox.
            if user is None:
                return 200, {"ok": False, "error": "user_not_found"}, {}
            return 200, {"ok": True, "user": user}, {}
        elif not arguments.get("channel"):
            error = "channel_not_found"
        elif method == "chat.postEphemeral" and not arguments.get("user"):
            error = "user_not_found"
        if error is not None:
            self._append_api(method, arguments, None, 200, error)
            return 200, {"ok": False, "error": error}, {}
        channel = str(arguments["channel"])
        if method == "chat.postMessage":
            return 200, self._post_message(channel, arguments), {}
        if method == "chat.postEphemeral":
            return 200, self._post_ephemeral(channel, arguments), {}
        return 200, self._update_message(channel, arguments), {}

    def _post_message(self, channel: str, arguments: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel_id(channel)
        thread_ts = arguments.get("thread_ts") or None
        with self._lock:
            ts = self._next_ts()
            message = {
                "channel_id": channel_id,
                "ts": ts,
                "thread_ts": thread_ts,
                "text": str(arguments.get("text") or ""),
                "attachments": arguments.get("attachments") or [],
                "blocks": arguments.get("blocks") or [],
                "updates": 0,
            }
            self._posted[(channel_id, ts)] = message
        self._append_api("chat.postMessage", arguments, message, 200, None)
        return {"ok": True, "channel": channel_id, "ts": ts, "message": _public(message)}

    def _post_ephemeral(self, channel: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Seen only by ``user``: recorded in the outbox, not part of the conversation."""
        channel_id = self._channel_id(channel)
        with self._lock:
            ts = self._next_ts()
        message = {
            "channel_id": channel_id,
            "ts": ts,
            "thread_ts": arguments.get("thread_ts") or None,
            "text": str(arguments.get("text") or ""),
        }
        self._append_api("chat.postEphemeral", arguments, message, 200, None)
        return {"ok": True, "message_ts": ts}

    def _update_message(self, channel: str, arguments: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel_id(channel)
        ts = str(arguments.get("ts") or "")
        with self._lock:
            message = self._posted.get((channel_id, ts))
            if message is not None:
                message.update(
                    text=str(arguments.get("text") or ""),
                    attachments=arguments.get("attachments") or [],
                    blocks=arguments.get("blocks") or [],
                    updates=message["updates"] + 1,
                )
        if message is None:
            self._append_api("chat.update", arguments, None, 200, "message_not_found")
            return {"ok": False, "error": "message_not_found"}
        self._append_api("chat.update", arguments, message, 200, None)
        return {"ok": True, "channel": channel_id, "ts": ts, "text": message["text"]}

    def _channel_id(self, channel: str) -> str:
        if _CHANNEL_ID.fullmatch(channel):
            return channel
        name = channel.lstrip("#")
        channel_id = "C" + hashlib.sha256(name.encode()).hexdigest()[:10].upper()
        with self._lock:
            self._channel_names.setdefault(channel_id, f"#{name}")
        return channel_id

    def _next_ts(self) -> str:
        """Slack's ``ts``: epoch seconds with six decimals, unique and increasing."""
        self._last_ts = max(round(time.time(), 6), round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"

    def _append_api(
        self,
        method: str,
        arguments: dict[str, Any],
        message: dict[str, Any] | None,
        status: int,
        error: str | None,
    ) -> None:
        channel = str(arguments.get("channel") or "")
        channel_id = message["channel_id"] if message else channel
        name = self._channel_names.get(channel_id, channel)
        ts = message["ts"] if message else arguments.get("ts")
        thread_ts = message["thread_ts"] if message else arguments.get("thread_ts")
        if method == "chat.update":
            recipient = f"{name} (update of {ts})"
        elif method == "chat.postEphemeral":
            recipient = f"{name} (only for {arguments.get('user')})"
        elif thread_ts:
            recipient = f"{name} (thread {thread_ts})"
        else:
            recipient = name
        if error:
            recipient += f" [{error}]"
        text = str(arguments.get("text") or "")
        entry = {
            "channel": "slack",
            "method": method,
            "slack_channel": name,
            "channel_id": channel_id,
            "ts": ts,
            "thread_ts": thread_ts,
            "recipient": recipient,
            "subject": text,
            "text": text,
            "payload": {k: v for k, v in arguments.items() if k != "token"},
            "status": status,
            "ok": error is None,
            "error": error,
        }
        if error is None:
            self._append(entry)
        else:
            with self._lock:
                self.rejected.append(entry)

    def _append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append(entry)
            if self._outbox_file is not None:
                self._outbox_file.parent.mkdir(parents=True, exist_ok=True)
                with self._outbox_file.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        outbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                """Web API methods slack_sdk calls with GET (``users.info``): query arguments."""
                path, _, query = self.path.partition("?")
                if not path.startswith("/api/"):
                    self._answer(404, b"no_service")
                    return
                arguments = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
                status, answer, headers = outbox.api_call(
                    path.removeprefix("/api/"), self.headers.get("Authorization"), arguments
                )
                self._answer(status, json.dumps(answer).encode(), "application/json", headers)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.startswith("/api/"):
                    self._api(self.path.removeprefix("/api/").split("?", 1)[0], raw)
                    return
                try:
                    payload = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._answer(400, b"invalid_payload")
                    return
                if self.path != "/slack/webhook" or not isinstance(payload, dict):
                    self._answer(404 if self.path != "/slack/webhook" else 400, b"no_service")
                    return
                self._answer(*outbox.record(payload))

            def _api(self, method: str, raw: bytes) -> None:
                arguments = _api_arguments(self.headers.get("Content-Type") or "", raw)
                authorization = self.headers.get("Authorization")
                if authorization is None and isinstance(arguments.get("token"), str):
                    authorization = f"Bearer {arguments['token']}"
                status, answer, headers = outbox.api_call(method, authorization, arguments)
                self._answer(status, json.dumps(answer).encode(), "application/json", headers)

            def _answer(
                self,
                status: int,
                body: bytes,
                content_type: str = "text/plain",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep the CLI output clean; the outbox is the record

        return Handler


def _api_arguments(content_type: str, raw: bytes) -> dict[str, Any]:
    """Web API arguments: a JSON body, or form fields (JSON-valued ones decoded)."""
    if content_type.startswith("application/json"):
        try:
            decoded = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    fields: dict[str, Any] = {}
    for name, values in urllib.parse.parse_qs(raw.decode("utf-8", "replace")).items():
        value: Any = values[0]
        if name in ("attachments", "blocks"):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        fields[name] = value
    return fields


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k not in ("channel_id", "updates")}


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


class LogSinkFile:
    """The local OpenSearch sink: ``_bulk`` NDJSON (an action line, then the document)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def size(self) -> int:
        return self.path.stat().st_size if self.path.is_file() else 0

    def documents_since(self, offset: int) -> list[dict[str, Any]]:
        """The documents written since ``offset`` (a ``size()``): ``{_index, _id, document}``."""
        if self.size() <= offset:
            return []
        with self.path.open("rb") as sink:
            sink.seek(offset)
            lines = sink.read().splitlines()
        documents = []
        for action_line, source_line in zip(lines[::2], lines[1::2], strict=False):
            ((_op, action),) = json.loads(action_line).items()
            documents.append(
                {
                    "_index": action["_index"],
                    "_id": action["_id"],
                    "document": json.loads(source_line),
                }
            )
        return documents
