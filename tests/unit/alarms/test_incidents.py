"""Incident decisions: dedupe, repeats, flapping, noise, silences, routing, reminders."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from opswire.alarms.incidents import decide, incident_key, next_reminder, resolve_route
from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.envelope import AlarmEnvelope
from opswire.alarms.models.incident import (
    EscalationStep,
    Incident,
    Route,
    RouteMatch,
    RoutingConfig,
    Silence,
)
from opswire.alarms.parse import parse_alarm
from tests.conftest import EVENTS

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _alarm(state: str = "ALARM", at: datetime = T0, **changes: object) -> Alarm:
    document = json.loads((EVENTS / "sns" / "alarm-metric-alarm.json").read_text())
    alarm = parse_alarm(AlarmEnvelope(source="sns", payload=document))
    return alarm.model_copy(update={"state": state, "state_changed_at": at, **changes})


def _apply(alarms: list[Alarm], config: RoutingConfig | None = None, silences=()) -> list:  # type: ignore[no-untyped-def]
    """Feed deliveries through decide() the way the workflow does, storing the incident."""
    config = config or RoutingConfig()
    incident: Incident | None = None
    decisions = []
    for alarm in alarms:
        decision = decide(alarm, incident, list(silences), config, alarm.state_changed_at)
        incident = decision.incident
        decisions.append(decision)
    return decisions


def test_one_incident_per_alarm_whatever_the_door() -> None:
    sns = _alarm()
    eventbridge = sns.model_copy(update={"source": "eventbridge", "arn": None})
    other = sns.model_copy(update={"name": "another-alarm"})

    assert incident_key(sns) == incident_key(eventbridge)
    assert incident_key(sns) != incident_key(other)


def test_first_alarm_opens_an_episode_and_notifies() -> None:
    (decision,) = _apply([_alarm()])

    assert decision.action == "notify" and decision.kind == "opened"
    assert decision.incident.episode == 1
    assert decision.incident.opened_at == T0
    assert decision.incident.incident_id == f"{incident_key(_alarm())}-1"


def test_the_same_state_change_delivered_twice_is_a_duplicate() -> None:
    first, second = _apply([_alarm(), _alarm()])

    assert first.action == "notify"
    assert (second.action, second.reason) == ("suppress", "duplicate")
    assert second.incident == first.incident


def test_an_older_delivery_arriving_late_is_a_duplicate() -> None:
    _, late = _apply([_alarm(at=T0), _alarm(at=T0 - timedelta(minutes=1))])

    assert (late.action, late.reason) == ("suppress", "duplicate")


def test_a_repeat_of_the_same_state_inside_the_window_sends_nothing() -> None:
    config = RoutingConfig(dedupe_window_minutes=10)
    _, repeat, later = _apply(
        [
            _alarm(at=T0),
            _alarm(at=T0 + timedelta(minutes=5)),
            _alarm(at=T0 + timedelta(minutes=11)),
        ],
        config,
    )

    assert (repeat.action, repeat.reason) == ("suppress", "repeat")
    assert (later.action, later.kind) == ("notify", "reminder")


def test_alarm_then_ok_resolves_with_the_duration() -> None:
    opened, resolved = _apply([_alarm(at=T0), _alarm("OK", at=T0 + timedelta(minutes=12))])

    assert (resolved.action, resolved.kind) == ("notify", "resolved")
    assert resolved.duration_seconds == 12 * 60
    assert resolved.incident.episode == opened.incident.episode
    assert resolved.incident.opened_at is None


def test_ok_without_anything_raised_is_not_notified() -> None:
    (decision,) = _apply([_alarm("OK")])

    assert (decision.action, decision.reason) == ("suppress", "repeat")


def test_a_new_alarm_after_resolution_opens_a_new_episode() -> None:
    first, _, again = _apply(
        [
            _alarm(at=T0),
            _alarm("OK", at=T0 + timedelta(minutes=1)),
            _alarm(at=T0 + timedelta(minutes=2)),
        ],
        RoutingConfig(flapping_transitions=10),
    )

    assert again.kind == "opened"
    assert again.incident.episode == first.incident.episode + 1


def test_insufficient_data_is_noise_unless_it_comes_from_alarm() -> None:
    (alone,) = _apply([_alarm("INSUFFICIENT_DATA")])
    _, from_alarm = _apply([_alarm(), _alarm("INSUFFICIENT_DATA", at=T0 + timedelta(minutes=1))])
    (configured,) = _apply(
        [_alarm("INSUFFICIENT_DATA")], RoutingConfig(notify_insufficient_data=True)
    )

    assert (alone.action, alone.reason) == ("suppress", "insufficient_data")
    assert (from_alarm.action, from_alarm.kind) == ("notify", "state_change")
    assert configured.action == "notify"


def test_more_than_n_transitions_in_the_window_is_one_flapping_message() -> None:
    config = RoutingConfig(flapping_transitions=3, flapping_window_minutes=30)
    states = ["ALARM", "OK", "ALARM", "OK", "ALARM", "OK"]
    decisions = _apply(
        [_alarm(state, at=T0 + timedelta(minutes=i)) for i, state in enumerate(states)], config
    )

    kinds = [(d.action, d.kind or d.reason) for d in decisions]
    assert kinds == [
        ("notify", "opened"),
        ("notify", "resolved"),
        ("notify", "opened"),
        ("notify", "flapping"),
        ("suppress", "flapping"),
        ("suppress", "flapping"),
    ]


def test_flapping_calms_down_when_the_window_empties() -> None:
    config = RoutingConfig(flapping_transitions=2, flapping_window_minutes=10)
    states = [("ALARM", 0), ("OK", 1), ("ALARM", 2), ("OK", 60)]
    decisions = _apply([_alarm(s, at=T0 + timedelta(minutes=m)) for s, m in states], config)

    assert decisions[2].kind == "flapping"
    assert (decisions[3].action, decisions[3].kind) == ("notify", "resolved")
    assert decisions[3].incident.flapping is False


def test_an_active_silence_records_but_does_not_notify() -> None:
    silence = Silence(
        silence_id="s1",
        name_pattern="api-*",
        starts_at=T0 - timedelta(hours=1),
        ends_at=T0 + timedelta(hours=1),
        created_by="me",
        reason="deploy",
    )
    expired = silence.model_copy(update={"ends_at": T0 - timedelta(minutes=1)})

    (silenced,) = _apply([_alarm()], silences=[silence])
    (loud,) = _apply([_alarm()], silences=[expired])

    assert (silenced.action, silenced.reason) == ("suppress", "silenced")
    assert silenced.incident.state == "ALARM" and silenced.incident.episode == 1
    assert loud.action == "notify"


def test_silences_match_tags_too() -> None:
    silence = Silence(
        silence_id="s1",
        tags={"team": "payments"},
        starts_at=T0 - timedelta(hours=1),
        ends_at=T0 + timedelta(hours=1),
        created_by="me",
        reason="maintenance",
    )

    assert silence.matches("x", {"team": "payments", "env": "prod"}, T0)
    assert not silence.matches("x", {"team": "orders"}, T0)


def test_routes_match_by_name_and_tags_and_tags_override() -> None:
    config = RoutingConfig(
        routes=[
            Route(
                match=RouteMatch(name="api-*", tags={"team": "orders"}),
                severity="critical",
                slack_channels=["#orders"],
                renotify_minutes=15,
            ),
        ],
        default=Route(severity="info"),
    )
    matching = _alarm(tags={"team": "orders"})
    other_team = _alarm(tags={"team": "billing"})
    overridden = _alarm(
        tags={
            "team": "orders",
            "opswire:slack-channel": "#war-room, #orders",
            "opswire:runbook": "https://runbooks/x",
            "opswire:mention": "here",
        }
    )

    assert resolve_route(matching, config).slack_channels == ["#orders"]
    assert resolve_route(other_team, config).severity == "info"
    route = resolve_route(overridden, config)
    assert route.slack_channels == ["#war-room", "#orders"]
    assert route.runbook == "https://runbooks/x" and route.mention_here is True
    assert route.severity == "critical"


def test_reminders_are_planned_only_for_alarm_with_a_renotify_interval() -> None:
    config = RoutingConfig(default=Route(renotify_minutes=15))
    opened, resolved = _apply([_alarm(), _alarm("OK", at=T0 + timedelta(minutes=3))], config)

    assert opened.renotify_seconds == 900
    assert resolved.renotify_seconds == 0


@pytest.mark.parametrize(
    ("reminders_sent", "expected_steps"),
    [(0, []), (1, [30]), (2, []), (3, [60]), (4, [])],
)
def test_next_reminder_escalates_when_each_step_comes_due(
    reminders_sent: int, expected_steps: list[int]
) -> None:
    route = Route(
        renotify_minutes=15,
        escalation=[
            EscalationStep(after_minutes=30, email=["lead@x"]),
            EscalationStep(after_minutes=60, page=True),
        ],
    )
    (opened,) = _apply([_alarm()], RoutingConfig(default=route))
    now = T0 + timedelta(minutes=15 * (reminders_sent + 1))

    reminder = next_reminder(opened.incident, 1, reminders_sent, route, RoutingConfig(), now)

    assert reminder is not None
    assert reminder.count == reminders_sent + 1
    assert [step.after_minutes for step in reminder.escalation] == expected_steps
    assert reminder.elapsed_seconds == 15 * 60 * (reminders_sent + 1)


def test_no_reminder_when_acknowledged_resolved_replaced_or_exhausted() -> None:
    route = Route(renotify_minutes=15)
    config = RoutingConfig(default=route, max_reminders=3)
    (opened,) = _apply([_alarm()], config)
    later = T0 + timedelta(minutes=20)
    incident = opened.incident

    acknowledged = incident.model_copy(update={"acknowledged_at": T0, "acknowledged_by": "ann"})
    resolved = incident.model_copy(update={"state": "OK", "opened_at": None})
    assert next_reminder(incident, 1, 0, route, config, later) is not None
    assert next_reminder(acknowledged, 1, 0, route, config, later) is None
    assert next_reminder(resolved, 1, 0, route, config, later) is None
    assert next_reminder(incident, 2, 0, route, config, later) is None
    assert next_reminder(incident, 1, 3, route, config, later) is None
    assert next_reminder(None, 1, 0, route, config, later) is None
