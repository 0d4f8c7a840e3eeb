"""EventBridge (CloudTrail ``CreateLogGroup``) -> a subscription filter to ShipLogsFunction on
new log groups that match the include/exclude patterns."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.core.observability import logger, metrics
from opswire.core.settings import LogSubscriberSettings, load_settings
from opswire.log_shipping import wiring


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(LogSubscriberSettings)
    outcome = wiring.subscribe(event, settings)
    subscribed = outcome is not None and outcome.action == "subscribed"
    metrics.add_metric(name="LogGroupsSubscribed", unit=MetricUnit.Count, value=int(subscribed))
    if outcome is None:
        logger.info("not a successful CreateLogGroup call: nothing to do")
        return {"log_group": None, "action": "ignored", "reason": "not a CreateLogGroup"}
    logger.info("new log group", extra={"outcome": outcome.model_dump()})
    return outcome.model_dump(mode="json")
