"""Provisioning workflow tasks (plan, apply, verify, undo, notify): the ``task`` field of the
input names one; ``PROVISION_TASKS`` says which this function may run (its IAM role matches)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.core.observability import logger
from opswire.core.settings import ProvisioningSettings, load_settings
from opswire.provisioning.wiring import handle_task


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    account = context.invoked_function_arn.split(":")[4]
    logger.info(
        "provisioning task",
        extra={"task": event.get("task"), "execution": event.get("execution_id")},
    )
    return handle_task(event, load_settings(ProvisioningSettings), account)
