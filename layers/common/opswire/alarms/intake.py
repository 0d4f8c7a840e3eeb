"""From a Lambda invocation (SNS records or a CloudWatch alarm action) to workflow envelopes.

Every SNS message starts a workflow: a JSON object as ``payload``, anything else (plain text)
as ``text``; the parse task decides what it is.

The EventBridge door needs no code: its rule starts the workflow with an input transformer.
"""

import hashlib
import json
from typing import Any, Protocol

from aws_lambda_powertools.utilities.data_classes import SNSEvent

from opswire.alarms.models.envelope import AlarmEnvelope, SnsDelivery
from opswire.core.errors import AlarmParseError

# Step Functions execution names: at most 80 characters of [A-Za-z0-9-_].
_MAX_EXECUTION_NAME = 80


class WorkflowStarter(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> str: ...


def envelopes_from_invocation(event: dict[str, Any]) -> list[tuple[str, AlarmEnvelope]]:
    """Return ``(execution name, envelope)`` pairs; the name is derived from the delivery so a
    redelivery of the same message cannot start a second execution."""
    if "Records" in event:
        records = event["Records"] if isinstance(event["Records"], list) else []
        if not all(isinstance(r, dict) and "Sns" in r for r in records):
            raise AlarmParseError("invocation has Records that are not SNS notifications")
        return [_from_sns_record(record) for record in SNSEvent(event).records]
    if event.get("source") == "aws.cloudwatch" and isinstance(event.get("alarmData"), dict):
        return [_from_alarm_action(event)]
    raise AlarmParseError(
        "invocation is neither SNS records nor a CloudWatch alarm action "
        f"(top-level keys: {sorted(event)[:10]})"
    )


def start_alarm_workflows(event: dict[str, Any], starter: WorkflowStarter) -> list[str]:
    """Start one alarm workflow per alarm in ``event``; return the execution ARNs."""
    return [
        starter.start(name, envelope.model_dump(mode="json"))
        for name, envelope in envelopes_from_invocation(event)
    ]


def _from_sns_record(record: Any) -> tuple[str, AlarmEnvelope]:
    sns = record.sns
    message = sns.message or ""
    try:
        payload = json.loads(message)
    except json.JSONDecodeError:
        payload = None
    text = None
    if not isinstance(payload, dict):
        # Plain text (AWS Backup, Elastic Beanstalk, a person's `aws sns publish`) or JSON that
        # is no object: the parse task reads it as text.
        payload, text = {}, message
    delivery = SnsDelivery(
        message_id=sns.message_id,
        topic_arn=sns.topic_arn,
        timestamp=sns.timestamp,
        subject=sns.subject or None,
    )
    envelope = AlarmEnvelope(source="sns", payload=payload, sns=delivery, text=text)
    return _execution_name("sns", sns.message_id), envelope


def _from_alarm_action(event: dict[str, Any]) -> tuple[str, AlarmEnvelope]:
    state = event["alarmData"].get("state") or {}
    identity = f"{event.get('alarmArn')}|{state.get('value')}|{state.get('timestamp')}"
    digest = hashlib.sha256(identity.encode()).hexdigest()
    return _execution_name("action", digest), AlarmEnvelope(source="lambda-action", payload=event)


def _execution_name(prefix: str, identity: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in identity)
    return f"{prefix}-{safe}"[:_MAX_EXECUTION_NAME]
