"""The incident steps of the alarm workflow: evaluate a delivery, record where messages went
(and which channel failed for good), decide on reminders. Collaborators are passed in; the
handlers wire the real ones."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from opswire.alarms.event_incidents import decide_event
from opswire.alarms.incidents import decide, incident_key, next_reminder, record_outcome
from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.event import OpsEvent
from opswire.alarms.models.incident import (
    ChannelFailure,
    Incident,
    NotifyChannel,
    RoutingConfig,
    Silence,
)
from opswire.alarms.models.workflow import (
    ChannelFailureNotice,
    DeliveryRecord,
    Page,
    RecordDeliveryInput,
    WorkflowState,
)
from opswire.channels.ports import Delivery
from opswire.core.errors import IncidentConflictError

_EVALUATE_ATTEMPTS = 5


class IncidentRepository(Protocol):
    def get_incident(self, key: str) -> Incident | None: ...

    def save_incident(self, incident: Incident) -> Incident: ...

    def list_silences(self) -> list[Silence]: ...

    def update_incident(
        self, key: str, change: Callable[[Incident], Incident | None]
    ) -> Incident | None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def evaluate_alarm(
    alarm: Alarm | OpsEvent,
    store: IncidentRepository,
    config: RoutingConfig,
    clock: Callable[[], datetime] = utc_now,
) -> WorkflowState:
    """Decide (``decide`` for an alarm, ``decide_event`` for an event) and store atomically:
    the incident is written with a condition on the version that was read, so of two concurrent
    deliveries of one state change only one can notify; the other re-reads and finds a
    duplicate."""
    silences = store.list_silences()
    for _attempt in range(_EVALUATE_ATTEMPTS):
        current = store.get_incident(incident_key(alarm))
        if isinstance(alarm, OpsEvent):
            decision = decide_event(alarm, current, silences, config, clock())
        else:
            decision = decide(alarm, current, silences, config, clock())
        if decision.incident == current:
            return WorkflowState(alarm=alarm, decision=decision)
        try:
            saved = store.save_incident(decision.incident)
        except IncidentConflictError:
            continue
        return WorkflowState(alarm=alarm, decision=decision.model_copy(update={"incident": saved}))
    raise IncidentConflictError(f"incident of {alarm.name!r} kept changing; the workflow retries")


_CHANNELS: tuple[NotifyChannel, ...] = ("slack", "email")


def record_delivery(
    state: RecordDeliveryInput,
    store: IncidentRepository,
    clock: Callable[[], datetime] = utc_now,
) -> DeliveryRecord:
    """Remember, on the episode's incident, the Slack threads and email Message-ID of its root
    messages and the channels that refused for good; report the refusals that are new (the
    workflow dead-letters those, once) and whether the round is settled. The write is
    conditional: of two executions recording the same refusal, one reports it as new."""
    incident = state.decision.incident
    outcomes = {c: state.notifications[c] for c in _CHANNELS if c in state.notifications}
    slack, email = outcomes.get("slack"), outcomes.get("email")
    delivery = Delivery(
        slack_threads=slack.delivery.slack_threads if slack and slack.delivered else [],
        email_message_id=email.delivery.email_message_id if email and email.delivered else None,
    )
    now = clock()
    failures = {
        channel: ChannelFailure(error=o.failure.error, reason=o.failure.reason, first_at=now)
        for channel, o in outcomes.items()
        if o.failure is not None and not o.delivered
    }
    delivered = [channel for channel, o in outcomes.items() if o.delivered]
    new: list[NotifyChannel] = []
    on_record = False

    def change(stored: Incident) -> Incident | None:
        nonlocal new, on_record
        new, on_record = [], stored.episode == incident.episode
        if not on_record:
            return None  # a newer episode: this one's outcome is history
        updated, new = record_outcome(stored, delivery, failures, delivered)
        return None if updated == stored else updated

    saved = store.update_incident(incident.key, change)
    # Settled: every channel delivered, or refused for good and that refusal is on the incident.
    undelivered = [
        name
        for name, outcome in state.notifications.items()
        if not outcome.delivered and not (on_record and name in failures)
    ]
    return DeliveryRecord(
        recorded=saved is not None,
        settled=not undelivered,
        new_failures=[
            ChannelFailureNotice(
                channel=channel,
                incident_id=incident.incident_id,
                error=failures[channel].error,
                reason=failures[channel].reason,
                first_at=failures[channel].first_at,
            )
            for channel in new
        ],
    )


def check_reminder(
    state: WorkflowState,
    store: IncidentRepository,
    config: RoutingConfig,
    clock: Callable[[], datetime] = utc_now,
) -> WorkflowState:
    """After the wait: remind (and escalate) if the episode is still open and unacknowledged."""
    incident = state.decision.incident
    stored = store.get_incident(incident.key)
    reminder = next_reminder(
        stored, incident.episode, state.reminders_sent, state.decision.route, config, clock()
    )
    if reminder is None or stored is None:
        return state.model_copy(update={"remind": False, "reminder": None, "page": None})
    # Reminders thread onto the messages recorded since the decision was made.
    decision = state.decision.model_copy(update={"incident": stored})
    incident = stored
    page = None
    if any(step.page for step in reminder.escalation):
        minutes = reminder.elapsed_seconds // 60
        page = Page(
            subject=f"[opswire] {_page_state(state)} {state.alarm.name}"[:100],
            message=(
                f"{state.alarm.name} ({state.alarm.region}, account {state.alarm.account_id}) "
                f"has been {'open' if isinstance(state.alarm, OpsEvent) else 'in ALARM'} "
                f"for {minutes} min without "
                "acknowledgement.\n"
                f"Reason: {state.alarm.reason}\n"
                f"Incident: {incident.incident_id}\n{state.alarm.console_url or ''}"
            ),
        )
    return state.model_copy(
        update={
            "decision": decision,
            "remind": True,
            "reminder": reminder,
            "page": page,
            "reminders_sent": reminder.count,
        }
    )


def _page_state(state: WorkflowState) -> str:
    return "OPEN" if isinstance(state.alarm, OpsEvent) else "ALARM"
