"""Workflow task: tell Slack about an incident (bot token: thread + update; else the webhook)."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms.delivery import notify_slack_bot, notify_slack_webhook
from opswire.alarms.wiring import prepare_notify_task
from opswire.core.errors import SlackRetryableError
from opswire.core.observability import logger, metrics
from opswire.core.settings import SlackSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(SlackSettings)
    prepared = prepare_notify_task(
        event,
        "slack",
        incident_table_name=settings.incident_table_name,
        alarm_log_lines=settings.alarm_log_lines,
        busy_error=SlackRetryableError,
        context=context,
    )
    task, once, log = prepared.task, prepared.once, prepared.log
    now = datetime.now(UTC)

    if settings.slack_app_secret_name:
        from opswire.channels.slack import SlackBot, load_slack_app

        app = load_slack_app(settings.slack_app_secret_name, settings.secret_max_age_seconds)
        bot = SlackBot(
            app.bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            timeout_seconds=settings.slack_timeout_seconds,
            max_rate_limit_wait_seconds=settings.slack_max_rate_limit_wait_seconds,
            rate_limit_retries=settings.slack_rate_limit_retries,
        )
        result = notify_slack_bot(task, bot, once, now, settings.slack_default_channel, log)
    else:
        from opswire.channels.slack import SlackWebhook
        from opswire.core.secrets import get_secret_string

        webhook_url = get_secret_string(
            settings.slack_webhook_secret_name, max_age=settings.secret_max_age_seconds
        )
        webhook = SlackWebhook(webhook_url, settings.slack_timeout_seconds)
        result = notify_slack_webhook(task, webhook, once, now, log)

    metrics.add_metric(name="SlackMessagesSent", unit=MetricUnit.Count, value=1)
    logger.info("slack notified", extra={"alarm": task.alarm.name, "to": result.recipient})
    return result.model_dump(mode="json")
