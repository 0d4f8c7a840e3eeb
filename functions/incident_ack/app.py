"""HttpApi: acknowledge an incident (signed email link, Slack "Acknowledge" button).

GET  /incidents/{incident_id}/ack?exp=..&sig=..   confirmation page (acknowledges nothing)
POST /incidents/{incident_id}/ack                 acknowledge (exp/sig in the form or query)
POST /slack/interactions                          Slack interactivity request URL: Acknowledge,
                                                  and the deployment Approve / Reject buttons
"""

import json
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from opswire.alarms.acknowledgement import (
    ActionHandler,
    HttpAnswer,
    acknowledge_by_link,
    confirmation_page,
    form_fields,
    slack_interaction,
)
from opswire.channels.ports import SlackApi
from opswire.core.observability import logger
from opswire.core.settings import IncidentAckSettings, load_settings

app = APIGatewayHttpResolver()


@app.get("/incidents/<incident_id>/ack")
def confirm(incident_id: str) -> Response[str]:
    event = app.current_event
    answer = confirmation_page(
        incident_id,
        event.get_query_string_value("exp"),
        event.get_query_string_value("sig"),
        _ack_key(),
        datetime.now(UTC),
    )
    return _response(answer)


@app.post("/incidents/<incident_id>/ack")
def acknowledge(incident_id: str) -> Response[str]:
    from opswire.alarms.aws.incident_store import IncidentStore

    event = app.current_event
    form = form_fields(event.decoded_body)
    answer = acknowledge_by_link(
        incident_id,
        form.get("exp") or event.get_query_string_value("exp"),
        form.get("sig") or event.get_query_string_value("sig"),
        _ack_key(),
        IncidentStore(load_settings(IncidentAckSettings).incident_table_name),
        datetime.now(UTC),
        _slack_bot(),
    )
    return _response(answer)


@app.post("/slack/interactions")
def slack_interactions() -> Response[str]:
    from opswire.alarms.aws.incident_store import IncidentStore
    from opswire.channels.slack import load_slack_app, slack_signature_is_valid

    settings = load_settings(IncidentAckSettings)
    signing_secret = ""
    if settings.slack_app_secret_name:
        app_secret = load_slack_app(settings.slack_app_secret_name, settings.secret_max_age_seconds)
        signing_secret = app_secret.signing_secret.get_secret_value()
    now = time.time()

    def signature_is_valid(body: str, timestamp: str | None, signature: str | None) -> bool:
        return slack_signature_is_valid(signing_secret, body, timestamp, signature, now)

    event = app.current_event
    bot = _slack_bot()
    at = datetime.fromtimestamp(now, UTC)
    answer = slack_interaction(
        event.decoded_body or "",
        event.headers,
        signature_is_valid,
        IncidentStore(settings.incident_table_name),
        at,
        bot,
        other_actions=_deployment_buttons(settings.deployment_table_name, bot, at),
    )
    return _response(answer)


def _deployment_buttons(
    table_name: str, bot: SlackApi | None, now: datetime
) -> dict[str, ActionHandler]:
    """Approve / Reject in a deployment's Slack thread (opswire.deployments.approval)."""
    from opswire.channels.slack import SlackBot
    from opswire.deployments.approval import DECISION_OF_ACTION

    if not table_name or not isinstance(bot, SlackBot):
        return {}

    def decide(payload: dict[str, Any], action: dict[str, Any]) -> HttpAnswer:
        from opswire.deployments.wiring import decide_by_slack

        answer = decide_by_slack(payload, action, table_name, bot, now)
        logger.info(
            "deployment decision from Slack",
            extra={"deployment_id": action.get("value"), "status": answer.status},
        )
        # Slack shows nothing of a button's HTTP answer: the outcome went to the message (or to
        # the clicker only). A non-200 would only add Slack's generic error icon.
        return HttpAnswer(200, "application/json", json.dumps({"text": answer.message}))

    return dict.fromkeys(DECISION_OF_ACTION, decide)


def _ack_key() -> str:
    from opswire.core.secrets import get_secret_string

    settings = load_settings(IncidentAckSettings)
    return get_secret_string(settings.ack_secret_name, max_age=settings.secret_max_age_seconds)


def _slack_bot() -> SlackApi | None:
    """The Slack app's bot, to announce acknowledgements in the incident's threads."""
    from opswire.channels.slack import SlackBot, load_slack_app

    settings = load_settings(IncidentAckSettings)
    if not settings.slack_app_secret_name:
        return None
    credentials = load_slack_app(settings.slack_app_secret_name, settings.secret_max_age_seconds)
    return SlackBot(
        credentials.bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout_seconds=settings.slack_timeout_seconds,
        max_rate_limit_wait_seconds=1,
        rate_limit_retries=1,
    )


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
