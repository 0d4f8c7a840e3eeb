"""Incident notifications per kind and channel: what is posted where, threaded, updated, sent
once, and which errors pass through. Collaborators are recording fakes."""

import json
from datetime import timedelta
from typing import Any

import pytest

from opswire.alarms.delivery import (
    email_headers,
    escalation,
    message_kind,
    notify_email,
    notify_slack_bot,
    notify_slack_webhook,
    refresh_delivery,
    wants_log_lines,
)
from opswire.alarms.models.tasks import NotifyTaskInput
from opswire.channels.ports import EmailContent, SlackThread
from opswire.core.errors import (
    ConfigurationError,
    EmailDeliveryError,
    EmailRetryableError,
    OpswireError,
    RetryableError,
    SlackDeliveryError,
    SlackRetryableError,
    TaskInputError,
)
from tests.fakes.alarms import FakeIncidents, FakeOnce
from tests.fakes.channels import FakeEmailSender, FakeSlack, FakeWebhook
from tests.notify_samples import (
    OPENED_AT,
    RESOLVED_AT,
    config,
    delivered,
    opened,
    reminder,
    resolved,
    sample_alarm,
    state_change,
)

NOW = RESOLVED_AT


def blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = payload["attachments"][0]["blocks"]
    return result


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in blocks(payload) if b["type"] == "actions" for e in b["elements"]]


def ack_buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in buttons(payload) if b.get("action_id") == "acknowledge"]


THREADS = [SlackThread(channel="CALERTS", ts="1.000100"), SlackThread(channel="CTEAM", ts="2.5")]


# ---- what the task asks for ---------------------------------------------------------------------
def test_the_message_kind_is_the_decisions_or_reminder_when_re_notifying() -> None:
    task = opened()
    assert message_kind(task) == "opened"
    assert wants_log_lines(task)
    later = reminder(task, delivered(task), minutes=15, count=1)
    assert message_kind(later) == "reminder"
    assert not wants_log_lines(later)


def test_a_suppressed_decision_is_a_wiring_error() -> None:
    task = opened()
    suppressed = task.decision.model_copy(
        update={"action": "suppress", "kind": None, "reason": "silenced"}
    )
    with pytest.raises(TaskInputError, match="silenced"):
        notify_slack_bot(
            NotifyTaskInput(alarm=task.alarm, decision=suppressed),
            FakeSlack(),
            FakeOnce(),
            NOW,
        )


def test_escalation_is_the_steps_that_fell_due_with_the_reminder() -> None:
    task = opened()
    stored = delivered(task)
    assert escalation(opened()) == ([], False)
    assert escalation(reminder(task, stored, minutes=15, count=1)) == ([], False)
    assert escalation(reminder(task, stored, minutes=30, count=2)) == (["lead@example.com"], False)
    assert escalation(reminder(task, stored, minutes=45, count=3)) == ([], False)
    assert escalation(reminder(task, stored, minutes=60, count=4)) == (["cto@example.com"], True)


# ---- Slack with a bot token ---------------------------------------------------------------------
def test_bot_opened_posts_one_root_message_per_route_channel_and_returns_the_threads() -> None:
    task = opened(routing=config(slack_channels=["#alerts", "#team-orders", "#alerts"]))
    api = FakeSlack()

    result = notify_slack_bot(task, api, FakeOnce(), OPENED_AT)

    assert [post["channel"] for post in api.posts] == ["#alerts", "#team-orders"]
    assert all(post["thread_ts"] is None for post in api.posts)
    payload = api.posts[0]["payload"]
    assert payload["text"].startswith("<!here> ALARM: api-5xx-errors-high in eu-west-1")
    [button] = ack_buttons(payload)
    assert button["value"] == task.decision.incident.incident_id
    assert result.delivered and result.channel == "slack"
    assert result.recipient == "#alerts, #team-orders"
    assert result.delivery.slack_threads == [
        SlackThread(channel="CALERTS", ts="1.000100"),
        SlackThread(channel="CTEAM-ORDERS", ts="2.000100"),
    ]
    assert result.message_id == "1.000100"
    assert api.updates == []


def test_bot_uses_the_default_channel_when_the_route_names_none() -> None:
    api = FakeSlack()
    notify_slack_bot(opened(routing=config(slack_channels=[])), api, FakeOnce(), NOW, "#ops")
    assert [post["channel"] for post in api.posts] == ["#ops"]


def test_bot_without_any_channel_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no Slack channel"):
        notify_slack_bot(opened(routing=config(slack_channels=[])), FakeSlack(), FakeOnce(), NOW)


def test_bot_resolved_replies_in_each_thread_and_turns_the_first_message_green() -> None:
    first = opened()
    task = resolved(delivered(first, THREADS))
    api = FakeSlack()

    result = notify_slack_bot(task, api, FakeOnce(), NOW)

    assert [(p["channel"], p["thread_ts"]) for p in api.posts] == [
        ("CALERTS", "1.000100"),
        ("CTEAM", "2.5"),
    ]
    reply = api.posts[0]["payload"]["text"]
    assert ":white_check_mark: *RESOLVED*: Resolved after 21 min" in reply
    assert "<!here>" not in reply  # nobody is paged for good news
    assert not api.posts[0]["reply_broadcast"]
    assert [(u["channel"], u["ts"]) for u in api.updates] == [
        ("CALERTS", "1.000100"),
        ("CTEAM", "2.5"),
    ]
    root = api.updates[0]["payload"]
    assert root["attachments"][0]["color"] == "#2EB886"
    assert blocks(root)[0]["text"]["text"] == ":white_check_mark: RESOLVED: api-5xx-errors-high"
    assert "after 21 min" in root["text"]
    assert ack_buttons(root) == []
    assert result.delivery.slack_threads == []  # nothing new to remember
    assert result.recipient == "CALERTS, CTEAM"


def test_bot_state_change_replies_and_updates_the_first_message_to_the_new_state() -> None:
    task = state_change(delivered(opened(), THREADS[:1]))
    api = FakeSlack()

    notify_slack_bot(task, api, FakeOnce(), NOW)

    [post] = api.posts
    assert post["thread_ts"] == "1.000100"
    assert "ALARM → INSUFFICIENT_DATA at 09:26:07 UTC." in post["payload"]["text"]
    assert post["payload"]["text"].endswith("\n>Insufficient Data: 1 datapoint was unknown.")
    [update] = api.updates
    assert update["payload"]["attachments"][0]["color"] == "#DAA038"
    assert ack_buttons(update["payload"]) == []  # not in ALARM: nothing to acknowledge


def test_bot_reminder_is_broadcast_in_the_thread_and_names_the_escalation() -> None:
    first = opened()
    task = reminder(first, delivered(first, THREADS[:1]), minutes=60, count=4)
    api = FakeSlack()

    notify_slack_bot(task, api, FakeOnce(), NOW)

    [post] = api.posts
    assert post["thread_ts"] == "1.000100" and post["reply_broadcast"] is True
    text = post["payload"]["text"]
    assert text.startswith("<!here> :rotating_light: *STILL IN ALARM*")
    assert "Still in ALARM for 1 h, not acknowledged (reminder 4)." in text
    assert "Escalated to cto@example.com. On-call paged." in text
    assert api.updates == []  # a reminder changes nothing about the incident


def test_bot_reminder_without_a_thread_posts_a_new_root_message() -> None:
    first = opened()
    task = reminder(first, delivered(first), minutes=15, count=1)
    api = FakeSlack()

    result = notify_slack_bot(task, api, FakeOnce(), NOW)

    [post] = api.posts
    assert post["thread_ts"] is None
    assert "STILL IN ALARM" in blocks(post["payload"])[0]["text"]["text"]
    assert len(ack_buttons(post["payload"])) == 1
    assert result.delivery.slack_threads == [SlackThread(channel="CALERTS", ts="1.000100")]


def test_bot_retry_after_a_partial_failure_posts_only_what_is_missing() -> None:
    task = opened(routing=config(slack_channels=["#alerts", "#team"]))
    once = FakeOnce()
    error = SlackRetryableError("Slack chat.postMessage: HTTP 503")
    failing = FakeSlack(fail_channel="#team", post_error=error)

    with pytest.raises(SlackRetryableError):
        notify_slack_bot(task, failing, once, OPENED_AT)
    assert [p["channel"] for p in failing.posts] == ["#alerts"]

    retry = FakeSlack()
    result = notify_slack_bot(task, retry, once, OPENED_AT)

    assert [p["channel"] for p in retry.posts] == ["#team"]
    assert [t.channel for t in result.delivery.slack_threads] == ["CALERTS", "CTEAM"]


def test_bot_the_same_task_twice_posts_once_and_reports_the_same_threads() -> None:
    task = opened()
    once, api = FakeOnce(), FakeSlack()

    first = notify_slack_bot(task, api, once, OPENED_AT)
    second = notify_slack_bot(task, api, once, OPENED_AT)

    assert len(api.posts) == 1
    assert second.delivery == first.delivery


def test_bot_a_first_message_that_cannot_be_updated_does_not_fail_the_notification() -> None:
    task = resolved(delivered(opened(), THREADS[:1]))
    api = FakeSlack(update_error=SlackDeliveryError("Slack chat.update failed: cant_update"))

    result = notify_slack_bot(task, api, FakeOnce(), NOW)

    assert result.delivered
    assert len(api.posts) == 1


@pytest.mark.parametrize(
    "error",
    [SlackRetryableError("Slack chat.postMessage: HTTP 503"), SlackDeliveryError("invalid_auth")],
    ids=type,
)
def test_bot_post_errors_pass_through_unchanged(error: OpswireError) -> None:
    api = FakeSlack(fail_channel="#alerts", post_error=error)
    with pytest.raises(type(error)) as info:
        notify_slack_bot(opened(), api, FakeOnce(), OPENED_AT)
    assert info.value is error


# ---- Slack incoming webhook ---------------------------------------------------------------------
def test_webhook_opened_posts_the_full_message_without_an_acknowledge_button() -> None:
    poster = FakeWebhook()

    result = notify_slack_webhook(opened(), poster, FakeOnce(), OPENED_AT)

    [payload] = poster.posted
    assert payload["text"].startswith("<!here> ALARM: api-5xx-errors-high")
    assert ack_buttons(payload) == []  # nobody could receive the click
    assert [b["text"]["text"] for b in buttons(payload)] == ["Open in CloudWatch", "Runbook"]
    assert result.recipient == "webhook"
    assert result.subject == payload["text"]
    assert result.delivery.slack_threads == []


def test_webhook_resolution_is_a_new_message_naming_the_incident_and_its_duration() -> None:
    first = opened()
    poster = FakeWebhook()

    notify_slack_webhook(resolved(delivered(first)), poster, FakeOnce(), NOW)

    [payload] = poster.posted
    assert payload["text"] == "RESOLVED: api-5xx-errors-high in eu-west-1 after 21 min"
    assert payload["attachments"][0]["color"] == "#2EB886"
    status = blocks(payload)[1]["text"]["text"]
    assert "Resolved after 21 min" in status
    assert f"Incident `{first.decision.incident.incident_id}`" in status


def test_webhook_sends_a_task_once_however_often_it_runs() -> None:
    task, once, poster = opened(), FakeOnce(), FakeWebhook()
    notify_slack_webhook(task, poster, once, OPENED_AT)
    notify_slack_webhook(task, poster, once, OPENED_AT)
    assert len(poster.posted) == 1


def test_webhook_errors_pass_through_and_a_retry_sends_again() -> None:
    task, once = opened(), FakeOnce()
    error = SlackRetryableError("Slack answered HTTP 429: rate_limited (Retry-After 7s)")
    with pytest.raises(SlackRetryableError) as info:
        notify_slack_webhook(task, FakeWebhook(error=error), once, OPENED_AT)
    assert info.value is error

    poster = FakeWebhook()
    notify_slack_webhook(task, poster, once, OPENED_AT)
    assert len(poster.posted) == 1


def test_the_result_is_json_for_the_workflow() -> None:
    result = notify_slack_bot(opened(), FakeSlack(), FakeOnce(), OPENED_AT)
    dumped = result.model_dump(mode="json")
    assert json.loads(json.dumps(dumped)) == dumped
    assert dumped["delivery"] == {
        "slack_threads": [{"channel": "CALERTS", "ts": "1.000100"}],
        "email_message_id": None,
    }


# ---- email --------------------------------------------------------------------------------------
def _send(task: NotifyTaskInput, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    sender = FakeEmailSender()
    result = notify_email(
        task,
        sender,
        kwargs.pop("once", FakeOnce()),
        kwargs.pop("now", NOW),
        from_address=kwargs.pop("from_address", "opswire <alerts@ops.example.com>"),
        default_recipients=kwargs.pop("default_recipients", ["ops@example.com"]),
        **kwargs,
    )
    [sent] = sender.sent
    return result, sent


def test_email_opened_is_the_root_of_the_episodes_thread() -> None:
    task = opened()
    incident_id = task.decision.incident.incident_id
    n = int(OPENED_AT.timestamp())

    result, sent = _send(task, ack_url="https://api.example.com/incidents/x/ack?exp=1&sig=ab")

    assert sent["recipients"] == ["oncall@example.com"]
    assert sent["sender"] == "opswire <alerts@ops.example.com>"
    assert sent["headers"] == {
        "Message-ID": f"<{incident_id}.opened.{n}@ops.example.com>",
        "References": f"<{incident_id}@ops.example.com>",
        "X-Opswire-Incident": incident_id,
    }
    content: EmailContent = sent["content"]
    assert content.subject == "[ALARM] api-5xx-errors-high in eu-west-1"
    assert "Acknowledge (stops reminders): https://api.example.com/incidents/x/ack" in content.text
    assert 'href="https://api.example.com/incidents/x/ack?exp=1&amp;sig=ab"' in content.html
    assert result.delivery.email_message_id == sent["headers"]["Message-ID"]
    assert result.message_id == "0100018e3c5f-0001"
    assert result.recipient == "oncall@example.com"


def test_email_follow_up_replies_to_the_first_mail_with_a_stable_subject() -> None:
    first = opened()
    root_id = f"<{first.decision.incident.incident_id}.opened.1@ops.example.com>"
    task = resolved(delivered(first, email_message_id=root_id))

    result, sent = _send(task, ack_url="https://api.example.com/should-not-appear")

    incident_id = task.decision.incident.incident_id
    assert sent["headers"]["In-Reply-To"] == root_id
    assert sent["headers"]["References"] == f"<{incident_id}@ops.example.com> {root_id}"
    assert sent["headers"]["Message-ID"].startswith(f"<{incident_id}.resolved.")
    content: EmailContent = sent["content"]
    assert content.subject == "Re: [ALARM] api-5xx-errors-high in eu-west-1"
    assert content.text.startswith("RESOLVED: api-5xx-errors-high in eu-west-1 after 21 min")
    assert "should-not-appear" not in content.text + content.html
    assert result.delivery.email_message_id is None


def test_email_reminder_adds_the_escalation_addresses_and_numbers_the_message() -> None:
    first = opened()
    task = reminder(first, delivered(first, email_message_id="<root@x>"), minutes=60, count=4)

    _result, sent = _send(task)

    assert sent["recipients"] == ["oncall@example.com", "cto@example.com"]
    incident_id = task.decision.incident.incident_id
    assert sent["headers"]["Message-ID"] == f"<{incident_id}.reminder.4@ops.example.com>"
    assert "Still in ALARM for 1 h, not acknowledged (reminder 4)." in sent["content"].text
    assert "Escalated to cto@example.com. On-call paged." in sent["content"].text


def test_email_without_route_recipients_goes_to_the_default_list() -> None:
    _result, sent = _send(opened(routing=config(email=[])), default_recipients=["ops@x.io"])
    assert sent["recipients"] == ["ops@x.io"]


def test_email_without_any_recipient_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no email recipients"):
        _send(opened(routing=config(email=[])), default_recipients=[])


def test_email_headers_are_the_same_on_every_attempt() -> None:
    task = opened()
    assert email_headers(task, "a@b.example") == email_headers(task, "a@b.example")
    other = opened(sample_alarm().model_copy(update={"state_changed_at": OPENED_AT + timedelta(1)}))
    assert email_headers(other, "a@b.example") != email_headers(task, "a@b.example")


def test_email_the_same_task_twice_sends_once_with_the_same_result() -> None:
    task, once, sender = opened(), FakeOnce(), FakeEmailSender()
    first = notify_email(task, sender, once, NOW, "a@b.example", ["ops@b.example"])
    second = notify_email(task, sender, once, NOW, "a@b.example", ["ops@b.example"])
    assert len(sender.sent) == 1
    assert second == first


@pytest.mark.parametrize(
    "error",
    [
        EmailRetryableError("SES refused the message: Throttling"),
        EmailDeliveryError("SES refused the message: MessageRejected"),
    ],
    ids=type,
)
def test_email_sender_errors_pass_through_unchanged(error: OpswireError) -> None:
    sender = FakeEmailSender(error=error)
    with pytest.raises(type(error)) as info:
        notify_email(opened(), sender, FakeOnce(), NOW, "a@b.example", ["ops@b.example"])
    assert info.value is error
    assert len(sender.sent) == 1


# ---- follow-ups that do not carry their thread --------------------------------------------------
def test_a_reminder_without_its_thread_takes_it_from_the_stored_incident() -> None:
    first = opened()
    stored = delivered(first, THREADS[:1], "<root@x>")
    bare = reminder(first, delivered(first), minutes=15, count=1)  # as CheckReminder sends it
    incidents = FakeIncidents(stored)

    task = refresh_delivery(bare, "slack", incidents)

    assert task.decision.incident.slack_threads == THREADS[:1]
    assert task.decision.incident.email_message_id == "<root@x>"
    assert incidents.reads == [first.decision.incident.key]
    api = FakeSlack()
    notify_slack_bot(task, api, FakeOnce(), NOW)
    assert [p["thread_ts"] for p in api.posts] == [THREADS[0].ts]


def test_the_stored_acknowledgement_shows_on_a_follow_up() -> None:
    first = opened()
    stored = delivered(first).model_copy(
        update={"acknowledged_by": "bob (Slack)", "acknowledged_at": RESOLVED_AT}
    )
    task = refresh_delivery(resolved(delivered(first)), "email", FakeIncidents(stored))
    assert task.decision.incident.acknowledged_by == "bob (Slack)"


@pytest.mark.parametrize("channel", ["slack", "email"])
def test_nothing_is_read_when_the_task_already_knows_or_opens_the_episode(channel: str) -> None:
    first = opened()
    incidents = FakeIncidents(delivered(first, THREADS, "<root@x>"))
    knows = resolved(delivered(first, THREADS, "<root@x>"))

    assert refresh_delivery(first, channel, incidents) is first
    assert refresh_delivery(knows, channel, incidents) is knows
    assert refresh_delivery(knows, channel, None) is knows
    assert incidents.reads == []


def test_another_episode_or_a_failed_read_changes_nothing() -> None:
    first = opened()
    bare = reminder(first, delivered(first), minutes=15, count=1)
    newer = delivered(first, THREADS).model_copy(update={"episode": 2})

    assert refresh_delivery(bare, "slack", FakeIncidents(newer)) is bare
    assert refresh_delivery(bare, "slack", FakeIncidents(None)) is bare
    failing = FakeIncidents(error=RetryableError("DynamoDB GetItem failed: Throttling"))
    assert refresh_delivery(bare, "slack", failing) is bare
