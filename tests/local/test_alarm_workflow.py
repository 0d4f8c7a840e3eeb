"""The alarm slice end to end: every alarm sample through every door, and every failure path.

Reminders are switched off here (routing with renotify_minutes 0) so every execution ends; the
incident behaviours (dedupe, resolve in place, reminders ...) are in test_incident_workflow.py.
"""

import json
from pathlib import Path

import boto3
import pytest
from pytest_httpserver import HTTPServer

from opswire_local.platform import REGION
from tests.conftest import EVENTS
from tests.local.conftest import PlatformFactory

SNS_SAMPLES = sorted((EVENTS / "sns").glob("alarm-*.json"))
EVENTBRIDGE_SAMPLES = sorted((EVENTS / "eventbridge").glob("alarm-*.json"))
ALARM_ACTION_SAMPLES = sorted((EVENTS / "lambda-action").glob("alarm-*.json"))
NO_REMINDERS = {"AlarmRoutingParameter": json.dumps({"default": {"renotify_minutes": 0}})}


def _state(sample: Path) -> str:
    document = json.loads(sample.read_text())
    if "NewStateValue" in document:
        return str(document["NewStateValue"])
    return str((document.get("detail") or document.get("alarmData"))["state"]["value"])


def _start(start_platform: PlatformFactory, **options: object):  # type: ignore[no-untyped-def]
    return start_platform(ssm_parameters=NO_REMINDERS, **options)


def _alarm_name(sample: Path) -> str:
    document = json.loads(sample.read_text())
    if "AlarmName" in document:
        return str(document["AlarmName"])
    return str((document.get("detail") or document.get("alarmData"))["alarmName"])


def _assert_notified_or_quiet(report: object, sample: Path) -> None:
    """An alarm in ALARM is one Slack message and one email; an OK or INSUFFICIENT_DATA that
    nothing was raised for is recorded quietly (docs/alarms.md)."""
    if _state(sample) == "ALARM":
        _assert_one_slack_and_one_email(report, _alarm_name(sample))
    else:
        assert report.notifications == []  # type: ignore[attr-defined]
        decision = report.executions[0]["output"]["decision"]  # type: ignore[attr-defined]
        assert (decision["action"], decision["reason"]) == ("suppress", _quiet_reason(sample))


def _quiet_reason(sample: Path) -> str:
    return "insufficient_data" if _state(sample) == "INSUFFICIENT_DATA" else "repeat"


def _assert_one_slack_and_one_email(report: object, alarm_name: str) -> None:
    notifications = report.notifications  # type: ignore[attr-defined]
    assert sorted(n["channel"] for n in notifications) == ["email", "slack"]
    slack = next(n for n in notifications if n["channel"] == "slack")
    email = next(n for n in notifications if n["channel"] == "email")
    assert alarm_name in json.dumps(slack["payload"])
    assert slack["method"] == "chat.postMessage"
    assert slack["payload"]["attachments"][0]["color"].startswith("#")
    assert alarm_name in email["subject"]
    assert email["recipient"] == "ops@example.com"
    assert alarm_name in email["payload"]["html"]
    assert alarm_name in email["text"]


@pytest.mark.parametrize("sample", SNS_SAMPLES, ids=lambda p: p.stem)
def test_every_sns_alarm_sample_becomes_one_slack_message_and_one_email(
    start_platform: PlatformFactory, sample: Path
) -> None:
    platform = _start(start_platform)
    report = platform.send("sns:AlarmTopic", sample.read_bytes())

    assert report.errors == []
    assert [e["status"] for e in report.executions] == ["SUCCEEDED"]
    assert report.executions[0]["name"].startswith("sns-")
    _assert_notified_or_quiet(report, sample)


@pytest.mark.parametrize("sample", EVENTBRIDGE_SAMPLES, ids=lambda p: p.stem)
def test_every_eventbridge_alarm_sample_becomes_one_slack_message_and_one_email(
    start_platform: PlatformFactory, sample: Path
) -> None:
    platform = _start(start_platform)
    report = platform.send("eventbridge", sample.read_bytes())

    assert report.errors == []
    assert [e["status"] for e in report.executions] == ["SUCCEEDED"]
    _assert_notified_or_quiet(report, sample)


@pytest.mark.parametrize("sample", ALARM_ACTION_SAMPLES, ids=lambda p: p.stem)
def test_lambda_alarm_action_samples_start_the_same_workflow(
    start_platform: PlatformFactory, sample: Path
) -> None:
    platform = _start(start_platform)
    report = platform.send("function:AlarmIngestFunction", sample.read_bytes())

    assert report.errors == []
    assert report.invocation is not None and report.invocation["errored"] is False
    assert [e["status"] for e in report.executions] == ["SUCCEEDED"]
    assert report.executions[0]["name"].startswith("action-")
    _assert_notified_or_quiet(report, sample)


def test_events_not_about_alarms_start_nothing(start_platform: PlatformFactory) -> None:
    platform = _start(start_platform)
    event = {"source": "aws.ec2", "detail-type": "EC2 Instance State-change", "detail": {}}

    report = platform.send("eventbridge", json.dumps(event).encode())

    assert report.executions == [] and report.notifications == [] and report.errors == []


def test_a_redelivered_sns_message_starts_no_second_execution(
    start_platform: PlatformFactory,
) -> None:
    platform = _start(start_platform)
    alarm = (EVENTS / "sns" / "alarm-metric-alarm.json").read_text()
    topic_arn = platform.topics["AlarmTopic"]
    record = {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic_arn}:sub",
        "Sns": {
            "Type": "Notification",
            "MessageId": "5f1e1a4c-0000-4000-8000-000000000001",
            "TopicArn": topic_arn,
            "Subject": "ALARM",
            "Message": alarm,
            "Timestamp": "2026-11-24T10:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "x",
            "SigningCertUrl": "x",
            "UnsubscribeUrl": "x",
            "MessageAttributes": {},
        },
    }
    body = json.dumps({"Records": [record]}).encode()

    first = platform.send("function:AlarmIngestFunction", body)
    second = platform.send("function:AlarmIngestFunction", body)

    assert len(first.executions) == 1 and len(first.notifications) == 2
    assert second.executions == [] and second.notifications == []
    assert second.invocation is not None
    assert second.invocation["payload"] == first.invocation["payload"]  # type: ignore[index]


def test_a_sequence_of_events_is_delivered_in_order(start_platform: PlatformFactory) -> None:
    platform = _start(start_platform)
    reports = [
        platform.send("sns:AlarmTopic", (EVENTS / "sns" / name).read_bytes())
        for name in ("alarm-metric-alarm.json", "alarm-metric-resolved.json")
    ]

    subjects = [n["subject"] for r in reports for n in r.notifications if n["channel"] == "email"]
    assert [subject.startswith("Re: ") for subject in subjects] == [False, True]
    assert all(r.ok for r in reports)


def test_webhook_mode_slack_answering_500_is_retried_then_reported_as_a_failed_execution(
    start_platform: PlatformFactory, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hooks/alarms", method="POST").respond_with_data(
        "internal_error", status=500
    )
    platform = _start(
        start_platform, slack_app=False, slack_webhook_url=httpserver.url_for("/hooks/alarms")
    )

    report = platform.send(
        "sns:AlarmTopic", (EVENTS / "sns" / "alarm-metric-alarm.json").read_bytes()
    )

    (execution,) = report.executions
    assert execution["status"] == "FAILED"
    assert execution["error"] == "NotificationDeliveryFailed"
    cause = json.loads(execution["cause"])
    slack_result = cause["slack"]
    assert slack_result["delivered"] is False
    assert slack_result["error"] == "SlackRetryableError"
    assert "HTTP 500" in slack_result["cause"]
    # 1 attempt + 4 retries from the ASL Retry block, and the email still went out.
    assert cause["email"]["delivered"] is True
    assert len(httpserver.log) == 5
    assert [n["channel"] for n in report.notifications] == ["email"]
    assert not report.ok


def test_webhook_mode_slack_refusing_the_message_is_not_retried(
    start_platform: PlatformFactory, httpserver: HTTPServer
) -> None:
    # A refusal (a revoked webhook) is permanent: not retried, recorded on the incident and
    # dead-lettered once, and the execution goes on (docs/alarms.md, "A channel that refuses").
    httpserver.expect_request("/hooks/alarms").respond_with_data("invalid_token", status=403)
    platform = _start(
        start_platform, slack_app=False, slack_webhook_url=httpserver.url_for("/hooks/alarms")
    )

    report = platform.send(
        "sns:AlarmTopic", (EVENTS / "sns" / "alarm-metric-alarm.json").read_bytes()
    )

    (execution,) = report.executions
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"]["notifications"]["slack"]["failure"]["error"] == (
        "SlackDeliveryError"
    )
    assert [n["channel"] for n in report.notifications] == ["email"]
    assert len(httpserver.log) == 1
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.get_queue_url(QueueName="opswire-local-NotificationDeadLetterQueue")["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(message["Body"])
    assert (body["channel"], body["error"], body["permanent"]) == (
        "slack",
        "SlackDeliveryError",
        True,
    )
    assert body["reason"] == "Slack answered HTTP 403: invalid_token"


def test_webhook_mode_a_slack_hiccup_is_retried_into_success(
    start_platform: PlatformFactory, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request("/hooks/alarms").respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/hooks/alarms").respond_with_data("ok")
    platform = _start(
        start_platform, slack_app=False, slack_webhook_url=httpserver.url_for("/hooks/alarms")
    )

    report = platform.send(
        "sns:AlarmTopic", (EVENTS / "sns" / "alarm-metric-alarm.json").read_bytes()
    )

    assert [e["status"] for e in report.executions] == ["SUCCEEDED"]
    assert len(httpserver.log) == 2
    posted = httpserver.log[-1][0].get_json()
    assert "api-5xx-errors-high" in json.dumps(posted)


def test_a_json_message_that_is_no_alarm_is_a_generic_notification(
    start_platform: PlatformFactory,
) -> None:
    platform = _start(start_platform)

    report = platform.send("sns:AlarmTopic", b'{"hello": "world"}')

    (execution,) = report.executions
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"]["alarm"]["kind"] == "notification"
    assert sorted(n["channel"] for n in report.notifications) == ["email", "slack"]
    assert (
        '"hello": "world"'
        in next(n for n in report.notifications if n["channel"] == "email")["text"]
    )


def test_a_message_that_is_not_json_is_a_text_notification_not_a_dead_letter(
    start_platform: PlatformFactory,
) -> None:
    platform = _start(start_platform)

    report = platform.send("sns:AlarmTopic", b"this is not an alarm")

    assert report.errors == [] and report.dead_letters == []
    assert report.ok is True
    assert [e["status"] for e in report.executions] == ["SUCCEEDED"]
    ingest_runs = [
        r for r in platform.runtime.invocations if r.function.endswith("AlarmIngestFunction")
    ]
    assert len(ingest_runs) == 1  # no retry: nothing failed


def test_unknown_sources_are_clear_errors(start_platform: PlatformFactory) -> None:
    platform = _start(start_platform)

    assert "no topic 'Nope'" in platform.send("sns:Nope", b"{}").errors[0]
    assert "unknown SOURCE" in platform.send("kafka:x", b"{}").errors[0]
    assert (
        "needs 'detail'"
        in platform.send("eventbridge", b'{"source":"a","detail-type":"b"}').errors[0]
    )
