"""The parse task: whatever came in (an alarm, an EventBridge event, a service notification,
plain text) -> what the workflow handles: an ``Alarm`` or an ``OpsEvent``.

Nothing that arrives is an error here: a CloudWatch alarm opswire cannot read and a message it
does not recognise both become generic notifications (with what went wrong), so the person
still hears about it and the workflow does not fail.
"""

from collections.abc import Mapping
from typing import Any

from opswire.alarms.events.eventbridge import is_eventbridge_event, parse_eventbridge_event
from opswire.alarms.events.notifications import (
    generic,
    is_service_event_json,
    parse_service_event_json,
    parse_text,
)
from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.envelope import AlarmEnvelope
from opswire.alarms.models.event import OpsEvent
from opswire.alarms.parse import EVENTBRIDGE_DETAIL_TYPE, parse_alarm
from opswire.core.errors import AlarmParseError


def parse_subject(envelope: AlarmEnvelope) -> Alarm | OpsEvent:
    payload, sns = envelope.payload, envelope.sns
    if envelope.source == "sns" and envelope.text is not None:
        return parse_text(envelope.text, sns)
    if envelope.source == "lambda-action" or _is_sns_alarm(envelope.source, payload):
        return _alarm_or_generic(envelope)
    if is_eventbridge_event(payload):
        if payload.get("detail-type") == EVENTBRIDGE_DETAIL_TYPE:
            return _alarm_or_generic(envelope.model_copy(update={"source": "eventbridge"}))
        return parse_eventbridge_event(payload, envelope.source)
    if is_service_event_json(payload):
        return parse_service_event_json(payload, sns)
    return generic(payload, sns)


def _is_sns_alarm(source: str, payload: Mapping[str, Any]) -> bool:
    return source == "sns" and ("AlarmName" in payload or "NewStateValue" in payload)


def _alarm_or_generic(envelope: AlarmEnvelope) -> Alarm | OpsEvent:
    try:
        return parse_alarm(envelope)
    except AlarmParseError as exc:
        note = f"not readable as an alarm: {exc}"
        return generic(envelope.payload, envelope.sns, note=note, door=envelope.source)
