"""Operational events end to end through the local platform: every SNS sample that is not a
CloudWatch alarm becomes one Slack message and one email; a finding opened, updated and archived
is one thread; a Health event resolves; an EventBridge event started as the template's rules
start it (``{"source": "eventbridge", "payload": <event>}``) is handled the same way."""

import json
from pathlib import Path

import pytest

from opswire_local.platform import DeliveryReport
from tests.conftest import EVENTS
from tests.local.conftest import PlatformFactory

QUIET = {"AlarmRoutingParameter": json.dumps({"default": {"renotify_minutes": 0}})}
SNS_EVENT_SAMPLES = sorted(
    p for p in (EVENTS / "sns").iterdir() if not p.name.startswith(("alarm-", "cloudwatch-"))
)


ALL_KINDS = (
    "guardduty,health,securityhub,ecs-deployments,ecs-tasks,codepipeline,codebuild,backup,glue,"
    "rds,cost-anomaly,console-signin"
)
OPENING_EVENTBRIDGE_SAMPLES = sorted(
    p
    for p in (EVENTS / "eventbridge").iterdir()
    if not p.name.startswith(("alarm-", "secretsmanager-"))
    and not any(
        word in p.name for word in ("completed", "archived", "closed", "resolved", "updated")
    )
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


def test_every_eventbridge_sample_through_its_rule_is_one_slack_message_and_one_email(
    start_platform: PlatformFactory,
) -> None:
    """Every kind's rule on (``OpsEventKinds``): each opening sample, put on the bus as
    ``opswire local send eventbridge`` puts it, starts one execution that tells both channels."""
    platform = start_platform(ssm_parameters=QUIET, parameters={"OpsEventKinds": ALL_KINDS})
    assert len(OPENING_EVENTBRIDGE_SAMPLES) >= 12

    for sample in OPENING_EVENTBRIDGE_SAMPLES:
        report = platform.send("eventbridge", sample.read_bytes())

        assert report.ok and report.errors == [], (sample.name, report.to_json())
        assert [e["state_machine"] for e in report.executions] == ["AlarmHandlingStateMachine"]
        channels = sorted(n["channel"] for n in report.notifications)
        assert channels == ["email", "slack"], (sample.name, channels)


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


def test_health_event_through_the_template_rule_opens_then_closed_resolves(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(ssm_parameters=QUIET)

    opened = platform.send(
        "eventbridge", (EVENTS / "eventbridge" / "health-event-open.json").read_bytes()
    )
    closed = platform.send(
        "eventbridge", (EVENTS / "eventbridge" / "health-event-closed.json").read_bytes()
    )

    assert opened.errors == [] and closed.errors == []
    assert [e["state_machine"] for e in opened.executions] == ["AlarmHandlingStateMachine"]
    assert sorted(n["channel"] for n in opened.notifications) == ["email", "slack"]
    (root,) = platform.outbox.conversation()
    assert "AWS Health" in json.dumps(root)
    assert [("RESOLVED" in r["text"]) for r in root["replies"]] == [True]
    (mail,) = [n for n in closed.notifications if n["channel"] == "email"]
    assert mail["subject"].startswith("Re: [RESOLVED] AWS Health")


def test_a_kind_left_out_of_ops_event_kinds_starts_nothing(
    start_platform: PlatformFactory,
) -> None:
    """With ``OpsEventKinds=health`` the ECS rule (on by default) is disabled."""
    platform = start_platform(ssm_parameters=QUIET, parameters={"OpsEventKinds": "health"})
    ecs = (EVENTS / "eventbridge" / "ecs-deployment-failed.json").read_bytes()
    health = (EVENTS / "eventbridge" / "health-event-open.json").read_bytes()

    assert platform.send("eventbridge", ecs).executions == []
    assert platform.send("eventbridge", health).executions != []


def test_a_plain_text_message_is_told_not_dead_lettered(start_platform: PlatformFactory) -> None:
    platform = start_platform(ssm_parameters=QUIET)

    report = platform.send("sns:AlarmTopic", b"this is not an alarm")

    assert report.ok and report.dead_letters == []
    (mail,) = _emails([report])
    assert "this is not an alarm" in mail["text"]
