"""The incident steps of the alarm workflow: evaluate a delivery, record where messages went,
decide on reminders. Collaborators are passed in; the handlers wire the real ones."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from opswire.errors import IncidentConflictError
from opswire.incidents import decide, incident_key, next_reminder
from opswire.models.alarm import Alarm
from opswire.models.incident import Delivery, Incident, RoutingConfig, Silence, SlackThread
from opswire.models.workflow import Page, RecordDeliveryInput, WorkflowState

_EVALUATE_ATTEMPTS = 5


class IncidentRepository(Protocol):
    def get_incident(self, key: str) -> Incident | None: ...

    def save_incident(self, incident: Incident) -> Incident: ...

    def list_silences(self) -> list[Silence]: ...

    def record_delivery(self, key: str, episode: int, delivery: Delivery) -> Incident | None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def evaluate_alarm(
    alarm: Alarm,
    store: IncidentRepository,
    config: RoutingConfig,
    clock: Callable[[], datetime] = utc_now,
) -> WorkflowState:
    """Decide and store atomically: the incident is written with a condition on the version that
    was read, so of two concurrent deliveries of one state change only one can notify; the other
    re-reads and finds a duplicate."""
    silences = store.list_silences()
    for _attempt in range(_EVALUATE_ATTEMPTS):
        current = store.get_incident(incident_key(alarm))
        decision = decide(alarm, current, silences, config, clock())
        if decision.incident == current:
            return WorkflowState(alarm=alarm, decision=decision)
        try:
            saved = store.save_incident(decision.incident)
        except IncidentConflictError:
            continue
        return WorkflowState(alarm=alarm, decision=decision.model_copy(update={"incident": saved}))
    raise IncidentConflictError(f"incident of {alarm.name!r} kept changing; the workflow retries")


def record_delivery(state: RecordDeliveryInput, store: IncidentRepository) -> bool:
    """Remember the Slack threads and email Message-ID of the episode's root messages."""
    slack = state.notifications.get("slack") or {}
    email = state.notifications.get("email") or {}
    delivery = Delivery(
        slack_threads=[
            SlackThread.model_validate(thread)
            for thread in (slack.get("delivery") or {}).get("slack_threads", [])
        ],
        email_message_id=(email.get("delivery") or {}).get("email_message_id"),
    )
    if not delivery.slack_threads and delivery.email_message_id is None:
        return False
    incident = state.decision.incident
    return store.record_delivery(incident.key, incident.episode, delivery) is not None


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
            subject=f"[opswire] ALARM {state.alarm.name}"[:100],
            message=(
                f"{state.alarm.name} ({state.alarm.region}, account {state.alarm.account_id}) "
                f"has been in ALARM for {minutes} min without acknowledgement.\n"
                f"Reason: {state.alarm.reason}\n"
                f"Incident: {incident.incident_id}\n{state.alarm.console_url}"
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
