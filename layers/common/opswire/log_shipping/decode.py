"""The CloudWatch Logs subscription payload: ``{"awslogs": {"data": base64(gzip(JSON))}}``."""

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from typing import Any

from opswire.core.errors import LogPayloadError


@dataclass(frozen=True)
class Subscription:
    """One decoded delivery. ``log_events`` are the producer's dicts: id, timestamp, message."""

    message_type: str
    owner: str
    log_group: str
    log_stream: str
    subscription_filters: list[str]
    log_events: list[dict[str, Any]]

    @property
    def is_control_message(self) -> bool:
        # CloudWatch Logs sends one CONTROL_MESSAGE when a subscription is created, to check
        # that the destination is reachable. It carries no log data.
        return self.message_type == "CONTROL_MESSAGE"


def raw_data(event: dict[str, Any]) -> str:
    """The base64 text of a subscription event; ``LogPayloadError`` if the shape is wrong."""
    awslogs = event.get("awslogs") if isinstance(event, dict) else None
    data = awslogs.get("data") if isinstance(awslogs, dict) else None
    if not isinstance(data, str) or not data:
        keys = sorted(event)[:10] if isinstance(event, dict) else type(event).__name__
        raise LogPayloadError(f"not a CloudWatch Logs subscription event (keys: {keys})")
    return data


def decode_subscription(event: dict[str, Any]) -> Subscription:
    data = raw_data(event)
    try:
        document = json.loads(_gunzip(base64.b64decode(data, validate=True)))
    except (binascii.Error, OSError, EOFError, zlib.error) as exc:
        raise LogPayloadError(f"awslogs.data is not base64 gzip: {exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise LogPayloadError(f"awslogs.data is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise LogPayloadError("awslogs.data does not hold a JSON object")
    try:
        events = document.get("logEvents") or []
        if not isinstance(events, list):
            raise TypeError("logEvents is not a list")
        return Subscription(
            message_type=str(document["messageType"]),
            owner=str(document.get("owner", "")),
            log_group=str(document.get("logGroup", "")),
            log_stream=str(document.get("logStream", "")),
            subscription_filters=[str(f) for f in document.get("subscriptionFilters") or []],
            log_events=events,
        )
    except (KeyError, TypeError) as exc:
        raise LogPayloadError(f"awslogs.data lacks a field: {exc}") from exc


def _gunzip(compressed: bytes) -> bytes:
    """gzip.decompress grows its buffer step by step (a 6 MiB payload peaks at ~20 MiB); the
    gzip trailer holds the size (mod 2**32), so one buffer of that size is enough."""
    if len(compressed) < 18 or compressed[:2] != b"\x1f\x8b":
        raise OSError("not a gzip stream")
    size = int.from_bytes(compressed[-4:], "little")
    return zlib.decompress(compressed, wbits=31, bufsize=max(size, 1024))


# The outer document is parsed with the stdlib on purpose: orjson (yyjson) allocates a value
# pool of several times the input size up front (a 6 MiB payload peaks at ~80 MiB), while each
# message, small, is parsed with orjson (documents.py).
