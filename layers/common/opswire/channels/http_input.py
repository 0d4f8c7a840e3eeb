"""The bodies of the public HTTP routes (API Gateway HTTP API, payload 2.0), decoded and checked
before anything else can look at them: every route of the stack goes through here, so hostile
input (not base64, not UTF-8, not a JSON object, nested a thousand deep, too big) is a 4xx with
a clear message, never an exception that API Gateway turns into a 500.

Nothing here verifies a signature: it only makes sure the verifier and the parsers get well-formed
input. The limits are per route (each caller passes its own, see ``BodyLimit``).
"""

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

MAX_JSON_DEPTH = 32
"""GitHub's deepest payloads (workflow_run) nest about 6 deep, Slack's block_actions about 10."""


class BodyLimit:
    """Bytes per route (after base64 decoding). API Gateway and Lambda allow 6 MB; ours are far
    below what each sender really posts, so a flood of big bodies costs little."""

    GITHUB_WEBHOOK = 6 * 1024 * 1024
    """The route's own ceiling; the deploy config's ``max_body_bytes`` (default 1 MiB) applies
    after it. GitHub caps deliveries at 25 MB, Lambda's synchronous invoke at 6 MB."""
    SLACK_INTERACTION = 256 * 1024
    """A block_actions payload carries the clicked message (up to 50 blocks of 3,000 characters,
    form-encoded): well below 256 KiB."""
    ACK_FORM = 4 * 1024
    """``exp`` and ``sig`` of an acknowledgement link: under 200 bytes."""
    DECISION_FORM = 8 * 1024
    """``approver``, ``exp`` and ``sig`` of an approval link: under 1 KiB."""


class BadInput(ValueError):
    """The request cannot be read: answer ``status`` with ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def request_headers(event: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers with lower-case names (values that are not text are dropped)."""
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return {}
    return {str(name).lower(): value for name, value in headers.items() if isinstance(value, str)}


def request_body(event: Mapping[str, Any], limit: int) -> bytes:
    """The raw body bytes (``isBase64Encoded`` honoured), at most ``limit`` of them."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadInput(400, "the request body is not text")
    if event.get("isBase64Encoded") is True:
        if len(body) > (limit + 2) // 3 * 4 + 4:  # cheap: before decoding anything
            raise BadInput(413, f"the request body is larger than {limit} bytes")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadInput(400, "the request body is not valid base64") from None
    else:
        if len(body) > limit:  # characters <= bytes: a cheap first check
            raise BadInput(413, f"the request body is larger than {limit} bytes")
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(400, "the request body is not UTF-8") from None
    if len(raw) > limit:
        raise BadInput(413, f"the request body is larger than {limit} bytes")
    return raw


def utf8_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(400, "the request body is not UTF-8") from None


def request_text(event: Mapping[str, Any], limit: int) -> str:
    """The body as text: a form or a JSON document must be UTF-8."""
    return utf8_text(request_body(event, limit))


def json_object(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """A JSON object nested at most ``max_depth`` deep (objects and arrays count)."""
    text = utf8_text(raw) if isinstance(raw, bytes) else raw
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadInput(400, f"the JSON is nested deeper than {max_depth}") from None
    except ValueError:
        raise BadInput(400, "the body is not JSON") from None
    if not isinstance(value, dict):
        raise BadInput(400, "the body is not a JSON object")
    if json_depth(value) > max_depth:
        raise BadInput(400, f"the JSON is nested deeper than {max_depth}")
    return value


def json_depth(value: Any) -> int:
    """How deep containers nest in ``value`` (0 for a scalar), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest
