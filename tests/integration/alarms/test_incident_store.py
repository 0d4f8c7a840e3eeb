"""The incident store on DynamoDB (moto): conditional writes, concurrent deliveries, silences."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from opswire.alarms.aws.incident_store import IncidentStore
from opswire.alarms.incidents import incident_key
from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.envelope import AlarmEnvelope
from opswire.alarms.models.event import OpsEvent
from opswire.alarms.models.incident import RoutingConfig, Silence
from opswire.alarms.models.workflow import DeliveryRecord, RecordDeliveryInput
from opswire.alarms.parse import parse_alarm
from opswire.alarms.subject import parse_subject
from opswire.alarms.workflow import evaluate_alarm, record_delivery
from opswire.channels.ports import Delivery, SlackThread
from opswire.core.errors import IncidentConflictError, IncidentNotFoundError
from opswire_local.moto_patches import atomic_dynamodb_writes
from tests.conftest import EVENTS
from tests.integration.aws_support import create_table_like

TABLE = "incidents"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[IncidentStore]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(), atomic_dynamodb_writes():
        client = boto3.client("dynamodb")
        create_table_like("IncidentTable", TABLE, client)
        yield IncidentStore(TABLE, client=client)


def _alarm() -> Alarm:
    document = json.loads((EVENTS / "sns" / "alarm-metric-alarm.json").read_text())
    return parse_alarm(AlarmEnvelope(source="sns", payload=document))


def test_an_incident_round_trips_and_versions_guard_every_write(store: IncidentStore) -> None:
    state = evaluate_alarm(_alarm(), store, RoutingConfig(), clock=lambda: NOW)
    saved = state.decision.incident

    assert saved.version == 1
    assert store.get_incident(saved.key) == saved
    stale = saved.model_copy(update={"version": 0})
    with pytest.raises(IncidentConflictError):
        store.save_incident(stale)  # "create" while it exists
    store.save_incident(saved.model_copy(update={"severity": "critical"}))
    with pytest.raises(IncidentConflictError):
        store.save_incident(saved)  # version 1 was already superseded


def test_concurrent_deliveries_of_one_state_change_notify_exactly_once(
    store: IncidentStore,
) -> None:
    alarm = _alarm()
    barrier = threading.Barrier(8)
    actions: list[str] = []

    def deliver() -> None:
        barrier.wait()
        state = evaluate_alarm(alarm, store, RoutingConfig(), clock=lambda: NOW)
        actions.append(state.decision.action)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(actions) == ["notify"] + ["suppress"] * 7


def test_record_delivery_keeps_the_first_thread_of_an_episode(store: IncidentStore) -> None:
    incident = evaluate_alarm(_alarm(), store, RoutingConfig(), clock=lambda: NOW).decision.incident
    first = Delivery(slack_threads=[SlackThread(channel="C1", ts="1.0")], email_message_id="<a@x>")
    second = Delivery(slack_threads=[SlackThread(channel="C1", ts="2.0")], email_message_id="<b@x>")

    store.record_delivery(incident.key, incident.episode, first)
    store.record_delivery(incident.key, incident.episode, second)
    assert store.record_delivery(incident.key, incident.episode + 1, second) is None

    stored = store.get_incident(incident.key)
    assert stored is not None
    assert stored.slack_threads == first.slack_threads
    assert stored.email_message_id == "<a@x>"


def test_acknowledge_names_the_episode(store: IncidentStore) -> None:
    incident = evaluate_alarm(_alarm(), store, RoutingConfig(), clock=lambda: NOW).decision.incident

    acknowledged = store.acknowledge(incident.incident_id, by="ann", at=NOW)
    again = store.acknowledge(incident.incident_id, by="bob", at=NOW + timedelta(minutes=1))

    assert (acknowledged.acknowledged_by, acknowledged.acknowledged_at) == ("ann", NOW)
    assert again.acknowledged_by == "ann"
    with pytest.raises(IncidentNotFoundError):
        store.acknowledge(f"{incident.key}-{incident.episode + 1}", by="ann", at=NOW)
    with pytest.raises(IncidentNotFoundError):
        store.acknowledge("not-an-id", by="ann", at=NOW)


def test_silences_are_stored_listed_and_removed(store: IncidentStore) -> None:
    silence = Silence(
        silence_id="maint-1",
        name_pattern="api-*",
        tags={"team": "orders"},
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=2),
        created_by="ann",
        reason="database upgrade",
    )

    store.put_silence(silence)
    assert store.list_silences() == [silence]
    assert store.delete_silence("maint-1") is True
    assert store.delete_silence("maint-1") is False
    assert store.list_silences() == []


def test_a_silenced_alarm_is_recorded_but_not_notified(store: IncidentStore) -> None:
    store.put_silence(
        Silence(
            silence_id="s",
            name_pattern="api-5xx-*",
            starts_at=NOW - timedelta(minutes=1),
            ends_at=NOW + timedelta(hours=1),
            created_by="ann",
            reason="deploy",
        )
    )

    state = evaluate_alarm(_alarm(), store, RoutingConfig(), clock=lambda: NOW)

    assert (state.decision.action, state.decision.reason) == ("suppress", "silenced")
    stored = store.get_incident(state.decision.incident.key)
    assert stored is not None and stored.state == "ALARM"


def test_a_channel_refusal_recorded_by_concurrent_executions_is_new_exactly_once(
    store: IncidentStore,
) -> None:
    state = evaluate_alarm(_alarm(), store, RoutingConfig(), clock=lambda: NOW)
    refused = {
        "channel": "email",
        "delivered": False,
        "failure": {
            "error": "EmailDeliveryError",
            "cause": json.dumps({"errorMessage": "SES refused the message: MessageRejected"}),
        },
    }
    notified = RecordDeliveryInput.model_validate(
        {**state.model_dump(mode="json"), "notifications": {"email": refused}}
    )
    barrier = threading.Barrier(6)
    outcomes: list[DeliveryRecord] = []

    def record() -> None:
        barrier.wait()
        outcomes.append(record_delivery(notified, store, clock=lambda: NOW))

    threads = [threading.Thread(target=record) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes) == 6 and all(outcome.settled for outcome in outcomes)
    assert [f.channel for outcome in outcomes for f in outcome.new_failures] == ["email"]
    stored = store.get_incident(state.decision.incident.key)
    assert stored is not None
    assert stored.channel_failures["email"].reason == "SES refused the message: MessageRejected"
    assert stored.channel_failures["email"].first_at == NOW


def _finding(minutes: int, **changes: object) -> OpsEvent:
    document = json.loads((EVENTS / "eventbridge" / "guardduty-finding.json").read_text())
    event = parse_subject(AlarmEnvelope(source="eventbridge", payload=document))
    assert isinstance(event, OpsEvent)
    return event.model_copy(update={"updated_at": NOW + timedelta(minutes=minutes), **changes})


def test_events_are_stored_through_decide_event_opened_updated_resolved(
    store: IncidentStore,
) -> None:
    config = RoutingConfig()
    states = [
        evaluate_alarm(_finding(0), store, config, clock=lambda: NOW),
        evaluate_alarm(_finding(1), store, config, clock=lambda: NOW),
        evaluate_alarm(_finding(1), store, config, clock=lambda: NOW),
        evaluate_alarm(_finding(2, status="resolved"), store, config, clock=lambda: NOW),
    ]

    assert [s.decision.kind for s in states] == ["opened", "updated", None, "resolved"]
    assert states[2].decision.reason == "duplicate"
    assert states[1].decision.incident.updates == 1
    stored = store.get_incident(incident_key(_finding(0)))
    assert stored is not None
    assert (stored.state, stored.episode, stored.severity) == ("OK", 1, "medium")
