"""Workflow task: tell the route's recipients about an incident by email (SES), threaded."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms.delivery import notify_email
from opswire.alarms.wiring import prepare_notify_task
from opswire.core.errors import EmailRetryableError
from opswire.core.observability import logger, metrics
from opswire.core.settings import EmailSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(EmailSettings)
    prepared = prepare_notify_task(
        event,
        "email",
        incident_table_name=settings.incident_table_name,
        alarm_log_lines=settings.alarm_log_lines,
        busy_error=EmailRetryableError,
        context=context,
    )
    task = prepared.task
    now = datetime.now(UTC)
    ack_url = None
    if settings.ack_secret_name and settings.ack_base_url and task.alarm.state == "ALARM":
        from opswire.channels.signed_links import ack_link
        from opswire.core.secrets import get_secret_string

        key = get_secret_string(settings.ack_secret_name, max_age=settings.secret_max_age_seconds)
        ack_url = ack_link(
            settings.ack_base_url,
            task.decision.incident.incident_id,
            key,
            now,
            settings.ack_link_ttl_seconds,
        )

    from opswire.channels.ses import SesEmailSender

    result = notify_email(
        task,
        SesEmailSender(),
        prepared.once,
        now,
        from_address=settings.sender_email,
        default_recipients=settings.recipients,
        log=prepared.log,
        ack_url=ack_url,
    )
    metrics.add_metric(name="AlarmEmailsSent", unit=MetricUnit.Count, value=1)
    logger.info("alarm email sent", extra={"alarm": task.alarm.name, "id": result.message_id})
    return result.model_dump(mode="json")
