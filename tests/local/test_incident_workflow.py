"""Alarm handling that operators trust, end to end on the local platform: one incident per
problem, deduplicated, flapping collapsed, silenced, resolved in place, reminded, acknowledged."""

import json
import time
from datetime import UTC, datetime, timedelta

import boto3

from opswire_cli.demo import open_incident_id, slack_interaction
from opswire_cli.silences import load_silences
from opswire_local.platform import REGION, LocalPlatform
from opswire_local.template import ACCOUNT_ID
from tests.conftest import EVENTS
from tests.local.conftest import PlatformFactory

ALARM = EVENTS / "sns" / "alarm-metric-alarm.json"
RESOLVED = EVENTS / "sns" / "alarm-metric-resolved.json"
FLAPPING = sorted((EVENTS / "sns").glob("alarm-flapping-*.json"))
QUIET = {"default": {"renotify_minutes": 0}}
# One-minute reminders become 600 ms at time scale 0.01.
REMINDING = {
    "default": {
        "renotify_minutes": 1,
        "escalation": [{"after_minutes": 2, "email": ["lead@example.com"], "page": True}],
    },
    "max_reminders": 3,
}


def _start(start_platform: PlatformFactory, routing: dict, **options: object) -> LocalPlatform:  # type: ignore[type-arg]
    return start_platform(ssm_parameters={"AlarmRoutingParameter": json.dumps(routing)}, **options)


def _until_all_executions_end(platform: LocalPlatform, timeout: float = 60.0) -> list:  # type: ignore[type-arg]
    """Let time pass until no execution is left (reminder loops end by themselves)."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = platform.state_machines["AlarmHandlingStateMachine"]
    deadline = time.monotonic() + timeout
    reports = []
    while time.monotonic() < deadline:
        reports.append(platform.wait(0.5))
        running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")
        if not running["executions"]:
            # An execution that ended after that report looked (a reminder woke up) is reported
            # by the next one: without it a busy machine loses the SUCCEEDED.
            reports.append(platform.wait(0))
            return reports
    raise AssertionError(f"executions still running after {timeout}s")


def _slack_posts(platform: LocalPlatform) -> list[dict]:  # type: ignore[type-arg]
    return [m for m in platform.outbox.messages if m["method"] == "chat.postMessage"]


def _emails(report_or_reports: object) -> list[dict]:  # type: ignore[type-arg]
    reports = report_or_reports if isinstance(report_or_reports, list) else [report_or_reports]
    return [n for r in reports for n in r.notifications if n["channel"] == "email"]


def test_the_same_alarm_through_sns_and_eventbridge_is_one_incident_and_one_message(
    start_platform: PlatformFactory,
) -> None:
    platform = _start(start_platform, QUIET)

    first = platform.send("sns:AlarmTopic", ALARM.read_bytes())
    second = platform.send(
        "eventbridge", (EVENTS / "eventbridge" / "alarm-metric-alarm.json").read_bytes()
    )

    assert [e["status"] for e in first.executions + second.executions] == ["SUCCEEDED"] * 2
    assert len(platform.outbox.conversation()) == 1
    assert len(_emails(first)) == 1 and _emails(second) == []
    assert second.notifications == []


def test_alarm_alarm_ok_is_one_message_updated_to_resolved_and_one_email_thread(
    start_platform: PlatformFactory,
) -> None:
    platform = _start(start_platform, QUIET)

    reports = [
        platform.send("sns:AlarmTopic", path.read_bytes()) for path in (ALARM, ALARM, RESOLVED)
    ]

    assert all(r.ok for r in reports)
    (message,) = platform.outbox.conversation()
    assert "resolved" in json.dumps(message).lower()
    assert "#2EB886" in json.dumps(message)  # the root message turned green
    assert reports[1].notifications == []
    opened_mail, resolved_mail = _emails(reports)
    opened_id = opened_mail["payload"]["headers"]["Message-ID"]
    assert resolved_mail["payload"]["headers"]["In-Reply-To"] == opened_id
    assert opened_id in resolved_mail["payload"]["headers"]["References"]
    assert "after 21 min" in resolved_mail["text"]  # 09:21:07.4 -> 09:43:07.2


def test_a_flapping_sequence_collapses_into_one_flapping_message(
    start_platform: PlatformFactory,
) -> None:
    platform = _start(start_platform, {**QUIET, "flapping_transitions": 3})

    reports = [platform.send("sns:AlarmTopic", path.read_bytes()) for path in FLAPPING]

    def says_flapping(report: object) -> bool:
        return any("flapping" in json.dumps(n["payload"]).lower() for n in report.notifications)  # type: ignore[attr-defined]

    assert [says_flapping(r) for r in reports] == [False, False, False, True, False, False]
    assert [bool(r.notifications) for r in reports[4:]] == [False, False]  # then quiet
    flapping_mails = [n for n in _emails(reports) if "flapping" in n["text"].lower()]
    assert len(flapping_mails) == 1
    assert all(r.ok for r in reports)


def test_a_silenced_alarm_is_recorded_but_nobody_is_told(start_platform: PlatformFactory) -> None:
    platform = _start(start_platform, QUIET)
    now = datetime.now(UTC)
    silences = [
        {
            "silence_id": "deploy-1",
            "name_pattern": "api-5xx-*",
            "tags": {},
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "created_by": "ann",
            "reason": "deploy",
        }
    ]
    platform.options.state_path.mkdir(parents=True, exist_ok=True)
    (platform.options.state_path / "silences.json").write_text(json.dumps(silences))
    load_silences(platform)  # as the CLI does when it has started a platform

    report = platform.send("sns:AlarmTopic", ALARM.read_bytes())

    assert report.notifications == []
    assert [e["status"] for e in report.executions] == ["SUCCEEDED"]
    assert report.executions[0]["output"]["decision"]["reason"] == "silenced"


def test_an_unacknowledged_alarm_is_reminded_and_escalated(start_platform: PlatformFactory) -> None:
    platform = _start(start_platform, REMINDING, time_scale=0.01)

    opened = platform.send("sns:AlarmTopic", ALARM.read_bytes())
    later = _until_all_executions_end(platform)

    assert opened.executions[0]["waiting_in"] == "WaitToRemind"
    assert len(platform.outbox.conversation()) == 1  # reminders are thread replies
    (root,) = platform.outbox.conversation()
    assert len(root["replies"]) == 3  # max_reminders
    escalation_mails = [m for m in _emails(later) if "lead@example.com" in m["recipient"]]
    assert len(escalation_mails) == 1
    assert [e["status"] for r in later for e in r.executions] == ["SUCCEEDED"]
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.get_queue_url(QueueName="opswire-local-NotificationDeadLetterQueue")["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq)


def test_an_acknowledged_alarm_is_not_reminded(start_platform: PlatformFactory) -> None:
    # 60 min at time scale 0.001 = 3.6 s for the click to land before the reminder is due
    # (10 min, 0.6 s, was tight on a busy machine).
    platform = _start(start_platform, {"default": {"renotify_minutes": 60}})
    opened = platform.send("sns:AlarmTopic", ALARM.read_bytes())
    (clicked,) = platform.outbox.conversation()
    body, headers = slack_interaction(open_incident_id(platform), user="ann", message=clicked)

    answer = platform.send("http:POST /slack/interactions", body, headers=headers)
    later = _until_all_executions_end(platform)

    assert opened.executions[0]["waiting_in"] == "WaitToRemind"
    assert answer.http is not None and answer.http["status"] == 200
    # The execution ends when its reminder is due: on a busy machine that can already happen
    # while the click is being answered.
    assert [e["status"] for r in [answer, *later] for e in r.executions] == ["SUCCEEDED"]
    assert not any("still in alarm" in m["text"].lower() for m in platform.outbox.messages)
    (root,) = platform.outbox.conversation()
    assert ["Acknowledged by" in reply["text"] for reply in root["replies"]] == [True]
    # The message itself: no Acknowledge button any more, who acknowledged in its place.
    (before,) = clicked["attachments"]
    (after,) = root["attachments"]
    buttons = [e["action_id"] for b in after["blocks"] if b["type"] == "actions"
               for e in b["elements"] if "action_id" in e]  # fmt: skip
    assert "acknowledge" not in buttons
    assert any("acknowledge" in json.dumps(b) for b in before["blocks"] if b["type"] == "actions")
    notes = [b for b in after["blocks"] if b["type"] == "context"]
    assert "Acknowledged by <@U0DEMO>" in json.dumps(notes)
    assert after["color"] == before["color"] and root["updates"] == 1


def test_slack_rate_limits_do_not_duplicate_messages(start_platform: PlatformFactory) -> None:
    platform = _start(start_platform, QUIET)
    platform.outbox.fail_next(2, status=429, retry_after=1)

    report = platform.send("sns:AlarmTopic", ALARM.read_bytes())

    assert [e["status"] for e in report.executions] == ["SUCCEEDED"]
    assert len(_slack_posts(platform)) == 1


def test_a_notification_that_finally_fails_lands_in_the_dlq_with_the_incident_id(
    start_platform: PlatformFactory,
) -> None:
    platform = _start(start_platform, QUIET)
    platform.outbox.fail_next(20, status=500, error="internal_error")

    report = platform.send("sns:AlarmTopic", ALARM.read_bytes())

    (execution,) = report.executions
    assert (execution["status"], execution["error"]) == ("FAILED", "NotificationDeliveryFailed")
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.get_queue_url(QueueName="opswire-local-NotificationDeadLetterQueue")["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(message["Body"])
    assert body["channel"] == "slack"
    assert body["incident_id"].endswith("-1")
    assert body["error"] == "SlackRetryableError"


# ---- a channel that refuses for good (SES sandbox, revoked Slack token) ------------------------
# Two reminders, one minute apart (600 ms at time scale 0.01), no escalation.
TWO_REMINDERS = {"default": {"renotify_minutes": 1}, "max_reminders": 2}


def _stored_incident(platform: LocalPlatform) -> dict:  # type: ignore[type-arg]
    table = platform.tables["IncidentTable"]
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    (incident,) = [
        json.loads(item["data"]["S"]) for item in items if item["pk"]["S"].startswith("INCIDENT#")
    ]
    return incident  # type: ignore[no-any-return]


def _dead_letters(platform: LocalPlatform) -> list[dict]:  # type: ignore[type-arg]
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.get_queue_url(QueueName="opswire-local-NotificationDeadLetterQueue")["QueueUrl"]
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(json.loads(m["Body"]) for m in messages)


def _runs(platform: LocalPlatform, function: str) -> list:  # type: ignore[type-arg]
    return [r for r in platform.runtime.invocations if r.function.endswith(function)]


def test_an_unverified_ses_sender_still_reaches_slack_and_reminders_go_on(
    start_platform: PlatformFactory,
) -> None:
    platform = _start(start_platform, TWO_REMINDERS, time_scale=0.01)
    # A new account: SES in the sandbox, the sender identity not verified.
    boto3.client("ses", region_name=REGION).delete_identity(Identity="opswire@example.com")

    opened = platform.send("sns:AlarmTopic", ALARM.read_bytes())
    later = _until_all_executions_end(platform)

    # Slack got the alarm and both reminders; the execution went on to its end.
    assert opened.executions[0]["waiting_in"] == "WaitToRemind"
    (root,) = platform.outbox.conversation()
    assert "api-5xx-errors-high" in json.dumps(root)
    assert ["Still in ALARM" in reply["text"] for reply in root["replies"]] == [True, True]
    assert [e["status"] for r in later for e in r.executions] == ["SUCCEEDED"]
    # SES refused every mail (the alarm and both reminders), without retries ...
    email_runs = _runs(platform, "NotifyEmailFunction")
    assert [r.error_type for r in email_runs] == ["EmailDeliveryError"] * 3
    assert _emails([opened, *later]) == []
    # ... and the refusal is on the incident once, and in the dead-letter queue once.
    incident = _stored_incident(platform)
    failure = incident["channel_failures"]["email"]
    assert failure["error"] == "EmailDeliveryError"
    assert "MessageRejected" in failure["reason"] and "opswire@example.com" in failure["reason"]
    assert list(incident["channel_failures"]) == ["email"]
    (dead,) = _dead_letters(platform)
    assert (dead["channel"], dead["error"], dead["permanent"]) == (
        "email",
        "EmailDeliveryError",
        True,
    )
    assert dead["incident_id"] == f"{incident['key']}-{incident['episode']}"
    assert dead["reason"] == failure["reason"]
    assert dead["first_at"] == failure["first_at"]  # the reminders did not record it again
    assert dead["kind"] == "opened" and dead["input"]["alarm"]["name"] == "api-5xx-errors-high"


def test_a_revoked_slack_token_still_lets_the_email_out_and_reminders_go_on(
    start_platform: PlatformFactory,
) -> None:
    platform = _start(start_platform, TWO_REMINDERS, time_scale=0.01)
    platform.outbox.fail_next(10, status=200, error="token_revoked")

    opened = platform.send("sns:AlarmTopic", ALARM.read_bytes())
    later = _until_all_executions_end(platform)

    assert opened.executions[0]["waiting_in"] == "WaitToRemind"
    assert [e["status"] for r in later for e in r.executions] == ["SUCCEEDED"]
    mails = _emails([opened, *later])
    assert len(mails) == 3  # the alarm and two reminders, in one thread
    assert [m["subject"].startswith("Re: ") for m in mails] == [False, True, True]
    assert platform.outbox.conversation() == []
    assert [r["error"] for r in platform.outbox.rejected] == ["token_revoked"] * 3
    incident = _stored_incident(platform)
    assert incident["channel_failures"]["slack"]["error"] == "SlackDeliveryError"
    assert "token_revoked" in incident["channel_failures"]["slack"]["reason"]
    assert incident["email_message_id"] is not None
    (dead,) = _dead_letters(platform)
    assert (dead["channel"], dead["error"]) == ("slack", "SlackDeliveryError")
    assert dead["reason"] == "Slack chat.postMessage failed: token_revoked"


def test_with_both_channels_refusing_reminders_still_page_on_call(
    start_platform: PlatformFactory,
) -> None:
    from moto.sns.models import sns_backends

    routing = {
        "default": {"renotify_minutes": 1, "escalation": [{"after_minutes": 2, "page": True}]},
        "max_reminders": 2,
    }
    platform = _start(start_platform, routing, time_scale=0.01)
    boto3.client("ses", region_name=REGION).delete_identity(Identity="opswire@example.com")
    platform.outbox.fail_next(10, status=200, error="account_inactive")

    opened = platform.send("sns:AlarmTopic", ALARM.read_bytes())
    later = _until_all_executions_end(platform)

    # Nobody could be told by Slack or email, but the workflow went on and paged on-call.
    assert opened.executions[0]["waiting_in"] == "WaitToRemind"
    assert [e["status"] for r in later for e in r.executions] == ["SUCCEEDED"]
    topic = sns_backends[ACCOUNT_ID][REGION].topics[platform.topics["EscalationTopic"]]
    assert [subject for _id, _message, subject, *_ in topic.sent_notifications] == [
        "[opswire] ALARM api-5xx-errors-high"
    ]
    # Each refusal once on the incident and once in the dead-letter queue.
    incident = _stored_incident(platform)
    assert sorted(incident["channel_failures"]) == ["email", "slack"]
    dead = _dead_letters(platform)
    assert sorted((d["channel"], d["error"]) for d in dead) == [
        ("email", "EmailDeliveryError"),
        ("slack", "SlackDeliveryError"),
    ]
