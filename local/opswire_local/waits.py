"""Which Wait states park an execution: a short polling Wait does not.

The local platform reports executions parked in a Wait state as settled (a reminder an hour
later). Short polling loops (the deployment workflow waits a few seconds between ECS checks)
would be caught in a Wait at every look; ``due_soon`` tells those apart by the Wait's
duration in the template's seconds (Seconds, SecondsPath, Timestamp, TimestampPath).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

POLL_SECONDS = 60
"""Waits shorter than this (in template seconds, before scaling) are polling loops: an
execution in one is still running. Longer ones (a reminder, minutes or hours) park it."""


def _path(document: Any, path: str) -> Any:
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def wake_up_in(
    definition: dict[str, Any],
    state: str,
    state_input: str,
    entered: datetime,
    scale: float,
    now: datetime,
) -> float | None:
    """Real seconds until the Wait ``state`` entered at ``entered`` ends; None if unknown."""
    spec = (definition.get("States") or {}).get(state) or {}
    try:
        document = json.loads(state_input) if state_input else {}
    except ValueError:
        return None
    seconds: Any = spec.get("Seconds")
    if seconds is None and "SecondsPath" in spec:
        seconds = _path(document, spec["SecondsPath"])
    if seconds is None:
        stamp = spec.get("Timestamp")
        if stamp is None and "TimestampPath" in spec:
            stamp = _path(document, spec["TimestampPath"])
        if not isinstance(stamp, str):
            return None
        try:
            seconds = (
                datetime.fromisoformat(stamp.replace("Z", "+00:00")) - entered
            ).total_seconds()
        except ValueError:
            return None
    if not isinstance(seconds, int | float) or seconds >= POLL_SECONDS:
        return None
    return max(0.0, float(seconds) * scale - (now - entered).total_seconds())


def due_soon(
    definition: dict[str, Any],
    state: str,
    state_input: str,
    entered: datetime,
    scale: float,
    now: datetime,
) -> bool:
    return wake_up_in(definition, state, state_input, entered, scale, now) is not None


def waits_for_task_token(event: Any) -> bool:
    """The last history event of an execution parked in a ``.waitForTaskToken`` task."""
    details = event.get("taskSubmittedEventDetails") or {}
    return bool(
        event.get("type") == "TaskSubmitted"
        and str(details.get("resource", "")).endswith(".waitForTaskToken")
    )


def task_state_name(history: list[Any]) -> str:
    entered = [e for e in history if e.get("type") == "TaskStateEntered"]
    if not entered:
        return "task token"
    last = max(entered, key=lambda e: e["id"])
    return f"{last['stateEnteredEventDetails']['name']} (task token)"
