"""HttpApi: acknowledge an incident (signed email link), and the Slack app's interactivity URL.

GET  /incidents/{incident_id}/ack?exp=..&sig=..   confirmation page (acknowledges nothing)
POST /incidents/{incident_id}/ack                 acknowledge (exp/sig in the form or query)
POST /slack/interactions                          Slack interactivity request URL: every button
                                                  of the Slack app (the alarms' Acknowledge, the
                                                  deployments' Approve / Reject)
"""

import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms import wiring as alarm_wiring
from opswire.alarms.wiring import HttpAnswer
from opswire.core.observability import logger
from opswire.core.settings import IncidentAckSettings, load_settings
from opswire.deployments import wiring as deployment_wiring

app = APIGatewayHttpResolver()


@app.get("/incidents/<incident_id>/ack")
def confirm(incident_id: str) -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    settings = load_settings(IncidentAckSettings)
    return _response(alarm_wiring.confirm_ack_link(incident_id, query, settings, datetime.now(UTC)))


@app.post("/incidents/<incident_id>/ack")
def acknowledge(incident_id: str) -> Response[str]:
    event = app.current_event
    answer = alarm_wiring.acknowledge_by_link(
        incident_id,
        event.raw_event,
        event.query_string_parameters or {},
        load_settings(IncidentAckSettings),
        datetime.now(UTC),
    )
    return _response(answer)


@app.post("/slack/interactions")
def slack_interactions() -> Response[str]:
    """Each workflow's wiring registers its buttons; the router checks Slack's signature first."""
    settings = load_settings(IncidentAckSettings)
    now = time.time()
    router = alarm_wiring.slack_interactions(settings, now)
    deployment_wiring.register_slack_actions(router, settings, datetime.fromtimestamp(now, UTC))
    return _response(router.answer_request(app.current_event.raw_event))


def _response(answer: HttpAnswer) -> Response[str]:
    return Response(
        status_code=answer.status,
        content_type=answer.content_type,
        body=answer.body,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
