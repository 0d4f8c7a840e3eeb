"""CloudWatch Logs subscription deliveries -> OpenSearch (or the dead-letter bucket).

Also answers ``{"replay": {"prefix": ..., "max_objects": ...}}`` (``opswire logs replay``): the
dead letters are re-shipped from inside the stack, with the function's role and network.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.adapters.log_destinations import log_destination
from opswire.log_shipping.aws.s3_dead_letters import S3DeadLetterStore
from opswire.log_shipping.clock import LambdaClock
from opswire.log_shipping.index_template import index_template_body
from opswire.log_shipping.replay import ReplayRequest, replay_dead_letters
from opswire.log_shipping.service import ShippingOptions, ship_subscription_event
from opswire.observability import logger, metrics
from opswire.settings import LogShippingSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(LogShippingSettings)
    destination = log_destination(settings)
    if settings.log_install_index_template:
        body = index_template_body(settings.log_index_pattern, settings.log_index_mode)
        destination.ensure_index_template(settings.log_index_template_name, body)
    clock = LambdaClock(context)
    options = ShippingOptions.from_settings(settings)
    store = S3DeadLetterStore(settings.log_dlq_bucket)
    if "replay" in event:
        request = ReplayRequest.model_validate(event["replay"] or {})
        replayed = replay_dead_letters(
            request,
            store=store,
            transport=destination,
            clock=clock,
            options=options,
            invocation_id=context.aws_request_id,
        )
        metrics.add_metric(
            name="LogDocumentsIndexed", unit=MetricUnit.Count, value=replayed.indexed
        )
        metrics.add_metric(
            name="LogDocumentsDeadLettered", unit=MetricUnit.Count, value=replayed.dead_lettered
        )
        logger.info("dead letters replayed", extra={"result": replayed.model_dump()})
        return replayed.model_dump(mode="json")

    result = ship_subscription_event(
        event,
        transport=destination,
        dead_letters=store,
        clock=clock,
        options=options,
        invocation_id=context.aws_request_id,
    )
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
