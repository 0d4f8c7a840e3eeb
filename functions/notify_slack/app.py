"""Workflow task: tell Slack about an incident (bot token: thread + update; else the webhook)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms import wiring
from opswire.alarms.models.tasks import NotifyTaskInput, parse_task_input
from opswire.core.observability import logger, metrics
from opswire.core.settings import SlackSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(SlackSettings)
    task = parse_task_input(NotifyTaskInput, event)
    result = wiring.notify_slack(task, settings, context)
    metrics.add_metric(name="SlackMessagesSent", unit=MetricUnit.Count, value=1)
    logger.info("slack notified", extra={"alarm": task.alarm.name, "to": result.recipient})
    return result.model_dump(mode="json")
