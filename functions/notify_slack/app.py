"""Workflow task: render the alarm as a Block Kit message and post it to Slack."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.adapters.secrets import get_secret_string
from opswire.adapters.slack import SlackWebhook
from opswire.models.tasks import AlarmTaskInput, parse_task_input
from opswire.notifications.delivery import notify_slack
from opswire.observability import logger, metrics
from opswire.settings import SlackSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(SlackSettings)
    task = parse_task_input(AlarmTaskInput, event)
    webhook_url = get_secret_string(
        settings.slack_webhook_secret_name, max_age=settings.secret_max_age_seconds
    )
    result = notify_slack(task.alarm, SlackWebhook(webhook_url, settings.slack_timeout_seconds))
    metrics.add_metric(name="SlackMessagesSent", unit=MetricUnit.Count, value=1)
    logger.info("slack message sent", extra={"alarm": task.alarm.name})
    return result.model_dump(mode="json")
