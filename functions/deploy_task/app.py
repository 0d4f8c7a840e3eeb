"""Workflow task: one step of the deployment workflow (the input names the step); and, from
EventBridge, a deployment execution that was stopped or timed out (release its lock)."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.core.observability import logger
from opswire.core.settings import DeployTaskSettings, load_settings
from opswire.deployments.wiring import build_deps, execution_stopped, run_step


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(DeployTaskSettings)
    deps = build_deps(settings, now=lambda: datetime.now(UTC))
    if event.get("detail-type") == "Step Functions Execution Status Change":
        logger.info("deployment execution stopped", extra={"status": event["detail"]["status"]})
        return execution_stopped(event["detail"], deps)
    logger.info("deployment step", extra={"step": event.get("step")})
    return run_step(event, deps)
