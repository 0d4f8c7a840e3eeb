"""Every Slack payload and email of the alarm and event samples, rendered under a fixed set of
incident contexts, compared with the committed expected output
(``data/render-golden.json``: the SHA-256 of each rendered payload's canonical JSON, keyed by
sample, context and channel; the full payloads would be 2 MB): a change to the renderers that
was meant to keep the output must keep it byte for byte.

Regenerate (after a change that is meant to change the output) with
``OPSWIRE_WRITE_GOLDEN=1 .venv/bin/pytest tests/unit/alarms/test_render_golden.py``.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.envelope import AlarmEnvelope, AlarmSource
from opswire.alarms.models.event import OpsEvent
from opswire.alarms.parse import parse_alarm
from opswire.alarms.render import MessageContext
from opswire.alarms.render_email import render_alarm_email
from opswire.alarms.render_event_email import render_event_email
from opswire.alarms.render_event_slack import render_event_slack, render_event_slack_reply
from opswire.alarms.render_slack import render_slack_message, render_slack_reply
from opswire.alarms.subject import parse_subject
from tests.conftest import EVENTS

GOLDEN = Path(__file__).parent / "data" / "render-golden.json"

CONTEXTS: dict[str, MessageContext] = {
    "opened": MessageContext(
        kind="opened",
        incident_id="inc-<1>&",
        severity="critical",
        mention_here=True,
        runbook="Restart the <service> & check",
        log_group="/aws/lambda/fn",
        log_lines=("ERROR boom ```x``` <y>", "second & line"),
        ack_button=True,
        ack_url="https://example.com/ack?t=1",
    ),
    "acknowledged": MessageContext(
        kind="state_change",
        incident_id="inc-2",
        severity="high",
        runbook="https://runbooks.example.com/page",
        acknowledged_by="alice <a@example.com>",
        ack_button=True,
    ),
    "updated": MessageContext(kind="updated", incident_id="inc-3", severity="high", updates=2),
    "resolved": MessageContext(
        kind="resolved", incident_id="inc-4", severity="warning", duration_seconds=3725
    ),
    "reminder": MessageContext(
        kind="reminder",
        incident_id="inc-5",
        elapsed_seconds=7200,
        reminder_count=2,
        escalated_to=("oncall@example.com",),
        paged=True,
    ),
    "flapping": MessageContext(kind="flapping", incident_id="inc-6", transitions=5),
}


def _alarm(path: Path) -> Alarm:
    source: AlarmSource = path.parent.name  # type: ignore[assignment]
    return parse_alarm(AlarmEnvelope(source=source, payload=json.loads(path.read_text())))


def _event(path: Path) -> OpsEvent:
    payload = json.loads(path.read_text())
    parsed = parse_subject(AlarmEnvelope(source="eventbridge", payload=payload))
    assert isinstance(parsed, OpsEvent)
    return parsed


def render_all() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in sorted(EVENTS.glob("*/alarm-*.json")):
        alarm = _alarm(path)
        name = f"alarm:{path.relative_to(EVENTS).as_posix()}"
        out[f"{name}:none:slack"] = render_slack_message(alarm)
        out[f"{name}:none:email"] = render_alarm_email(alarm).model_dump()
        for label, context in CONTEXTS.items():
            if label == "updated":
                continue
            out[f"{name}:{label}:slack"] = render_slack_message(alarm, context)
            out[f"{name}:{label}:reply"] = render_slack_reply(alarm, context)
            out[f"{name}:{label}:email"] = render_alarm_email(alarm, context).model_dump()
    for path in sorted((EVENTS / "eventbridge").glob("*.json")):
        if path.name.startswith(("alarm-", "secretsmanager-")):
            continue
        event = _event(path)
        name = f"event:{path.name}"
        out[f"{name}:none:slack"] = render_event_slack(event)
        out[f"{name}:none:email"] = render_event_email(event).model_dump()
        for label, context in CONTEXTS.items():
            if label == "flapping":
                continue
            out[f"{name}:{label}:slack"] = render_event_slack(event, context)
            out[f"{name}:{label}:reply"] = render_event_slack_reply(event, context)
            out[f"{name}:{label}:email"] = render_event_email(event, context).model_dump()
    return out


def _digest(payload: Any) -> str:
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_rendered_output_is_unchanged() -> None:
    actual = {key: _digest(payload) for key, payload in render_all().items()}
    if os.environ.get("OPSWIRE_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert sorted(actual) == sorted(expected)
    changed = sorted(key for key in actual if actual[key] != expected[key])
    assert changed == []
