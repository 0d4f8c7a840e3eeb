"""Workflow task: tell the route's recipients about an incident by email (SES), threaded."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.adapters.idempotency import Always, OnceOnly
from opswire.alarm_context import recent_log_lines
from opswire.errors import EmailRetryableError
from opswire.models.tasks import NotifyTaskInput, parse_task_input
from opswire.notifications.delivery import (
    IncidentReader,
    Once,
    message_kind,
    notify_email,
    refresh_delivery,
    wants_log_lines,
)
from opswire.observability import logger, metrics
from opswire.settings import EmailSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(EmailSettings)
    task = parse_task_input(NotifyTaskInput, event)
    task = refresh_delivery(task, "email", _incidents(settings.incident_table_name))
    incident_id = task.decision.incident.incident_id
    logger.append_keys(incident_id=incident_id, kind=message_kind(task))
    once: Once = (
        OnceOnly(settings.incident_table_name, "notify-email", EmailRetryableError, context)
        if settings.incident_table_name
        else Always()
    )
    log = None
    if settings.alarm_log_lines and wants_log_lines(task):
        from opswire.adapters.logs import CloudWatchLogs

        log = recent_log_lines(task.alarm, CloudWatchLogs(), settings.alarm_log_lines)
    now = datetime.now(UTC)
    ack_url = None
    if settings.ack_secret_name and settings.ack_base_url and task.alarm.state == "ALARM":
        from opswire.ack_links import ack_link
        from opswire.adapters.secrets import get_secret_string

        key = get_secret_string(settings.ack_secret_name, max_age=settings.secret_max_age_seconds)
        ack_url = ack_link(
            settings.ack_base_url, incident_id, key, now, settings.ack_link_ttl_seconds
        )

    from opswire.adapters.ses import SesEmailSender

    result = notify_email(
        task,
        SesEmailSender(),
        once,
        now,
        from_address=settings.sender_email,
        default_recipients=settings.recipients,
        log=log,
        ack_url=ack_url,
    )
    metrics.add_metric(name="AlarmEmailsSent", unit=MetricUnit.Count, value=1)
    logger.info("alarm email sent", extra={"alarm": task.alarm.name, "id": result.message_id})
    return result.model_dump(mode="json")


def _incidents(table_name: str) -> IncidentReader | None:
    """The incident table, for follow-ups that do not carry their thread (e.g. reminders)."""
    if not table_name:
        return None
    from opswire.adapters.incident_store import IncidentStore

    return IncidentStore(table_name)
