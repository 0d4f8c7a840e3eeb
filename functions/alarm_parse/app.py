"""Workflow task: the normalized envelope -> one ``Alarm`` (any alarm shape) or ``OpsEvent``
(any other event or message), under the workflow's ``alarm`` key."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms import wiring
from opswire.alarms.models.envelope import AlarmEnvelope
from opswire.alarms.models.tasks import parse_task_input
from opswire.core.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    alarm = wiring.parse(parse_task_input(AlarmEnvelope, event))
    logger.info(
        "alarm parsed",
        extra={"alarm": alarm.name, "state": alarm.state, "kind": alarm.kind},
    )
    return {"alarm": alarm.model_dump(mode="json")}
