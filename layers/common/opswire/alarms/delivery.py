"""Tell people about an incident: render the message for its kind and hand it to a channel.

Collaborators are passed in (Protocols): the Slack webhook or Web API, the email sender, and a
``Once`` runner that makes each send happen at most once per key, so that a task the workflow
retries after a partial success does not post the same message twice.

Slack with a bot token (``notify_slack_bot``): the episode's first message is posted to each
route channel and becomes the incident's thread; every later message is a reply in that thread,
and the first message is updated in place to show the current state (green and "resolved after
12 min" at the end). With an incoming webhook only (``notify_slack_webhook``) every message is a
new one; a resolution names the incident and its duration.

Email (``notify_email``): every message of an episode carries ``References`` to the episode's
thread id, and follow-ups ``In-Reply-To`` the first mail, with a stable ``Re:`` subject.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from opswire.alarms.log_excerpt import LogExcerpt
from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.event import OpsEvent
from opswire.alarms.models.incident import Incident, NotificationKind
from opswire.alarms.models.tasks import NotifyTaskInput
from opswire.alarms.render import MessageContext
from opswire.alarms.render_email import render_alarm_email
from opswire.alarms.render_event_email import render_event_email
from opswire.alarms.render_event_slack import render_event_slack, render_event_slack_reply
from opswire.alarms.render_slack import render_slack_message, render_slack_reply
from opswire.channels.ports import (
    Delivery,
    EmailContent,
    EmailSender,
    NotificationResult,
    SlackApi,
    SlackPoster,
    SlackThread,
)
from opswire.core.errors import ConfigurationError, OpswireError, SlackDeliveryError, TaskInputError
from opswire.core.observability import logger


class IncidentReader(Protocol):
    def get_incident(self, key: str) -> Incident | None: ...


class Once(Protocol):
    """Runs ``call`` at most once per ``key``; a repeated key returns the first result."""

    def run(self, key: dict[str, Any], call: Callable[[], dict[str, Any]]) -> dict[str, Any]: ...


# ---- what the message is about ------------------------------------------------------------------
def slack_message(subject: Alarm | OpsEvent, context: MessageContext) -> dict[str, Any]:
    """The Slack message for an alarm or, rendered per kind, an event."""
    if isinstance(subject, OpsEvent):
        return render_event_slack(subject, context)
    return render_slack_message(subject, context)


def slack_reply(subject: Alarm | OpsEvent, context: MessageContext) -> dict[str, Any]:
    if isinstance(subject, OpsEvent):
        return render_event_slack_reply(subject, context)
    return render_slack_reply(subject, context)


def email_content(subject: Alarm | OpsEvent, context: MessageContext) -> EmailContent:
    if isinstance(subject, OpsEvent):
        return render_event_email(subject, context)
    return render_alarm_email(subject, context)


def message_kind(task: NotifyTaskInput) -> NotificationKind:
    """The kind of message this task sends: a reminder when the workflow re-notifies."""
    if task.decision.action != "notify" or task.decision.kind is None:
        raise TaskInputError(
            f"notify task called for a suppressed decision ({task.decision.reason})"
        )
    return "reminder" if task.reminder is not None else task.decision.kind


def wants_log_lines(task: NotifyTaskInput) -> bool:
    """Recent log lines are looked up for the first message of an alarm's episode only."""
    return (
        isinstance(task.alarm, Alarm) and task.reminder is None and task.decision.kind == "opened"
    )


def needs_stored_delivery(task: NotifyTaskInput, channel: str) -> bool:
    """A follow-up whose task does not say where the episode's first message went (a reminder
    built from the decision that opened the wait, before the delivery was recorded)."""
    if message_kind(task) == "opened":
        return False
    incident = task.decision.incident
    if channel == "slack":
        return not incident.slack_threads
    return incident.email_message_id is None


def with_stored_delivery(task: NotifyTaskInput, stored: Incident | None) -> NotifyTaskInput:
    """The task with what the stored incident knows about the same episode: where its first
    messages went, and who acknowledged it. Another episode (or none) changes nothing."""
    incident = task.decision.incident
    if stored is None or stored.key != incident.key or stored.episode != incident.episode:
        return task
    update: dict[str, Any] = {}
    if not incident.slack_threads and stored.slack_threads:
        update["slack_threads"] = stored.slack_threads
    if incident.email_message_id is None and stored.email_message_id is not None:
        update["email_message_id"] = stored.email_message_id
    if incident.acknowledged_at is None and stored.acknowledged_at is not None:
        update["acknowledged_by"] = stored.acknowledged_by
        update["acknowledged_at"] = stored.acknowledged_at
    if not update:
        return task
    decision = task.decision.model_copy(update={"incident": incident.model_copy(update=update)})
    return task.model_copy(update={"decision": decision})


def refresh_delivery(
    task: NotifyTaskInput, channel: str, incidents: IncidentReader | None
) -> NotifyTaskInput:
    """``with_stored_delivery`` from the incident table, when the task needs it. A failed read
    is not a failed notification: the message then starts a new thread."""
    if incidents is None or not needs_stored_delivery(task, channel):
        return task
    try:
        stored = incidents.get_incident(task.decision.incident.key)
    except OpswireError as exc:
        logger.warning("stored incident not readable", extra={"reason": str(exc)})
        return task
    return with_stored_delivery(task, stored)


def escalation(task: NotifyTaskInput) -> tuple[list[str], bool]:
    """(email addresses to add, page) for a reminder: the escalation steps that became due with
    it. An escalation widens the audience of that reminder; later reminders go to the route's
    recipients again (the escalated people have the thread and the acknowledge link)."""
    if task.reminder is None:
        return [], False
    steps = task.reminder.escalation
    return _unique(a for step in steps for a in step.email), any(step.page for step in steps)


def message_context(
    task: NotifyTaskInput,
    now: datetime,
    *,
    log: LogExcerpt | None = None,
    reply: bool = False,
    ack_url: str | None = None,
    ack_button: bool = False,
) -> MessageContext:
    decision, incident, reminder = task.decision, task.decision.incident, task.reminder
    kind = message_kind(task)
    elapsed: int | None = None
    if reminder is not None:
        elapsed = reminder.elapsed_seconds
    elif kind == "reminder" and incident.opened_at is not None:
        elapsed = int((now - incident.opened_at).total_seconds())
    escalated_to, paged = escalation(task)
    return MessageContext(
        kind=kind,
        incident_id=incident.incident_id,
        severity=decision.route.severity,
        reply=reply,
        mention_here=decision.mention_here,
        runbook=decision.runbook,
        duration_seconds=decision.duration_seconds,
        elapsed_seconds=elapsed,
        reminder_count=reminder.count if reminder is not None else None,
        escalated_to=tuple(escalated_to),
        paged=paged,
        transitions=len(incident.transitions),
        updates=incident.updates,
        acknowledged_by=incident.acknowledged_by,
        log_group=log.log_group if log is not None else None,
        log_lines=log.lines if log is not None else (),
        ack_url=ack_url,
        ack_button=ack_button,
    )


def _send_key(task: NotifyTaskInput, target: str, operation: str) -> dict[str, Any]:
    """What makes one send unique: the episode, the state change, the reminder, the target."""
    return {
        "incident": task.decision.incident.incident_id,
        "kind": message_kind(task),
        "state": task.alarm.state,
        "changed_at": task.alarm.state_changed_at.isoformat(),
        "reminder": task.reminder.count if task.reminder is not None else 0,
        "target": target,
        "operation": operation,
    }


# ---- Slack --------------------------------------------------------------------------------------
def notify_slack_webhook(
    task: NotifyTaskInput,
    poster: SlackPoster,
    once: Once,
    now: datetime,
    log: LogExcerpt | None = None,
) -> NotificationResult:
    """One new message per notification (an incoming webhook can neither thread nor update)."""
    payload = slack_message(task.alarm, message_context(task, now, log=log))

    def post() -> dict[str, Any]:
        poster.post(payload)
        return {}

    once.run(_send_key(task, "webhook", "post"), post)
    return NotificationResult(
        channel="slack", delivered=True, recipient="webhook", subject=str(payload["text"])
    )


def notify_slack_bot(
    task: NotifyTaskInput,
    api: SlackApi,
    once: Once,
    now: datetime,
    default_channel: str = "",
    log: LogExcerpt | None = None,
) -> NotificationResult:
    """The first message of an episode is posted to every route channel (and returned as the
    episode's threads); later messages reply in those threads and update the first message."""
    kind = message_kind(task)
    threads = task.decision.incident.slack_threads
    if threads and kind != "opened":
        return _follow_up(task, api, once, now, threads)

    channels = _unique(task.decision.route.slack_channels or [default_channel])
    if not channels:
        raise ConfigurationError("no Slack channel: the route names none and no default is set")
    payload = slack_message(task.alarm, message_context(task, now, log=log, ack_button=True))
    posted: list[SlackThread] = []
    for channel in channels:
        result = once.run(_send_key(task, channel, "post"), _poster(api, channel, payload))
        posted.append(SlackThread.model_validate(result))
    return NotificationResult(
        channel="slack",
        delivered=True,
        recipient=", ".join(channels),
        subject=str(payload["text"]),
        message_id=posted[0].ts,
        delivery=Delivery(slack_threads=posted),
    )


def _follow_up(
    task: NotifyTaskInput,
    api: SlackApi,
    once: Once,
    now: datetime,
    threads: list[SlackThread],
) -> NotificationResult:
    kind = message_kind(task)
    reply = slack_reply(task.alarm, message_context(task, now, reply=True))
    for thread in threads:
        # Reminders are also broadcast to the channel: a reply nobody sees reminds nobody.
        once.run(
            _send_key(task, f"{thread.channel}/{thread.ts}", "reply"),
            _poster(api, thread.channel, reply, thread.ts, broadcast=kind == "reminder"),
        )
    if kind != "reminder":
        root = slack_message(task.alarm, message_context(task, now, ack_button=True))
        for thread in threads:
            try:
                api.update_message(channel=thread.channel, ts=thread.ts, payload=root)
            except SlackDeliveryError as exc:
                # The reply already says what changed; a root that cannot be edited (deleted,
                # too old) must not fail the notification.
                logger.warning(
                    "first Slack message not updated",
                    extra={"channel": thread.channel, "ts": thread.ts, "reason": str(exc)},
                )
    return NotificationResult(
        channel="slack",
        delivered=True,
        recipient=", ".join(thread.channel for thread in threads),
        subject=str(reply["text"]),
    )


def _poster(
    api: SlackApi,
    channel: str,
    payload: dict[str, Any],
    thread_ts: str | None = None,
    broadcast: bool = False,
) -> Callable[[], dict[str, Any]]:
    def post() -> dict[str, Any]:
        thread = api.post_message(
            channel=channel, payload=payload, thread_ts=thread_ts, reply_broadcast=broadcast
        )
        return thread.model_dump()

    return post


# ---- email --------------------------------------------------------------------------------------
def notify_email(
    task: NotifyTaskInput,
    sender: EmailSender,
    once: Once,
    now: datetime,
    from_address: str,
    default_recipients: list[str],
    log: LogExcerpt | None = None,
    ack_url: str | None = None,
) -> NotificationResult:
    """One mail to the route's recipients (plus escalation addresses on reminders), threaded
    onto the episode's first mail."""
    incident = task.decision.incident
    kind = message_kind(task)
    if not task.decision.email and task.reminder is None:
        # A quiet route, or an event update whose severity did not rise: the Slack thread
        # records it; nothing is mailed (and nothing failed).
        return NotificationResult(
            channel="email", delivered=True, recipient="", subject=f"not mailed: {kind}"
        )
    escalated_to, _paged = escalation(task)
    recipients = _unique([*(task.decision.route.email or default_recipients), *escalated_to])
    if not recipients:
        raise ConfigurationError("no email recipients: the route names none and no default is set")
    reply = incident.email_message_id is not None and kind != "opened"
    content = email_content(
        task.alarm, message_context(task, now, log=log, reply=reply, ack_url=ack_url)
    )
    headers = email_headers(task, from_address)

    def send() -> dict[str, Any]:
        ses_id = sender.send(
            sender=from_address, recipients=recipients, content=content, headers=headers
        )
        return {"ses_message_id": ses_id}

    sent = once.run(_send_key(task, "email", "send"), send)
    return NotificationResult(
        channel="email",
        delivered=True,
        recipient=", ".join(recipients),
        subject=content.subject,
        message_id=str(sent.get("ses_message_id") or "") or None,
        delivery=Delivery(email_message_id=None if reply else headers["Message-ID"]),
    )


def email_headers(task: NotifyTaskInput, from_address: str) -> dict[str, str]:
    """Message-ID ``<{incident_id}.{kind}.{n}@{sender domain}>`` (n: reminder count or the
    state change time, so a retried send has the same id) and the threading headers.

    SES replaces the Message-ID with its own, so a follow-up's ``In-Reply-To`` (the first mail's
    id as we set it) finds no parent there; every mail of the episode therefore also names one
    thread id ``<{incident_id}@{domain}>`` in ``References``, which SES passes through and mail
    clients group by.
    """
    incident = task.decision.incident
    kind = message_kind(task)
    domain = _domain(from_address)
    n = (
        task.reminder.count
        if task.reminder is not None
        else int(task.alarm.state_changed_at.timestamp())
    )
    thread_id = f"<{incident.incident_id}@{domain}>"
    headers = {
        "Message-ID": f"<{incident.incident_id}.{kind}.{n}@{domain}>",
        "References": thread_id,
        "X-Opswire-Incident": incident.incident_id,
    }
    if incident.email_message_id is not None and kind != "opened":
        headers["In-Reply-To"] = incident.email_message_id
        headers["References"] = f"{thread_id} {incident.email_message_id}"
    return headers


def _domain(address: str) -> str:
    """The domain of ``ops@example.com`` or ``opswire <ops@example.com>``."""
    domain = address.rpartition("@")[2].strip().rstrip(">").strip().lower()
    return domain or "opswire.invalid"


def _unique(items: Any) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)
