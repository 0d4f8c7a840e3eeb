"""The alarm workflow's wiring: the one place that builds its adapters (the incident table and
its idempotency records, the routing table parameter, CloudWatch alarm tags and log lines, Step
Functions, the ack key) and its channels (through ``opswire.channels.factory``), and hands them
to the domain (intake, parse, workflow, delivery, acknowledgement). The alarm handlers
(alarm_ingest, alarm_parse, alarm_evaluate, alarm_check_reminder, alarm_record_delivery,
notify_slack, notify_email, incident_ack) come in here.

Every alarm handler imports this module at cold start: the domain modules and the adapters are
imported inside the functions, so each function loads only what it uses.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from opswire.channels.interactions import HttpAnswer
from opswire.core.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from types_boto3_dynamodb import DynamoDBClient

    from opswire.alarms.aws.incident_store import IncidentStore
    from opswire.alarms.delivery import Once
    from opswire.alarms.log_excerpt import LogExcerpt
    from opswire.alarms.models.alarm import Alarm
    from opswire.alarms.models.envelope import AlarmEnvelope
    from opswire.alarms.models.event import OpsEvent
    from opswire.alarms.models.incident import RoutingConfig
    from opswire.alarms.models.tasks import NotifyTaskInput
    from opswire.alarms.models.workflow import DeliveryRecord, RecordDeliveryInput, WorkflowState
    from opswire.channels.interactions import SlackInteractions
    from opswire.channels.ports import NotificationResult

    # Types only here: AlarmParseFunction has no settings, and pydantic-settings is not cheap.
    from opswire.core.settings import (
        AlarmIncidentSettings,
        AlarmIngestSettings,
        EmailSettings,
        IncidentAckSettings,
        IncidentTableSettings,
        SlackSettings,
    )

__all__ = [
    "HttpAnswer",
    "acknowledge_by_link",
    "check_reminder",
    "confirm_ack_link",
    "evaluate",
    "incident_store",
    "notify_email",
    "notify_slack",
    "parse",
    "record_delivery",
    "slack_interactions",
    "start_workflows",
]


def incident_store(table_name: str, client: "DynamoDBClient | None" = None) -> "IncidentStore":
    """The incident table (incidents and silences) over ``client`` if given (the CLI's), else
    the cached DynamoDB client of ``opswire.core.aws``; ``opswire silence`` writes through it."""
    from opswire.alarms.aws.incident_store import IncidentStore

    return IncidentStore(table_name, client=client)


def _routing_config(settings: "AlarmIncidentSettings") -> "RoutingConfig":
    from opswire.alarms.aws.routing_config import load_routing_config

    return load_routing_config(
        settings.alarm_routing_parameter, max_age=settings.routing_max_age_seconds
    )


# ---- AlarmIngestFunction ------------------------------------------------------------------------
def start_workflows(event: dict[str, Any], settings: "AlarmIngestSettings") -> list[str]:
    """SNS records or a CloudWatch alarm action -> one workflow execution per alarm."""
    from opswire.alarms.aws.stepfunctions import WorkflowStarter
    from opswire.alarms.intake import start_alarm_workflows

    return start_alarm_workflows(event, WorkflowStarter(settings.alarm_state_machine_arn))


# ---- AlarmParseFunction -------------------------------------------------------------------------
def parse(envelope: "AlarmEnvelope") -> "Alarm | OpsEvent":
    """The normalized envelope -> one ``Alarm`` (whatever the alarm shape) or one ``OpsEvent``
    (any other event or message); no adapter."""
    from opswire.alarms.subject import parse_subject

    return parse_subject(envelope)


# ---- AlarmEvaluateFunction, AlarmCheckReminderFunction, AlarmRecordDeliveryFunction -------------
def evaluate(alarm: "Alarm | OpsEvent", settings: "AlarmIncidentSettings") -> "WorkflowState":
    """The incident decision for ``alarm``; its tags are read from CloudWatch when the event
    carried none."""
    from opswire.alarms.workflow import evaluate_alarm

    if not alarm.tags and alarm.arn:
        from opswire.alarms.aws.cloudwatch import alarm_tags

        alarm = alarm.model_copy(update={"tags": alarm_tags(alarm.arn)})
    config = _routing_config(settings)
    return evaluate_alarm(alarm, incident_store(settings.incident_table_name), config)


def check_reminder(state: "WorkflowState", settings: "AlarmIncidentSettings") -> "WorkflowState":
    from opswire.alarms import workflow

    config = _routing_config(settings)
    return workflow.check_reminder(state, incident_store(settings.incident_table_name), config)


def record_delivery(
    state: "RecordDeliveryInput", settings: "IncidentTableSettings"
) -> "DeliveryRecord":
    from opswire.alarms import workflow

    return workflow.record_delivery(state, incident_store(settings.incident_table_name))


# ---- NotifySlackFunction, NotifyEmailFunction ---------------------------------------------------
@dataclass(frozen=True)
class _NotifyTask:
    task: "NotifyTaskInput"
    once: "Once"
    log: "LogExcerpt | None"


def _prepare_notify_task(
    task: "NotifyTaskInput",
    channel: Literal["slack", "email"],
    incident_table_name: str,
    alarm_log_lines: int,
    alarm_log_group_arns: str,
    context: "LambdaContext",
) -> _NotifyTask:
    """What both notification tasks start from: the task refreshed from the incident table, the
    once-only guard around the send, and the recent log lines of the alarm (from the log groups
    of ``alarm_log_group_arns`` only). ``incident_table_name`` empty: no thread lookup for
    follow-ups, no idempotency."""
    from opswire.alarms.aws.idempotency import Always, OnceOnly
    from opswire.alarms.delivery import message_kind, refresh_delivery, wants_log_lines
    from opswire.core.errors import EmailRetryableError, SlackRetryableError

    incidents = incident_store(incident_table_name) if incident_table_name else None
    task = refresh_delivery(task, channel, incidents)
    logger.append_keys(incident_id=task.decision.incident.incident_id, kind=message_kind(task))
    busy_error = SlackRetryableError if channel == "slack" else EmailRetryableError
    once: Once = (
        OnceOnly(incident_table_name, f"notify-{channel}", busy_error, context)
        if incident_table_name
        else Always()
    )
    log = None
    if alarm_log_lines and wants_log_lines(task):
        from opswire.alarms.aws.logs import CloudWatchLogs
        from opswire.alarms.log_excerpt import allowed_log_groups, recent_log_lines
        from opswire.alarms.models.alarm import Alarm

        if isinstance(task.alarm, Alarm):  # events have no log-based metric behind them
            allowed = allowed_log_groups(alarm_log_group_arns)
            log = recent_log_lines(task.alarm, CloudWatchLogs(), alarm_log_lines, allowed)
    return _NotifyTask(task, once, log)


def notify_slack(
    task: "NotifyTaskInput", settings: "SlackSettings", context: "LambdaContext"
) -> "NotificationResult":
    """Slack: the app's bot (threads, updates in place) when a Slack app is set, else the
    incoming webhook."""
    from opswire.alarms.delivery import notify_slack_bot, notify_slack_webhook
    from opswire.channels.factory import slack_bot, slack_webhook

    prepared = _prepare_notify_task(
        task,
        "slack",
        settings.incident_table_name,
        settings.alarm_log_lines,
        settings.alarm_log_group_arns,
        context,
    )
    now = datetime.now(UTC)
    bot = slack_bot(
        settings,
        max_rate_limit_wait_seconds=settings.slack_max_rate_limit_wait_seconds,
        rate_limit_retries=settings.slack_rate_limit_retries,
    )
    if bot is not None:
        return notify_slack_bot(
            prepared.task, bot, prepared.once, now, settings.slack_default_channel, prepared.log
        )
    webhook = slack_webhook(
        settings,
        max_rate_limit_wait_seconds=settings.slack_max_rate_limit_wait_seconds,
        rate_limit_retries=settings.slack_rate_limit_retries,
    )
    return notify_slack_webhook(prepared.task, webhook, prepared.once, now, prepared.log)


def notify_email(
    task: "NotifyTaskInput", settings: "EmailSettings", context: "LambdaContext"
) -> "NotificationResult":
    """SES, threaded onto the episode's first mail; with an acknowledgement link while the
    alarm is in ALARM (when the stack has an ack key and URL)."""
    from opswire.alarms import delivery
    from opswire.channels.factory import email_sender

    prepared = _prepare_notify_task(
        task,
        "email",
        settings.incident_table_name,
        settings.alarm_log_lines,
        settings.alarm_log_group_arns,
        context,
    )
    now = datetime.now(UTC)
    ack_url = None
    if settings.ack_secret_name and settings.ack_base_url and prepared.task.alarm.state == "ALARM":
        from opswire.channels.signed_links import ack_link
        from opswire.core.secrets import get_secret_string

        key = get_secret_string(settings.ack_secret_name, max_age=settings.secret_max_age_seconds)
        incident_id = prepared.task.decision.incident.incident_id
        ack_url = ack_link(
            settings.ack_base_url, incident_id, key, now, settings.ack_link_ttl_seconds
        )
    return delivery.notify_email(
        prepared.task,
        email_sender(),
        prepared.once,
        now,
        from_address=settings.sender_email,
        default_recipients=settings.recipients,
        log=prepared.log,
        ack_url=ack_url,
    )


# ---- IncidentAckFunction ------------------------------------------------------------------------
def _ack_key(settings: "IncidentAckSettings") -> str:
    """The stack's ack key, which signs the acknowledgement links."""
    from opswire.core.secrets import get_secret_string

    return get_secret_string(settings.ack_secret_name, max_age=settings.secret_max_age_seconds)


def confirm_ack_link(
    incident_id: str, query: Mapping[str, str], settings: "IncidentAckSettings", now: datetime
) -> HttpAnswer:
    """GET on an acknowledgement link: the confirmation page (acknowledges nothing)."""
    from opswire.alarms.acknowledgement import confirmation_page

    key = _ack_key(settings)
    return confirmation_page(incident_id, query.get("exp"), query.get("sig"), key, now)


def acknowledge_by_link(
    incident_id: str,
    request: Mapping[str, Any],
    query: Mapping[str, str],
    settings: "IncidentAckSettings",
    now: datetime,
) -> HttpAnswer:
    """POST on an acknowledgement link (``exp`` and ``sig`` in the form body of the HTTP API
    event ``request``, or in the query): verified, then the incident is acknowledged and the
    Slack threads are told."""
    from opswire.alarms import acknowledgement
    from opswire.channels.factory import interaction_bot
    from opswire.channels.http_input import BadInput, BodyLimit, request_text
    from opswire.channels.interactions import form_fields

    try:
        form = form_fields(request_text(request, BodyLimit.ACK_FORM))
    except BadInput as bad:
        return HttpAnswer(bad.status, "text/plain; charset=utf-8", bad.message)
    return acknowledgement.acknowledge_by_link(
        incident_id,
        form.get("exp") or query.get("exp"),
        form.get("sig") or query.get("sig"),
        _ack_key(settings),
        incident_store(settings.incident_table_name),
        now,
        interaction_bot(settings),
    )


def slack_interactions(settings: "IncidentAckSettings", now: float) -> "SlackInteractions":
    """The router of the Slack app's interactivity URL (served by IncidentAckFunction): the
    request signature checked at ``now`` (epoch seconds), and the Acknowledge button; other
    workflows register their buttons on it (``opswire.deployments.wiring``)."""
    from opswire.alarms.acknowledgement import acknowledge_from_slack
    from opswire.channels.factory import interaction_bot, slack_request_check
    from opswire.channels.interactions import SlackInteractions
    from opswire.channels.signed_links import ACK_ACTION_ID

    at = datetime.fromtimestamp(now, UTC)

    def acknowledge(payload: dict[str, Any], action: dict[str, Any]) -> HttpAnswer:
        store = incident_store(settings.incident_table_name)
        return acknowledge_from_slack(payload, action, store, at, interaction_bot(settings))

    router = SlackInteractions(slack_request_check(settings, now))
    router.register([ACK_ACTION_ID], acknowledge)
    return router
