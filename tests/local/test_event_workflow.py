"""Operational events end to end through the local platform: every SNS sample that is not a
CloudWatch alarm becomes one Slack message and one email; a finding opened, updated and archived
is one thread; a Health event resolves; an EventBridge event started as the template's rules
start it (``{"source": "eventbridge", "payload": <event>}``) is handled the same way."""

import json
import time
from pathlib import Path

import boto3
import pytest

from opswire_local.platform import REGION, DeliveryReport, LocalPlatform
from tests.conftest import EVENTS
from tests.local.conftest import PlatformFactory

QUIET = {"AlarmRoutingParameter": json.dumps({"default": {"renotify_minutes": 0}})}
SNS_EVENT_SAMPLES = sorted(
    p for p in (EVENTS / "sns").iterdir() if not p.name.startswith(("alarm-", "cloudwatch-"))
)


def _emails(reports: list[DeliveryReport]) -> list[dict]:  # type: ignore[type-arg]
    return [n for r in reports for n in r.notifications if n["channel"] == "email"]


@pytest.mark.parametrize("sample", SNS_EVENT_SAMPLES, ids=lambda p: p.name)
def test_every_sns_event_sample_is_one_slack_message_and_one_email(
    start_platform: PlatformFactory, sample: Path
) -> None:
    platform = start_platform(ssm_parameters=QUIET)

    report = platform.send("sns:AlarmTopic", sample.read_bytes())

    assert report.ok, report.to_json()
    assert [e["status"] for e in report.executions] == ["SUCCEEDED"]
    if "completed" in sample.name:  # a success with nothing open to resolve is not told
        assert report.notifications == []
        assert report.executions[0]["output"]["decision"]["reason"] == "repeat"
        return
    assert sorted(n["channel"] for n in report.notifications) == ["email", "slack"]


def test_a_finding_opened_updated_archived_is_one_thread(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters=QUIET)
    names = ["guardduty-finding.json", "guardduty-finding-updated.json"]
    names += ["guardduty-finding-updated.json", "guardduty-finding-archived.json"]

    reports = [
        platform.send("sns:AlarmTopic", (EVENTS / "eventbridge" / name).read_bytes())
        for name in names
    ]

    assert all(r.ok for r in reports)
    (root,) = platform.outbox.conversation()
    replies = [r["text"] for r in root["replies"]]
    assert len(replies) == 2 and "UPDATED" in replies[0] and "RESOLVED" in replies[1]
    assert "#2EB886" in json.dumps(root)  # the root message turned green
    assert reports[2].notifications == []  # the same update again: a duplicate
    opened, updated, resolved = _emails(reports)  # the update raised the severity 5 -> 8
    assert "[MEDIUM] GuardDuty" in opened["subject"]
    first_id = opened["payload"]["headers"]["Message-ID"]
    assert updated["payload"]["headers"]["In-Reply-To"] == first_id
    assert resolved["payload"]["headers"]["In-Reply-To"] == first_id


def _start_like_the_rule(platform: LocalPlatform, event_file: str) -> DeliveryReport:
    """What the template's EventBridge rules do: start the alarm workflow with the event."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    payload = json.loads((EVENTS / "eventbridge" / event_file).read_text())
    sfn.start_execution(
        stateMachineArn=platform.state_machines["AlarmHandlingStateMachine"],
        name=f"eventbridge-{payload['id']}",
        input=json.dumps({"source": "eventbridge", "payload": payload}),
    )
    deadline, reports = time.monotonic() + 30, []
    while time.monotonic() < deadline:
        reports.append(platform.wait(0.3))
        running = sfn.list_executions(
            stateMachineArn=platform.state_machines["AlarmHandlingStateMachine"],
            statusFilter="RUNNING",
        )["executions"]
        if not running and any(r.notifications or r.executions for r in reports):
            break
    merged = DeliveryReport(source="eventbridge", event_file=event_file)
    for r in reports:
        merged.notifications.extend(r.notifications)
        merged.executions.extend(r.executions)
        merged.errors.extend(r.errors)
    return merged


def test_health_event_through_the_eventbridge_door_opens_then_closed_resolves(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters=QUIET)

    opened = _start_like_the_rule(platform, "health-event-open.json")
    closed = _start_like_the_rule(platform, "health-event-closed.json")

    assert opened.errors == [] and closed.errors == []
    assert sorted(n["channel"] for n in opened.notifications) == ["email", "slack"]
    (root,) = platform.outbox.conversation()
    assert "AWS Health" in json.dumps(root)
    assert [("RESOLVED" in r["text"]) for r in root["replies"]] == [True]
    (mail,) = [n for n in closed.notifications if n["channel"] == "email"]
    assert mail["subject"].startswith("Re: [RESOLVED] AWS Health")


def test_a_plain_text_message_is_told_not_dead_lettered(start_platform: PlatformFactory) -> None:
    platform = start_platform(ssm_parameters=QUIET)

    report = platform.send("sns:AlarmTopic", b"this is not an alarm")

    assert report.ok and report.dead_letters == []
    (mail,) = _emails([report])
    assert "this is not an alarm" in mail["text"]
