"""A channel that refuses for good (SES sandbox, revoked Slack token): recorded once on the
incident, reported as new once (the workflow dead-letters it), and it never fails the round
for the other channel, the reminders or the escalation."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opswire.alarms.incidents import decide, record_outcome
from opswire.alarms.models.incident import ChannelFailure, Incident, RoutingConfig
from opswire.alarms.models.workflow import RecordDeliveryInput, TaskFailure
from opswire.alarms.workflow import record_delivery
from opswire.channels.ports import Delivery, SlackThread
from tests.fakes.alarms import FakeIncidents
from tests.notify_samples import opened, sample_alarm

T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
SES_REFUSAL = (
    "SES refused the message: MessageRejected: Email address is not verified. The following "
    "identities failed the check in region EU-WEST-1: opswire@example.com"
)
THREAD = SlackThread(channel="C0ALERTS", ts="1773480067.000100")


def _cause(error: str, message: str) -> str:
    """A Lambda task's ``Cause`` as Step Functions hands it to a ``Catch``."""
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error,
            "requestId": "0c4f7c1e-0000-4000-8000-000000000001",
            "stackTrace": ['  File "/var/task/app.py", line 42, in handler\n'],
        }
    )


def _failure(at: datetime = T0, error: str = "EmailDeliveryError") -> ChannelFailure:
    return ChannelFailure(error=error, reason=SES_REFUSAL, first_at=at)


# ---- the rule -------------------------------------------------------------------------------
def _incident() -> Incident:
    return opened().decision.incident


def test_a_first_refusal_is_recorded_and_new() -> None:
    incident, new = record_outcome(_incident(), Delivery(), {"email": _failure()}, [])

    assert new == ["email"]
    assert incident.channel_failures == {"email": _failure()}


def test_the_same_refusal_again_changes_nothing_and_is_not_new() -> None:
    once, _ = record_outcome(_incident(), Delivery(), {"email": _failure()}, [])
    later = _failure(at=T0 + timedelta(minutes=15))

    again, new = record_outcome(once, Delivery(), {"email": later}, ["slack"])

    assert new == []
    assert again == once  # first_at stays: recorded once
    assert again.channel_failures["email"].first_at == T0


def test_another_error_on_the_same_channel_replaces_the_record_and_is_new() -> None:
    once, _ = record_outcome(_incident(), Delivery(), {"email": _failure()}, [])
    other = ChannelFailure(error="ConfigurationError", reason="no recipients", first_at=T0)

    changed, new = record_outcome(once, Delivery(), {"email": other}, [])

    assert new == ["email"]
    assert changed.channel_failures == {"email": other}


def test_a_channel_that_delivers_again_is_no_longer_failed() -> None:
    once, _ = record_outcome(_incident(), Delivery(), {"email": _failure()}, [])

    recovered, new = record_outcome(once, Delivery(), {}, ["email"])
    relapsed, new_again = record_outcome(recovered, Delivery(), {"email": _failure()}, [])

    assert (recovered.channel_failures, new) == ({}, [])
    assert new_again == ["email"] and "email" in relapsed.channel_failures


def test_both_channels_refusing_are_both_new_and_threads_of_the_first_delivery_stay() -> None:
    first = Delivery(slack_threads=[THREAD], email_message_id="<a@example.com>")
    threaded, _ = record_outcome(_incident(), first, {}, ["slack", "email"])
    slack = ChannelFailure(error="SlackDeliveryError", reason="token_revoked", first_at=T0)

    both, new = record_outcome(threaded, Delivery(), {"slack": slack, "email": _failure()}, [])

    assert sorted(new) == ["email", "slack"]
    assert both.slack_threads == [THREAD] and both.email_message_id == "<a@example.com>"


def test_a_new_episode_starts_without_the_last_episodes_refusals() -> None:
    task = opened()
    failed = task.decision.incident.model_copy(update={"channel_failures": {"email": _failure()}})
    routing = RoutingConfig()

    resolved = decide(sample_alarm("eventbridge/alarm-metric-ok.json"), failed, [], routing, T0)
    realarm = sample_alarm().model_copy(update={"state_changed_at": T0 + timedelta(hours=1)})
    reopened = decide(realarm, resolved.incident, [], routing, T0 + timedelta(hours=1))

    assert resolved.kind == "resolved"
    assert resolved.incident.channel_failures == {"email": _failure()}  # same episode
    assert reopened.kind == "opened" and reopened.incident.episode == failed.episode + 1
    assert reopened.incident.channel_failures == {}


# ---- what a Catch hands on ------------------------------------------------------------------
def test_the_reason_is_the_lambda_error_message_without_the_stack_trace() -> None:
    failure = TaskFailure(error="EmailDeliveryError", cause=_cause("EmailDeliveryError", "nope"))

    assert failure.reason == "nope"
    assert TaskFailure(error="States.Timeout", cause="timed out").reason == "timed out"
    assert TaskFailure(error="States.Timeout").reason == "States.Timeout"
    assert len(TaskFailure(error="E", cause="x" * 5000).reason) == 500


# ---- the RecordDelivery step ----------------------------------------------------------------
def _round(
    slack: dict[str, Any] | None = None,
    email: dict[str, Any] | None = None,
    page: dict[str, Any] | None = None,
) -> RecordDeliveryInput:
    """The state after the Notify step, as the workflow hands it to RecordDelivery."""
    task = opened()
    email_refused = {
        "channel": "email",
        "delivered": False,
        "incident_id": task.decision.incident.incident_id,
        "failure": {
            "error": "EmailDeliveryError",
            "cause": _cause("EmailDeliveryError", SES_REFUSAL),
        },
    }
    slack_sent = {
        "channel": "slack",
        "delivered": True,
        "recipient": "#alerts",
        "subject": "ALARM",
        "delivery": {"slack_threads": [THREAD.model_dump()], "email_message_id": None},
    }
    return RecordDeliveryInput.model_validate(
        {
            "alarm": task.alarm.model_dump(mode="json"),
            "decision": task.decision.model_dump(mode="json"),
            "notifications": {
                "slack": slack or slack_sent,
                "email": email or email_refused,
                "page": page or {"channel": "page", "delivered": True},
            },
        }
    )


def test_an_email_refusal_is_reported_new_once_and_the_round_is_settled() -> None:
    state = _round()
    store = FakeIncidents(state.decision.incident)

    first = record_delivery(state, store, clock=lambda: T0)
    reminder = record_delivery(state, store, clock=lambda: T0 + timedelta(minutes=15))

    assert first.settled and first.recorded
    (notice,) = first.new_failures
    assert (notice.channel, notice.error, notice.reason) == (
        "email",
        "EmailDeliveryError",
        SES_REFUSAL,
    )
    assert notice.incident_id == state.decision.incident.incident_id and notice.first_at == T0
    assert reminder.settled and reminder.new_failures == [] and not reminder.recorded
    assert store.writes == 1
    assert store.incident is not None
    assert store.incident.slack_threads == [THREAD]
    assert store.incident.channel_failures["email"].first_at == T0


def test_a_concurrent_execution_that_recorded_the_refusal_first_gets_it_not_new() -> None:
    state = _round()
    store = FakeIncidents(state.decision.incident)
    store.before_next_write = lambda current: current.model_copy(
        update={"channel_failures": {"email": _failure()}, "version": current.version + 1}
    )

    record = record_delivery(state, store, clock=lambda: T0 + timedelta(seconds=3))

    assert record.new_failures == [] and record.settled
    assert store.incident is not None and store.incident.slack_threads == [THREAD]


def test_a_failure_that_outlived_its_retries_or_a_failed_page_is_not_settled() -> None:
    exhausted = {
        "channel": "slack",
        "delivered": False,
        "error": "SlackRetryableError",
        "cause": _cause("SlackRetryableError", "Slack chat.postMessage: HTTP 503"),
    }
    page = {"channel": "page", "delivered": False, "error": "SNS.InternalError", "cause": "x"}
    for state in (_round(slack=exhausted), _round(page=page)):
        store = FakeIncidents(state.decision.incident)

        record = record_delivery(state, store, clock=lambda: T0)

        assert not record.settled
        assert [n.channel for n in record.new_failures] == ["email"]  # still recorded once


def test_a_refusal_of_an_episode_that_is_over_is_neither_recorded_nor_settled() -> None:
    state = _round()
    newer = state.decision.incident.model_copy(update={"episode": 2})
    store = FakeIncidents(newer)

    record = record_delivery(state, store, clock=lambda: T0)

    assert (record.recorded, record.settled, record.new_failures) == (False, False, [])
    assert store.incident == newer


@pytest.mark.parametrize("channel", ["slack", "email"])
def test_a_channel_that_delivers_clears_its_recorded_refusal(channel: str) -> None:
    state = _round(
        email={
            "channel": "email",
            "delivered": True,
            "recipient": "ops@example.com",
            "subject": "ALARM",
        }
    )
    incident = state.decision.incident.model_copy(
        update={"channel_failures": {channel: _failure(error="X")}}
    )
    store = FakeIncidents(incident)

    record = record_delivery(state, store, clock=lambda: T0)

    assert record.recorded and record.settled and record.new_failures == []
    assert store.incident is not None and store.incident.channel_failures == {}
