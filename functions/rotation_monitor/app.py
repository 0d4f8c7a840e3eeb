"""Rotation monitor: Secrets Manager RotationFailed events and the daily sweep -> Slack + email."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.core.observability import logger
from opswire.core.settings import RotationMonitorSettings, load_settings
from opswire.rotation.wiring import handle_monitor_event


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = handle_monitor_event(event, load_settings(RotationMonitorSettings))
    logger.info(
        "rotation monitor done",
        extra={"kind": result["kind"], "notified": len(result["notified"])},
    )
    return result
