"""The child alarms whose state change moved a composite alarm.

They come from ``reasonData.triggeringAlarms`` (every door) or SNS's ``TriggeringChildren``. A
child is context, not the alarm itself: an entry that cannot be read is skipped, an odd state or
timestamp dropped, never a parse error.
"""

from collections.abc import Mapping
from typing import Any

from opswire.alarms.models.alarm import TriggeringAlarm
from opswire.alarms.parse_fields import AlarmArn, as_state, parse_timestamp


def triggering_from_reason_data(reason_data: dict[str, Any] | None) -> tuple[TriggeringAlarm, ...]:
    entries = (reason_data or {}).get("triggeringAlarms")
    if not isinstance(entries, list):
        return ()
    children = []
    for entry in entries:
        if isinstance(entry, Mapping) and isinstance(entry.get("arn"), str):
            state = entry.get("state")
            if not isinstance(state, Mapping):
                state = {}
            children.append(_child(entry["arn"], state.get("value"), state.get("timestamp")))
    return tuple(children)


def triggering_from_sns(entries: list[Any]) -> tuple[TriggeringAlarm, ...]:
    """SNS ``TriggeringChildren``: ``[{"Arn", "State": {"Value", "Timestamp"}}]`` or ARNs."""
    children = []
    for entry in entries:
        if isinstance(entry, str) and entry:
            children.append(_child(entry, None, None))
        elif isinstance(entry, Mapping) and isinstance(entry.get("Arn"), str):
            state = entry.get("State")
            if not isinstance(state, Mapping):
                state = {}
            children.append(_child(entry["Arn"], state.get("Value"), state.get("Timestamp")))
    return tuple(children)


def _child(arn: str, state: object, timestamp: object) -> TriggeringAlarm:
    """A child's state is informative only: an odd value is dropped rather than failing."""
    parsed = AlarmArn.parse(arn)
    changed_at = None
    if isinstance(timestamp, str):
        try:
            changed_at = parse_timestamp(timestamp)
        except ValueError:
            changed_at = None
    return TriggeringAlarm(
        arn=arn,
        name=parsed.name if parsed else arn,
        state=as_state(state),
        state_changed_at=changed_at,
    )
