"""HttpApi POST /webhooks/github: verify the signature, filter, deduplicate, start a deployment."""

import base64
import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.deployments.webhook import handle_webhook
from opswire.observability import logger
from opswire.settings import DeployWebhookSettings, load_settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from opswire.deployments.aws.deploy_config import load_deploy_config
    from opswire.deployments.aws.deploy_workflow import DeploymentWorkflow
    from opswire.deployments.aws.deployment_store import DeploymentStore
    from opswire.deployments.aws.github import webhook_secrets

    settings = load_settings(DeployWebhookSettings)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
    answer = handle_webhook(
        headers,
        body,
        secrets=lambda: webhook_secrets(settings.github_webhook_secret_name),
        config=lambda: load_deploy_config(
            settings.deploy_config_parameter, settings.config_max_age_seconds
        ),
        deliveries=DeploymentStore(settings.deployment_table_name),
        workflow=DeploymentWorkflow(settings.deployment_state_machine_arn),
    )
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
