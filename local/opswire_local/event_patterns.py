"""EventBridge pattern matching as AWS does it, on top of moto's matcher.

moto flattens an event's nested objects but not arrays of objects, so a pattern such as
``{"detail": {"findings": {"Severity": {"Label": ["HIGH"]}}}}`` never matches a Security Hub
event, whose ``findings`` is a list. AWS matches a field inside an array of objects when any
element's value matches; here such values are gathered into one list per dotted path, which
moto's list handling then matches the same way.
"""

from __future__ import annotations

import json
from typing import Any


def pattern_matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """True when the EventBridge ``pattern`` matches ``event``."""
    from moto.events.models import EventPattern

    class _AwsFlattening(EventPattern):
        @staticmethod
        def _flatten_dict(
            node: Any, prefix: str = "", result: dict[str, Any] | None = None
        ) -> dict[str, Any]:
            return flatten_event(node, prefix, result)

    return bool(_AwsFlattening.load(json.dumps(pattern)).matches_event(event))  # type: ignore[arg-type]


def flatten_event(
    node: Any, prefix: str = "", result: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Dotted path -> value; values under an array of objects become a list per path."""
    result = {} if result is None else result
    if not isinstance(node, dict):
        return result
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            flatten_event(value, path, result)
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            for item in value:
                for sub_path, sub_value in flatten_event(item, path).items():
                    gathered = result.setdefault(sub_path, [])
                    gathered.extend(sub_value if isinstance(sub_value, list) else [sub_value])
        else:
            result[path] = value
    return result
