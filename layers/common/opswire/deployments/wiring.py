"""The deployment workflow's wiring: the one place that builds its adapters (the deployment
table, Step Functions, ECS, Elastic Beanstalk, CloudWatch, the deploy config parameter, GitHub,
the ack key; the Slack bot and SES through ``opswire.channels.factory``) and hands them to the
domain (opswire.deployments.webhook, .steps through .dispatch, .approval). The handlers
(github_webhook, deploy_task, deploy_approval, incident_ack's Approve / Reject buttons),
``opswire deploy --stack`` and ``opswire doctor`` come in here.

Every handler imports this module at cold start: the adapters, and the domain modules only
some handlers use (the steps, the webhook intake), are imported inside the functions.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opswire.channels.interactions import HttpAnswer, json_answer
from opswire.core.observability import logger
from opswire.core.settings import (
    DeployApprovalSettings,
    DeployTaskSettings,
    DeployWebhookSettings,
    IncidentAckSettings,
)
from opswire.deployments.approval import (
    DECISION_OF_ACTION,
    ApprovalAnswer,
    approval_link,
    confirmation_page,
    decide,
    decide_from_slack,
    operate,
    verify_link,
)

if TYPE_CHECKING:
    from opswire.channels.interactions import SlackInteractions
    from opswire.channels.ports import SlackApi
    from opswire.deployments.ports import Deps
    from opswire.deployments.webhook import WebhookAnswer

__all__ = [
    "ApprovalAnswer",
    "SesMailer",
    "SlackThreadPoster",
    "answer_webhook",
    "build_deps",
    "confirm_link",
    "decide_by_link",
    "deploy_rule_count",
    "execution_stopped",
    "register_slack_actions",
    "run_operation",
    "run_step",
]


# ---- GitHubWebhookFunction ----------------------------------------------------------------------
def answer_webhook(request: Mapping[str, Any], settings: DeployWebhookSettings) -> "WebhookAnswer":
    """A GitHub delivery: the HTTP API event ``request``, its body decoded and size-checked
    before anything reads it (GitHub signs the raw bytes)."""
    from opswire.channels.http_input import BadInput, BodyLimit, request_body, request_headers
    from opswire.deployments.aws.deploy_config import load_deploy_config
    from opswire.deployments.aws.deploy_workflow import DeploymentWorkflow
    from opswire.deployments.aws.deployment_store import DeploymentStore
    from opswire.deployments.aws.github import webhook_secrets
    from opswire.deployments.webhook import WebhookAnswer, handle_webhook

    headers = request_headers(request)
    try:
        body = request_body(request, BodyLimit.GITHUB_WEBHOOK)
    except BadInput as bad:
        return WebhookAnswer(bad.status, {"message": bad.message})
    store = DeploymentStore(settings.deployment_table_name)
    return handle_webhook(
        headers,
        body,
        secrets=lambda: webhook_secrets(settings.github_webhook_secret_name),
        config=lambda: load_deploy_config(
            settings.deploy_config_parameter, settings.config_max_age_seconds
        ),
        deliveries=store,
        replays=store,
        workflow=DeploymentWorkflow(settings.deployment_state_machine_arn),
        now=lambda: datetime.now(UTC),
    )


# ---- DeployTaskFunction -------------------------------------------------------------------------
def run_step(event: dict[str, Any], deps: "Deps") -> dict[str, Any]:
    """One step of the workflow (the task input names it)."""
    from opswire.deployments import dispatch

    return dispatch.run_step(event, deps)


def execution_stopped(detail: dict[str, Any], deps: "Deps") -> dict[str, Any]:
    """A deployment execution that ended without reaching Finish (EventBridge)."""
    from opswire.deployments import steps

    return steps.execution_stopped(detail, deps)


class SlackThreadPoster:
    def __init__(self, bot: "SlackApi") -> None:
        self._bot = bot

    def post(
        self,
        channel: str,
        text: str,
        thread_ts: str | None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> tuple[str, str]:
        payload: dict[str, Any] = {"text": text, **({"blocks": blocks} if blocks else {})}
        where = self._bot.post_message(channel=channel, payload=payload, thread_ts=thread_ts)
        return where.channel, where.ts


class SesMailer:
    def __init__(self, sender: str) -> None:
        self._sender = sender

    def send(self, recipients: list[str], subject: str, text: str) -> None:
        from html import escape

        from opswire.channels.factory import email_sender
        from opswire.channels.ports import EmailContent

        html = f"<pre>{escape(text)}</pre>"
        email_sender().send(
            sender=self._sender,
            recipients=recipients,
            content=EmailContent(subject=subject, text=text, html=html),
        )


def build_deps(settings: DeployTaskSettings, now: Callable[[], datetime]) -> "Deps":
    """The steps' collaborators from DeployTaskSettings: the optional ones (Elastic Beanstalk,
    the Slack thread, GitHub, approval links) only when the stack enables them."""
    from opswire.channels.factory import slack_bot
    from opswire.deployments.aws.deploy_alarms import alarms_in_alarm
    from opswire.deployments.aws.deploy_config import load_deploy_config
    from opswire.deployments.aws.deployment_store import DeploymentStore
    from opswire.deployments.aws.ecs import EcsServices
    from opswire.deployments.ports import Deps

    store = DeploymentStore(settings.deployment_table_name)
    deps = Deps(
        store=store,
        config=lambda: load_deploy_config(
            settings.deploy_config_parameter, settings.config_max_age_seconds
        ),
        ecs=EcsServices(),
        alarms_in_alarm=alarms_in_alarm,
        mailer=SesMailer(settings.sender_email),
        notify_emails=tuple(settings.recipients),
        now=now,
        locks=store,
        deployed=store,
    )
    if settings.deploy_artifact_bucket:
        from opswire.deployments.aws.beanstalk import BeanstalkEnvironments

        deps.beanstalk = BeanstalkEnvironments(settings.deploy_artifact_bucket)
    bot = slack_bot(settings)
    if bot is not None:
        deps.slack = SlackThreadPoster(bot)
        deps.slack_channel = settings.slack_default_channel
    if settings.github_token_secret_name:
        from opswire.core.secrets import get_secret_string
        from opswire.deployments.aws.github import GitHubStatuses

        token = get_secret_string(
            settings.github_token_secret_name, max_age=settings.secret_max_age_seconds
        )
        deps.github = GitHubStatuses(token, settings.github_api_url)
        deps.commits = deps.github
    if settings.ack_secret_name and settings.ack_base_url:
        from opswire.core.secrets import get_secret_string

        key = get_secret_string(settings.ack_secret_name, max_age=settings.secret_max_age_seconds)

        def links(deployment_id: str, decision: str, approver: str) -> str:
            return approval_link(
                settings.ack_base_url, deployment_id, decision, approver, key, now(), 86400
            )

        deps.approval_links = links
    return deps


# ---- DeployApprovalFunction, IncidentAckFunction, `opswire deploy` -----------------------------
def _link_key(settings: DeployApprovalSettings) -> str:
    """The stack's ack key, which signs the approval links."""
    from opswire.core.secrets import get_secret_string

    return get_secret_string(settings.ack_secret_name, max_age=settings.secret_max_age_seconds)


def confirm_link(
    deployment_id: str,
    decision: str,
    params: Mapping[str, str | None],
    settings: DeployApprovalSettings,
    now: Callable[[], datetime],
) -> ApprovalAnswer:
    """GET on an approval link: the confirmation page (decides nothing)."""
    return confirmation_page(deployment_id, decision, params, _link_key(settings), now())


def decide_by_link(
    deployment_id: str,
    decision: str,
    request: Mapping[str, Any],
    settings: DeployApprovalSettings,
    now: Callable[[], datetime],
) -> ApprovalAnswer:
    """POST on an approval link (the HTTP API event ``request``: ``approver``, ``exp`` and
    ``sig`` in the query or the form body): verified, then the decision resumes the waiting
    execution."""
    from opswire.channels.http_input import BadInput, BodyLimit, request_text
    from opswire.channels.interactions import form_fields
    from opswire.deployments.aws.deploy_workflow import TaskTokens
    from opswire.deployments.aws.deployment_store import DeploymentStore

    try:
        form = form_fields(request_text(request, BodyLimit.DECISION_FORM))
    except BadInput as bad:
        return ApprovalAnswer(bad.status, bad.message)
    query = request.get("queryStringParameters")
    params: dict[str, str | None] = dict(query) if isinstance(query, Mapping) else {}
    params.update({name: value for name, value in form.items() if value})
    verified = verify_link(deployment_id, decision, params, _link_key(settings), now())
    if isinstance(verified, ApprovalAnswer):
        return verified
    return decide(
        deployment_id,
        "approve" if decision == "approve" else "reject",
        verified,
        DeploymentStore(settings.deployment_table_name),
        TaskTokens(),
        now(),
    )


def register_slack_actions(
    router: "SlackInteractions", settings: IncidentAckSettings, now: datetime
) -> None:
    """Approve / Reject in a deployment's Slack thread, on the Slack app's interactivity URL
    (IncidentAckFunction routes the verified clicks here): registered when the stack has a
    deployment table and a Slack app."""
    if not settings.deployment_table_name or not settings.slack_app_secret_name:
        return

    def approve_or_reject(payload: dict[str, Any], action: dict[str, Any]) -> HttpAnswer:
        from opswire.channels.factory import interaction_bot
        from opswire.deployments.aws.deploy_workflow import TaskTokens
        from opswire.deployments.aws.deployment_store import DeploymentStore

        bot = interaction_bot(settings)
        assert bot is not None  # a Slack app is set
        store = DeploymentStore(settings.deployment_table_name)
        answer = decide_from_slack(payload, action, store, TaskTokens(), bot, now)
        logger.info(
            "deployment decision from Slack",
            extra={"deployment_id": action.get("value"), "status": answer.status},
        )
        # Slack shows nothing of a button's HTTP answer: the outcome went to the message (or to
        # the clicker only). A non-200 would only add Slack's generic error icon.
        return json_answer(200, {"text": answer.message})

    router.register(DECISION_OF_ACTION, approve_or_reject)


def run_operation(
    request: Mapping[str, Any],
    table_name: str,
    state_machine_arn: str,
    now: datetime,
    principal: str = "",
) -> dict[str, Any]:
    """``opswire deploy history|status|approve|reject|override|redeploy`` on the stack's deployment
    table and state machine (``principal``: the caller's AWS identity, if known)."""
    from opswire.deployments.aws.deploy_workflow import DeploymentWorkflow, TaskTokens
    from opswire.deployments.aws.deployment_store import DeploymentStore

    store = DeploymentStore(table_name)
    workflow = DeploymentWorkflow(state_machine_arn)
    return operate(request, store, TaskTokens(), workflow, now, principal)


# ---- `opswire doctor` ---------------------------------------------------------------------------
def deploy_rule_count(document: str) -> int:
    """The number of rules of a deploy config JSON ``document`` (the SSM parameter's value);
    ValueError (pydantic's) when it is not a valid deploy config."""
    from opswire.deployments.config import DeployConfig

    return len(DeployConfig.model_validate_json(document).rules)
