"""HttpApi POST /webhooks/github: verify the signature, filter, deduplicate, start a deployment."""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.core.observability import logger
from opswire.core.settings import DeployWebhookSettings, load_settings
from opswire.deployments.wiring import answer_webhook


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(DeployWebhookSettings)
    answer = answer_webhook(event, settings)
    headers = event.get("headers") or {}
    logger.info(
        "webhook answered",
        extra={
            "status": answer.status,
            "event": headers.get("x-github-event"),
            "delivery": headers.get("x-github-delivery"),
            "reason": answer.body.get("reason") or answer.body.get("message"),
        },
    )
    return {
        "statusCode": answer.status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(answer.body),
    }
