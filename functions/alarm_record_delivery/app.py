"""Workflow task: remember where an incident's first Slack message and email went, and which
channel failed for good (the new failures come back for the dead-letter queue)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms import wiring
from opswire.alarms.models.tasks import parse_task_input
from opswire.alarms.models.workflow import RecordDeliveryInput
from opswire.core.observability import logger
from opswire.core.settings import IncidentTableSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(IncidentTableSettings)
    state = parse_task_input(RecordDeliveryInput, event)
    record = wiring.record_delivery(state, settings)
    for failure in record.new_failures:
        logger.warning(
            "notification channel failed for good",
            extra={"channel": failure.channel, "error": failure.error, "reason": failure.reason},
        )
    logger.info(
        "delivery recorded" if record.recorded else "nothing to record",
        extra={"incident_id": state.decision.incident.incident_id},
    )
    return record.model_dump(mode="json")
