"""HttpApi POST /webhooks/github: verify the signature, filter, deduplicate, start a deployment."""

import base64
import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.core.observability import logger
from opswire.core.settings import DeployWebhookSettings, load_settings
from opswire.deployments.wiring import answer_webhook


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(DeployWebhookSettings)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
    answer = answer_webhook(headers, body, settings)
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
