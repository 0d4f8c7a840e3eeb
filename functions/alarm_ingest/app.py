"""SNS (AlarmTopic) and CloudWatch alarm actions -> one alarm workflow execution per alarm."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms import wiring
from opswire.core.observability import logger, metrics
from opswire.core.settings import AlarmIngestSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    executions = wiring.start_workflows(event, load_settings(AlarmIngestSettings))
    metrics.add_metric(name="AlarmWorkflowsStarted", unit=MetricUnit.Count, value=len(executions))
    logger.info("alarm workflows started", extra={"executions": executions})
    return {"executions": executions}
