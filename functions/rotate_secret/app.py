"""Secrets Manager rotation function: one step (create/set/test/finishSecret) per invocation."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SecretsManagerEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.core.observability import logger, metrics
from opswire.core.settings import RotationSettings, load_settings
from opswire.rotation.wiring import rotate_step


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    rotation = SecretsManagerEvent(event)
    step, token = rotation.step, rotation.client_request_token
    logger.append_keys(step=step, secret=rotation.secret_id, version=token)
    outcome = rotate_step(
        step,
        rotation.secret_id,
        token,
        load_settings(RotationSettings),
        # Newer events carry RotationToken: PutSecretValue needs it under an assumed role or
        # across accounts. It is passed on, never logged.
        rotation_token=rotation.get("RotationToken"),
    )
    metrics.add_metric(name="RotationStepsDone", unit=MetricUnit.Count, value=1)
    logger.info("rotation step done", extra={"kind": outcome.kind, "action": outcome.action})
    return outcome.model_dump(mode="json")
