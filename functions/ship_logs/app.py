"""CloudWatch Logs subscription deliveries -> OpenSearch (or the dead-letter bucket).

Also answers ``{"replay": {"prefix": ..., "max_objects": ...}}`` (``opswire logs replay``): the
dead letters are re-shipped from inside the stack, with the function's role and network.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.core.observability import logger, metrics
from opswire.core.settings import LogShippingSettings, load_settings
from opswire.log_shipping import wiring


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(LogShippingSettings)
    if "replay" in event:
        replayed = wiring.replay(event["replay"], context, settings)
        metrics.add_metric(
            name="LogDocumentsIndexed", unit=MetricUnit.Count, value=replayed.indexed
        )
        metrics.add_metric(
            name="LogDocumentsDeadLettered", unit=MetricUnit.Count, value=replayed.dead_lettered
        )
        logger.info("dead letters replayed", extra={"result": replayed.model_dump()})
        return replayed.model_dump(mode="json")

    result = wiring.ship(event, context, settings)
    for name, value, unit in (
        ("LogEventsReceived", result.events, MetricUnit.Count),
        ("LogDocumentsIndexed", result.indexed, MetricUnit.Count),
        ("LogDocumentsRetried", result.retried, MetricUnit.Count),
        ("LogDocumentsDeadLettered", result.dead_lettered, MetricUnit.Count),
        ("LogBulkBytesSent", result.bytes_sent, MetricUnit.Bytes),
    ):
        metrics.add_metric(name=name, unit=unit, value=value)
    log = logger.warning if result.dead_lettered else logger.info
    log("log events shipped", extra={"result": result.model_dump(exclude_none=True)})
    return result.model_dump(mode="json")
