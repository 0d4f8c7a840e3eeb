"""Workflow task: render the alarm as a text + HTML email and send it through SES."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.adapters.ses import SesEmailSender
from opswire.models.tasks import AlarmTaskInput, parse_task_input
from opswire.notifications.delivery import notify_email
from opswire.observability import logger, metrics
from opswire.settings import EmailSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(EmailSettings)
    task = parse_task_input(AlarmTaskInput, event)
    result = notify_email(task.alarm, SesEmailSender(), settings.sender_email, settings.recipients)
    metrics.add_metric(name="AlarmEmailsSent", unit=MetricUnit.Count, value=1)
    logger.info("alarm email sent", extra={"alarm": task.alarm.name, "id": result.message_id})
    return result.model_dump(mode="json")
