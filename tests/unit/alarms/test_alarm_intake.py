"""envelopes_from_invocation / start_alarm_workflows: SNS records and alarm actions -> envelopes."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from opswire.alarms.intake import envelopes_from_invocation, start_alarm_workflows
from opswire.alarms.models.envelope import SnsDelivery
from opswire.core.errors import AlarmParseError
from tests.conftest import EVENTS
from tests.fakes.alarms import FakeWorkflowStarter

TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:opswire-alarms"
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def load(relative: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / relative).read_text())
    return document


def sns_record(
    message: str,
    *,
    message_id: str = "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
    subject: str | None = 'ALARM: "api-5xx-errors-high" in EU (Ireland)',
    timestamp: str = "2026-03-14T09:21:07.462Z",
) -> dict[str, Any]:
    """One record of an SNS -> Lambda invocation, as Lambda delivers it."""
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": timestamp,
            "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
            "SigningCertUrl": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
            "MessageId": message_id,
            "Message": message,
            "MessageAttributes": {},
            "Type": "Notification",
            "UnsubscribeUrl": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
            f"{TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
            "TopicArn": TOPIC_ARN,
            "Subject": subject,
        },
    }


def sns_invocation(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


# ---- SNS ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("sample", sorted((EVENTS / "sns").glob("*.json")), ids=lambda p: p.stem)
def test_an_sns_record_becomes_an_sns_envelope_with_the_decoded_alarm(sample: Path) -> None:
    alarm = json.loads(sample.read_text())
    event = sns_invocation(sns_record(sample.read_text()))

    [(name, envelope)] = envelopes_from_invocation(event)

    assert envelope.source == "sns"
    assert envelope.payload == alarm
    assert envelope.sns == SnsDelivery(
        message_id="95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        topic_arn=TOPIC_ARN,
        timestamp="2026-03-14T09:21:07.462Z",
        subject='ALARM: "api-5xx-errors-high" in EU (Ireland)',
    )
    assert name == "sns-95df01b4-ee98-5cb9-9903-4c221d41eb5e"
    assert EXECUTION_NAME.match(name)


def test_every_record_of_a_batch_becomes_its_own_envelope_in_order() -> None:
    firing = (EVENTS / "sns/alarm-metric-alarm.json").read_text()
    resolved = (EVENTS / "sns/alarm-metric-ok.json").read_text()
    event = sns_invocation(
        sns_record(firing, message_id="11111111-1111-1111-1111-111111111111"),
        sns_record(resolved, message_id="22222222-2222-2222-2222-222222222222"),
    )

    pairs = envelopes_from_invocation(event)

    assert [name for name, _ in pairs] == [
        "sns-11111111-1111-1111-1111-111111111111",
        "sns-22222222-2222-2222-2222-222222222222",
    ]
    assert [e.payload["NewStateValue"] for _, e in pairs] == ["ALARM", "OK"]


def test_a_redelivered_sns_message_gets_the_same_execution_name() -> None:
    message = (EVENTS / "sns/alarm-metric-alarm.json").read_text()
    first = envelopes_from_invocation(sns_invocation(sns_record(message)))
    again = envelopes_from_invocation(
        sns_invocation(sns_record(message, timestamp="2026-03-14T09:25:00.000Z"))
    )
    assert first[0][0] == again[0][0]


@pytest.mark.parametrize("subject", [None, ""])
def test_an_sns_message_without_subject_has_no_subject(subject: str | None) -> None:
    message = (EVENTS / "sns/alarm-metric-alarm.json").read_text()
    [(_, envelope)] = envelopes_from_invocation(
        sns_invocation(sns_record(message, subject=subject))
    )
    assert envelope.sns is not None
    assert envelope.sns.subject is None


@pytest.mark.parametrize(
    "message_id",
    [
        "msg:0001/retry.2 with spaces",
        "x" * 200,
        "a.b:c/d@e#f[g]{h}",
    ],
)
def test_execution_names_are_valid_step_functions_names_whatever_the_message_id(
    message_id: str,
) -> None:
    message = (EVENTS / "sns/alarm-metric-alarm.json").read_text()
    [(name, _)] = envelopes_from_invocation(
        sns_invocation(sns_record(message, message_id=message_id))
    )
    assert EXECUTION_NAME.match(name), name
    assert name.startswith("sns-")


def test_an_sns_message_that_is_not_json_becomes_a_text_envelope() -> None:
    event = sns_invocation(sns_record("ALARM: api-5xx-errors-high", message_id="not-json-1"))

    ((name, envelope),) = envelopes_from_invocation(event)

    assert name == "sns-not-json-1"
    assert envelope.payload == {}
    assert envelope.text == "ALARM: api-5xx-errors-high"
    assert envelope.sns is not None and envelope.sns.message_id == "not-json-1"


@pytest.mark.parametrize("message", ["[1, 2, 3]", '"ALARM"', "42", "null", ""])
def test_an_sns_message_that_is_json_but_not_an_object_is_kept_as_text(message: str) -> None:
    event = sns_invocation(sns_record(message, message_id="array-1"))

    ((_name, envelope),) = envelopes_from_invocation(event)

    assert (envelope.payload, envelope.text) == ({}, message)


def test_an_empty_batch_starts_nothing() -> None:
    assert envelopes_from_invocation({"Records": []}) == []


# ---- CloudWatch Lambda alarm action -------------------------------------------------------------
@pytest.mark.parametrize(
    "sample", sorted((EVENTS / "lambda-action").glob("*.json")), ids=lambda p: p.stem
)
def test_an_alarm_action_becomes_a_lambda_action_envelope_with_the_whole_payload(
    sample: Path,
) -> None:
    payload = json.loads(sample.read_text())

    [(name, envelope)] = envelopes_from_invocation(payload)

    assert envelope.source == "lambda-action"
    assert envelope.payload == payload
    assert envelope.sns is None
    assert name.startswith("action-")
    assert EXECUTION_NAME.match(name)


def test_the_same_alarm_action_always_gets_the_same_execution_name() -> None:
    payload = load("lambda-action/alarm-metric-alarm.json")
    [(first, _)] = envelopes_from_invocation(payload)
    [(again, _)] = envelopes_from_invocation(copy.deepcopy(payload))
    assert first == again


def test_a_later_state_change_of_the_same_alarm_gets_another_execution_name() -> None:
    payload = load("lambda-action/alarm-metric-alarm.json")
    later = copy.deepcopy(payload)
    later["alarmData"]["state"]["timestamp"] = "2026-03-14T13:45:00.000+0000"

    [(first, _)] = envelopes_from_invocation(payload)
    [(second, _)] = envelopes_from_invocation(later)

    assert first != second


def test_another_state_of_the_same_alarm_gets_another_execution_name() -> None:
    payload = load("lambda-action/alarm-metric-alarm.json")
    resolved = copy.deepcopy(payload)
    resolved["alarmData"]["state"]["value"] = "OK"

    assert envelopes_from_invocation(payload)[0][0] != envelopes_from_invocation(resolved)[0][0]


# ---- anything else ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "event",
    [
        pytest.param({}, id="empty"),
        pytest.param(load("eventbridge/alarm-metric-alarm.json"), id="eventbridge-event"),
        pytest.param({"source": "aws.cloudwatch", "alarmArn": "arn:x"}, id="action-no-alarmData"),
        pytest.param({"source": "aws.cloudwatch", "alarmData": "ALARM"}, id="alarmData-not-object"),
        pytest.param(load("sns/alarm-metric-alarm.json"), id="bare-sns-message"),
    ],
)
def test_an_unknown_invocation_shape_is_an_alarm_parse_error_listing_its_keys(
    event: dict[str, Any],
) -> None:
    with pytest.raises(
        AlarmParseError, match="neither SNS records nor a CloudWatch alarm action"
    ) as info:
        envelopes_from_invocation(event)
    for key in sorted(event)[:3]:
        assert key in str(info.value)


# ---- start_alarm_workflows ----------------------------------------------------------------------
def test_start_alarm_workflows_starts_one_execution_per_sns_record() -> None:
    firing = (EVENTS / "sns/alarm-metric-alarm.json").read_text()
    composite = (EVENTS / "sns/alarm-composite.json").read_text()
    event = sns_invocation(
        sns_record(firing, message_id="11111111-1111-1111-1111-111111111111"),
        sns_record(composite, message_id="22222222-2222-2222-2222-222222222222", subject=None),
    )
    starter = FakeWorkflowStarter()

    arns = start_alarm_workflows(event, starter)

    names = [name for name, _ in starter.started]
    assert names == [
        "sns-11111111-1111-1111-1111-111111111111",
        "sns-22222222-2222-2222-2222-222222222222",
    ]
    assert arns == [
        f"arn:aws:states:eu-west-1:123456789012:execution:alarm-handling:{n}" for n in names
    ]
    first_payload = starter.started[0][1]
    # What Step Functions receives must survive JSON (the starter serialises it).
    assert json.loads(json.dumps(first_payload)) == first_payload
    assert first_payload["source"] == "sns"
    assert first_payload["payload"] == json.loads(firing)
    assert first_payload["sns"] == {
        "message_id": "11111111-1111-1111-1111-111111111111",
        "topic_arn": TOPIC_ARN,
        "timestamp": "2026-03-14T09:21:07.462Z",
        "subject": 'ALARM: "api-5xx-errors-high" in EU (Ireland)',
    }
    assert starter.started[1][1]["sns"]["subject"] is None


def test_start_alarm_workflows_passes_an_alarm_action_through_whole() -> None:
    payload = load("lambda-action/alarm-composite.json")
    starter = FakeWorkflowStarter()

    arns = start_alarm_workflows(payload, starter)

    [(name, started_payload)] = starter.started
    assert arns == [f"arn:aws:states:eu-west-1:123456789012:execution:alarm-handling:{name}"]
    assert started_payload == {
        "source": "lambda-action",
        "payload": payload,
        "sns": None,
        "text": None,
    }
    json.dumps(started_payload)


def test_start_alarm_workflows_starts_one_execution_per_record_text_included() -> None:
    good = (EVENTS / "sns/alarm-metric-alarm.json").read_text()
    event = sns_invocation(sns_record(good), sns_record("not json", message_id="text-2"))
    starter = FakeWorkflowStarter()

    start_alarm_workflows(event, starter)

    payloads = [payload for _name, payload in starter.started]
    assert [p["text"] for p in payloads] == [None, "not json"]
    assert payloads[1]["payload"] == {}


def test_records_that_are_not_sns_records_are_an_alarm_parse_error() -> None:
    sqs_invocation = {
        "Records": [
            {
                "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
                "body": (EVENTS / "sns/alarm-metric-alarm.json").read_text(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:alarms",
                "awsRegion": "eu-west-1",
            }
        ]
    }
    with pytest.raises(AlarmParseError):
        envelopes_from_invocation(sqs_invocation)
