"""Workflow task: tell the route's recipients about an incident by email (SES), threaded."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms import wiring
from opswire.alarms.models.tasks import NotifyTaskInput, parse_task_input
from opswire.core.observability import logger, metrics
from opswire.core.settings import EmailSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(EmailSettings)
    task = parse_task_input(NotifyTaskInput, event)
    result = wiring.notify_email(task, settings, context)
    metrics.add_metric(name="AlarmEmailsSent", unit=MetricUnit.Count, value=1)
    logger.info("alarm email sent", extra={"alarm": task.alarm.name, "id": result.message_id})
    return result.model_dump(mode="json")
