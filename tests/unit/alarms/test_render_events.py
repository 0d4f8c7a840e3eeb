"""Slack and email messages for events: what, where, how bad, what to do, the raw event last;
escaped, with the console links; the notify tasks render events and skip mail when told."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from opswire.alarms.delivery import notify_email, notify_slack_bot
from opswire.alarms.event_incidents import decide_event
from opswire.alarms.models.envelope import AlarmEnvelope, SnsDelivery
from opswire.alarms.models.event import OpsEvent
from opswire.alarms.models.incident import Route, RoutingConfig
from opswire.alarms.models.tasks import NotifyTaskInput
from opswire.alarms.render import MessageContext
from opswire.alarms.render_event import event_facts
from opswire.alarms.render_event_email import render_event_email
from opswire.alarms.render_event_slack import render_event_slack, render_event_slack_reply
from opswire.alarms.subject import parse_subject
from tests.conftest import EVENTS
from tests.fakes.alarms import FakeOnce
from tests.fakes.channels import FakeEmailSender, FakeSlack

NOW = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
ALL = sorted(
    p.name
    for p in (EVENTS / "eventbridge").glob("*.json")
    if not p.name.startswith(("alarm-", "secretsmanager-"))
)


def sample(name: str) -> OpsEvent:
    payload = json.loads((EVENTS / "eventbridge" / name).read_text())
    parsed = parse_subject(AlarmEnvelope(source="eventbridge", payload=payload))
    assert isinstance(parsed, OpsEvent)
    return parsed


def context(**changes: Any) -> MessageContext:
    values: dict[str, Any] = {"kind": "opened", "incident_id": "abc-1", "severity": "high"}
    return MessageContext(**{**values, **changes})


def slack_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


@pytest.mark.parametrize("name", ALL)
def test_every_kind_says_what_where_how_bad_and_carries_the_raw_event(name: str) -> None:
    event = sample(name)
    payload = render_event_slack(event, context(severity=event.severity))
    blocks = payload["attachments"][0]["blocks"]
    text = slack_text(payload)

    assert blocks[0]["type"] == "header"
    assert event.service in blocks[0]["text"]["text"]
    assert "123456789012" in text and event.region in text
    assert f"*{event.severity}*" in text
    assert blocks[-2]["text"]["text"].startswith("*Raw event* (folded)")
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    if event.console_url:
        assert any(
            e.get("url") == event.console_url
            for b in blocks
            if b["type"] == "actions"
            for e in b["elements"]
        )

    mail = render_event_email(event, context(severity=event.severity))
    assert event.service in mail.subject and event.region in mail.subject
    assert "<details><summary>Raw event</summary>" in mail.html
    assert "-- raw event --" in mail.text
    assert "Account: 123456789012" in mail.text


def test_guardduty_message_names_the_instance_with_its_console_link_and_counts() -> None:
    event = sample("guardduty-finding-updated.json")
    text = slack_text(render_event_slack(event, context()))

    assert "EC2 instance: <https://eu-west-1.console.aws.amazon.com/ec2/home" in text
    assert "|i-0b5f8c3b9d1e2a4f6>" in text
    assert "*Count*\\n14" in text
    assert "HIGH · GuardDuty" in text


def test_security_hub_recommendation_is_what_to_do() -> None:
    text = slack_text(render_event_slack(sample("securityhub-finding-imported.json"), context()))
    assert "*What to do* (from Security Hub)" in text


def test_a_runbook_link_is_a_button_and_text_is_a_section() -> None:
    event = sample("ecs-deployment-failed.json")
    linked = render_event_slack(event, context(runbook="https://wiki.example.com/ecs"))
    plain = render_event_slack(event, context(runbook="roll back with `opswire deploy`"))
    assert '"text": "Runbook"}, "url": "https://wiki.example.com/ecs"' in slack_text(linked)
    assert "*Runbook*\\nroll back with" in slack_text(plain)


def test_event_text_is_escaped_and_cannot_mention_or_link() -> None:
    event = sample("guardduty-finding.json").model_copy(
        update={
            "title": "<!channel> pwned <https://evil.example|click>",
            "summary": "a & b <@U123>",
            "raw": "```<!here>```",
            "console_url": "https://evil.example/x|<!channel>",
        }
    )
    payload = render_event_slack(event, context())
    header = payload["attachments"][0]["blocks"].pop(0)
    assert header["text"]["type"] == "plain_text"  # Slack does not read mrkdwn there
    text = slack_text(payload)

    assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt;" in text and "a &amp; b" in text
    assert "evil.example/x" not in text  # a link with delimiters is not written
    mail = render_event_email(event, context())
    assert "<!channel>" not in mail.html and "&lt;!channel&gt;" in mail.html


def test_only_the_route_mentions_here() -> None:
    event = sample("health-event-open.json")
    assert render_event_slack(event, context(mention_here=True))["text"].startswith("<!here> ")
    assert "<!here>" not in slack_text(render_event_slack(event, context()))


def test_the_acknowledge_button_only_while_open_and_unacknowledged() -> None:
    event = sample("health-event-open.json")
    closed = sample("health-event-closed.json")

    def has_ack(payload: dict[str, Any]) -> bool:
        return '"action_id": "acknowledge"' in slack_text(payload)

    assert has_ack(render_event_slack(event, context(ack_button=True)))
    assert not has_ack(render_event_slack(event, context(ack_button=True, acknowledged_by="ann")))
    assert not has_ack(render_event_slack(closed, context(ack_button=True, kind="resolved")))


def test_replies_say_updated_resolved_or_still_open() -> None:
    update = render_event_slack_reply(
        sample("guardduty-finding-updated.json"), context(kind="updated", updates=3)
    )
    resolved = render_event_slack_reply(
        sample("guardduty-finding-archived.json"), context(kind="resolved", duration_seconds=1500)
    )
    reminder = render_event_slack_reply(
        sample("guardduty-finding.json"),
        context(kind="reminder", elapsed_seconds=3600, reminder_count=2),
    )
    assert "*UPDATED*" in update["text"] and "update 3" in update["text"]
    assert "Count: 14" in update["text"]
    assert "*RESOLVED*" in resolved["text"] and "after 25 min" in resolved["text"]
    assert "Still open for 1 h" in reminder["text"] and "reminder 2" in reminder["text"]


def test_after_an_update_the_root_message_shows_the_severity_and_the_reply_the_update() -> None:
    event = sample("guardduty-finding-updated.json")
    root = render_event_slack(event, context(kind="updated", severity="high"))
    reply = render_event_slack_reply(event, context(kind="updated", severity="high"))
    mail = render_event_email(event, context(kind="updated", severity="high", reply=True))

    assert root["text"].startswith("HIGH · GuardDuty")
    assert reply["text"].startswith(":arrows_counterclockwise: *UPDATED*")
    assert mail.subject.startswith("Re: [UPDATED] GuardDuty: ")


def test_no_fact_is_shown_twice() -> None:
    for name in ALL:
        labels = [label for label, _value in event_facts(sample(name), None)]
        assert len(labels) == len(set(labels)), name


def test_a_plain_text_message_is_rendered_as_text() -> None:
    sns = SnsDelivery(
        message_id="m",
        topic_arn="arn:aws:sns:eu-west-1:123456789012:opswire-alarms",
        timestamp="2026-03-14T09:00:00Z",
        subject="orders-api deploy",
    )
    message = (EVENTS / "sns/plain-text.txt").read_text()
    event = parse_subject(AlarmEnvelope(source="sns", payload={}, sns=sns, text=message))
    assert isinstance(event, OpsEvent)
    mail = render_event_email(event, context(severity=event.severity))
    assert mail.subject == "[HIGH] opswire-alarms: orders-api deploy in eu-west-1"
    assert "3 failing smoke tests" in mail.text
    assert "3 failing smoke tests" in slack_text(render_event_slack(event, context()))


def _task(event: OpsEvent, previous: OpsEvent | None = None) -> NotifyTaskInput:
    config = RoutingConfig(default=Route(slack_channels=["#ops"], email=["ops@example.com"]))
    incident = None
    if previous is not None:
        incident = decide_event(previous, None, [], config, NOW).incident
    decision = decide_event(event, incident, [], config, NOW)
    return NotifyTaskInput(alarm=event, decision=decision)


def test_the_notify_tasks_render_events_and_an_update_is_not_mailed() -> None:
    opened = _task(sample("guardduty-finding.json"))
    api, sender = FakeSlack(), FakeEmailSender()

    slack = notify_slack_bot(opened, api, FakeOnce(), NOW)
    mail = notify_email(opened, sender, FakeOnce(), NOW, "ops@example.com", [])
    assert "GuardDuty" in slack.subject and mail.recipient == "ops@example.com"
    assert len(sender.sent) == 1

    update = _task(sample("guardduty-finding-updated.json"), sample("guardduty-finding.json"))
    assert update.decision.kind == "updated" and update.decision.email is True  # medium -> high
    quiet = _task(
        sample("guardduty-finding-updated.json").model_copy(update={"severity": "medium"}),
        sample("guardduty-finding.json"),
    )
    skipped = notify_email(quiet, sender, FakeOnce(), NOW, "ops@example.com", [])
    assert (skipped.delivered, skipped.recipient) == (True, "")
    assert len(sender.sent) == 1
