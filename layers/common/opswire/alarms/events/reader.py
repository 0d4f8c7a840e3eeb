"""Small, forgiving readers for loosely shaped event JSON.

The events are wide documents of which opswire reads a few fields, and a missing or oddly typed
field must degrade the message, never fail it: so these return None instead of raising, and
pydantic models per source (hundreds of fields, most unused) are not worth their weight here.
"""

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

CONSOLE = "https://{region}.console.aws.amazon.com"


def at(document: object, path: str) -> Any:
    """``at(event, "detail.service.count")``; None when any step is missing."""
    value: Any = document
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def text(document: object, path: str, default: str = "") -> str:
    """The field as text; ``default`` when it is missing, empty or not a scalar."""
    value = at(document, path)
    if value is None or value == "" or isinstance(value, Mapping | list):
        return default
    return str(value)


def number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def timestamp(*candidates: object, default: datetime | None = None) -> datetime:
    """The first candidate that reads as a time (ISO 8601, ``Z`` or offset; epoch seconds or
    milliseconds; RFC 2822 as in Health's ``startTime``), as UTC; else ``default`` or now."""
    for candidate in candidates:
        parsed = _one_time(candidate)
        if parsed is not None:
            return parsed
    return default or datetime.now(UTC)


def _one_time(value: object) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10_000_000_000 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def tag_map(value: object) -> dict[str, str]:
    """Tags as ``{"k": "v"}``, ``[{"key", "value"}]`` or ``[{"Key", "Value"}]``."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    tags: dict[str, str] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                key = item.get("key", item.get("Key"))
                if isinstance(key, str):
                    tags[key] = str(item.get("value", item.get("Value", "")))
    return tags


def arn_part(arn: str, index: int) -> str:
    """``arn:partition:service:region:account:resource`` split on ``:``; "" if absent."""
    parts = arn.split(":", 5)
    return parts[index] if len(parts) > index else ""


def console(region: str, path: str) -> str:
    return CONSOLE.format(region=region) + path


def q(value: str) -> str:
    return quote(value, safe="")


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def excerpt(value: str, limit: int = 600) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
