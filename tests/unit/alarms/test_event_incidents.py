"""Incident decisions for events: one incident per finding, updates thread, the source resolves,
silences and routes by kind / service / severity / account / resource, quiet routes, reminders
for high and critical only."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opswire.alarms.event_incidents import decide_event, event_route
from opswire.alarms.incidents import decide, incident_key, next_reminder, resolve_route
from opswire.alarms.models.envelope import AlarmEnvelope
from opswire.alarms.models.event import OpsEvent
from opswire.alarms.models.incident import (
    Decision,
    Incident,
    Route,
    RouteMatch,
    RoutingConfig,
    Silence,
)
from opswire.alarms.subject import parse_subject
from tests.conftest import EVENTS

T0 = datetime(2026, 3, 14, 9, 40, tzinfo=UTC)


def sample(name: str, **changes: Any) -> OpsEvent:
    payload = json.loads((EVENTS / "eventbridge" / name).read_text())
    parsed = parse_subject(AlarmEnvelope(source="eventbridge", payload=payload))
    assert isinstance(parsed, OpsEvent)
    return parsed.model_copy(update=changes)


def finding(n: int, **changes: Any) -> OpsEvent:
    """The n-th report of one GuardDuty finding (n = 0 opens it)."""
    return sample("guardduty-finding.json", updated_at=T0 + timedelta(minutes=n), **changes)


def apply(
    events: list[OpsEvent], config: RoutingConfig | None = None, silences: tuple[Silence, ...] = ()
) -> list[Decision]:
    config = config or RoutingConfig()
    incident: Incident | None = None
    decisions = []
    for event in events:
        decision = decide_event(event, incident, list(silences), config, event.updated_at)
        incident = decision.incident
        decisions.append(decision)
    return decisions


def test_a_finding_updated_ten_times_is_one_incident_opened_once_then_updates() -> None:
    decisions = apply([finding(n) for n in range(11)])

    assert [d.kind for d in decisions] == ["opened"] + ["updated"] * 10
    assert {d.incident.key for d in decisions} == {incident_key(finding(0))}
    assert {d.incident.episode for d in decisions} == {1}
    assert decisions[-1].incident.updates == 10
    # updates thread in Slack; the mail is sent for the opening only
    assert [d.email for d in decisions] == [True] + [False] * 10


def test_an_update_that_raises_the_severity_is_mailed() -> None:
    decisions = apply([finding(0), finding(1, severity="high")])
    assert decisions[1].kind == "updated" and decisions[1].email
    assert decisions[1].incident.severity == "high"


def test_a_redelivered_or_older_report_is_a_duplicate() -> None:
    decisions = apply([finding(5), finding(5), finding(2)])
    assert [d.action for d in decisions] == ["notify", "suppress", "suppress"]
    assert {d.reason for d in decisions[1:]} == {"duplicate"}


def test_archiving_resolves_and_a_later_report_reopens_a_new_episode() -> None:
    decisions = apply([finding(0), finding(1), finding(30, status="resolved"), finding(60)])

    assert [d.kind for d in decisions] == ["opened", "updated", "resolved", "opened"]
    assert decisions[2].duration_seconds == 30 * 60
    assert decisions[2].incident.state == "OK" and decisions[2].incident.opened_at is None
    assert decisions[3].incident.episode == 2
    assert decisions[3].incident.slack_threads == []


def test_a_resolution_of_nothing_open_is_not_told() -> None:
    (decision,) = apply([finding(0, status="resolved")])
    assert (decision.action, decision.reason) == ("suppress", "repeat")


def test_health_event_open_then_closed_resolves() -> None:
    decisions = apply([sample("health-event-open.json"), sample("health-event-closed.json")])
    assert [d.kind for d in decisions] == ["opened", "resolved"]


def test_a_failed_deployment_is_resolved_by_the_next_completed_one() -> None:
    decisions = apply(
        [sample("ecs-deployment-failed.json"), sample("ecs-deployment-completed.json")]
    )
    assert [d.kind for d in decisions] == ["opened", "resolved"]


def test_one_off_events_open_and_are_never_resolved_by_themselves() -> None:
    root = sample("signin-root-console-login.json")
    (decision,) = apply([root])
    assert decision.kind == "opened" and decision.incident.state == "ALARM"


def test_silence_by_kind_and_resource() -> None:
    window = {"starts_at": T0 - timedelta(hours=1), "ends_at": T0 + timedelta(hours=1)}
    by_kind = Silence(silence_id="s1", kind="guardduty_*", created_by="t", reason="r", **window)
    by_resource = Silence(
        silence_id="s2",
        resource_pattern="i-0b5f8c3b9d1e2a4f6",
        created_by="t",
        reason="r",
        **window,
    )
    other = Silence(silence_id="s3", kind="health_event", created_by="t", reason="r", **window)

    for silence in (by_kind, by_resource):
        (decision,) = apply([finding(0)], silences=(silence,))
        assert (decision.action, decision.reason) == ("suppress", "silenced")
    (decision,) = apply([finding(0)], silences=(other,))
    assert decision.action == "notify"


def test_routes_match_on_kind_service_severity_account_resource_and_resource_tags() -> None:
    event = finding(
        0
    )  # GuardDuty, medium, account 123456789012, i-0b5f8c3b9d1e2a4f6, team=platform
    matching = [
        RouteMatch(kind="guardduty_finding"),
        RouteMatch(service="GuardDuty"),
        RouteMatch(severity=["medium", "high"]),
        RouteMatch(account="1234*"),
        RouteMatch(resource="i-0b5f*"),
        RouteMatch(tags={"team": "platform"}),
    ]
    not_matching = [
        RouteMatch(kind="health_event"),
        RouteMatch(service="ECS"),
        RouteMatch(severity=["critical"]),
        RouteMatch(account="999999999999"),
        RouteMatch(resource="i-other"),
        RouteMatch(tags={"team": "orders"}),
        RouteMatch(kind="guardduty_finding", severity=["low"]),
    ]
    for match in matching:
        config = RoutingConfig(routes=[Route(match=match, slack_channels=["#hit"])])
        assert event_route(event, config).slack_channels == ["#hit"], match
    for match in not_matching:
        config = RoutingConfig(routes=[Route(match=match, slack_channels=["#hit"])])
        assert event_route(event, config).slack_channels == [], match


def test_a_route_with_a_severity_takes_no_alarm_and_alarms_match_their_own_kind() -> None:
    alarm_payload = json.loads((EVENTS / "sns/alarm-metric-alarm.json").read_text())
    alarm = parse_subject(AlarmEnvelope(source="sns", payload=alarm_payload))
    by_severity = RoutingConfig(
        routes=[Route(match=RouteMatch(severity=["info"]), slack_channels=["#x"])]
    )
    by_kind = RoutingConfig(
        routes=[Route(match=RouteMatch(kind="cloudwatch_alarm"), slack_channels=["#alarms"])]
    )
    assert resolve_route(alarm, by_severity).slack_channels == []
    assert resolve_route(alarm, by_kind).slack_channels == ["#alarms"]


def test_low_guardduty_findings_go_to_a_quiet_route_without_email_or_reminders() -> None:
    config = RoutingConfig(
        routes=[
            Route(
                match=RouteMatch(kind="guardduty_finding", severity=["low", "info"]),
                slack_channels=["#security-quiet"],
                quiet=True,
                mention_here=True,
                renotify_minutes=30,
            )
        ],
        default=Route(slack_channels=["#security"], renotify_minutes=30, mention_here=True),
    )
    low = apply([finding(0, severity="low")], config)[0]
    high = apply([finding(0, severity="high")], config)[0]

    assert low.route.slack_channels == ["#security-quiet"]
    assert (low.email, low.mention_here, low.renotify_seconds) == (False, False, 0)
    assert high.route.slack_channels == ["#security"]
    assert (high.email, high.mention_here, high.renotify_seconds) == (True, True, 30 * 60)


@pytest.mark.parametrize(
    ("severity", "reminded"),
    [("critical", True), ("high", True), ("medium", False), ("low", False), ("info", False)],
)
def test_reminders_for_high_and_critical_only(severity: str, reminded: bool) -> None:
    config = RoutingConfig(default=Route(renotify_minutes=15))
    (decision,) = apply([finding(0, severity=severity)], config)
    assert decision.renotify_seconds == (15 * 60 if reminded else 0)
    reminder = next_reminder(
        decision.incident, 1, 0, decision.route, config, T0 + timedelta(minutes=15)
    )
    assert reminder is not None  # the wait loop only runs when renotify_seconds > 0


def test_the_event_severity_is_the_incidents_and_a_resource_tag_overrides_it() -> None:
    (decision,) = apply([finding(0)])
    assert decision.route.severity == decision.incident.severity == "medium"
    tagged = finding(0)
    resource = tagged.resources[0].model_copy(
        update={"tags": {**tagged.resources[0].tags, "opswire:severity": "critical"}}
    )
    (decision,) = apply([tagged.model_copy(update={"resources": (resource,)})])
    assert decision.incident.severity == "critical"


def test_alarm_decisions_are_unchanged_by_quiet_default() -> None:
    alarm_payload = json.loads((EVENTS / "sns/alarm-metric-alarm.json").read_text())
    alarm = parse_subject(AlarmEnvelope(source="sns", payload=alarm_payload))
    assert not isinstance(alarm, OpsEvent)
    decision = decide(alarm, None, [], RoutingConfig(), alarm.state_changed_at)
    assert (decision.kind, decision.email) == ("opened", True)
    quiet = RoutingConfig(default=Route(quiet=True, renotify_minutes=5, mention_here=True))
    decision = decide(alarm, None, [], quiet, alarm.state_changed_at)
    assert (decision.email, decision.renotify_seconds, decision.mention_here) == (False, 0, False)
