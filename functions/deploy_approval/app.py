"""HttpApi: approve or reject a deployment from the signed link in the approvers' email.

GET  /deployments/{deployment_id}/{decision}?approver=..&exp=..&sig=..   confirmation page
POST /deployments/{deployment_id}/{decision}                            decide
Direct invoke {"operation": "history|status|approve|reject|override", ...}: `opswire deploy`,
locally and on a deployed stack (an operator allowed to invoke the function).
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.core.observability import logger
from opswire.core.settings import DeployApprovalSettings, load_settings
from opswire.deployments.wiring import (
    ApprovalAnswer,
    confirm_link,
    decide_by_link,
    run_operation,
)

app = APIGatewayHttpResolver()


@app.get("/deployments/<deployment_id>/<decision>")
def confirm(deployment_id: str, decision: str) -> Response[str]:
    params = app.current_event.query_string_parameters or {}
    settings = load_settings(DeployApprovalSettings)
    return _response(confirm_link(deployment_id, decision, params, settings, _now))


@app.post("/deployments/<deployment_id>/<decision>")
def decide_route(deployment_id: str, decision: str) -> Response[str]:
    request = app.current_event.raw_event
    settings = load_settings(DeployApprovalSettings)
    return _response(decide_by_link(deployment_id, decision, request, settings, _now))


def _now() -> datetime:
    return datetime.now(UTC)


def _response(answer: ApprovalAnswer) -> Response[str]:
    html = answer.message.startswith("<!doctype")
    return Response(
        status_code=answer.status,
        content_type="text/html; charset=utf-8" if html else "text/plain; charset=utf-8",
        body=answer.message,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "operation" in event:  # `opswire deploy ...`: an operator's direct Invoke
        settings = load_settings(DeployApprovalSettings)
        # The AWS identity the CLI reports for an override, kept with it for the audit (the
        # invoke itself is IAM-authorized and in CloudTrail); the approval checks happen here.
        principal = str(event.get("principal") or "")
        return run_operation(
            event,
            settings.deployment_table_name,
            settings.deployment_state_machine_arn,
            _now(),
            principal,
        )
    return app.resolve(event, context)
