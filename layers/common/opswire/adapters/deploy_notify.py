"""Wiring of the deployment workflow's collaborators from DeployTaskSettings (Slack thread, SES,
GitHub commit status, ECS, Elastic Beanstalk, CloudWatch, the deployment table)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from opswire.alarms.render import EmailContent
from opswire.deployments.workflow import Deps
from opswire.settings import DeployTaskSettings


class SlackThreadPoster:
    def __init__(self, bot: object) -> None:
        self._bot = bot

    def post(
        self,
        channel: str,
        text: str,
        thread_ts: str | None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> tuple[str, str]:
        from opswire.adapters.slack import SlackBot

        assert isinstance(self._bot, SlackBot)
        payload: dict[str, Any] = {"text": text, **({"blocks": blocks} if blocks else {})}
        where = self._bot.post_message(channel=channel, payload=payload, thread_ts=thread_ts)
        return where.channel, where.ts


class SesMailer:
    def __init__(self, sender: str) -> None:
        self._sender = sender

    def send(self, recipients: list[str], subject: str, text: str) -> None:
        from html import escape

        from opswire.adapters.ses import SesEmailSender

        html = f"<pre>{escape(text)}</pre>"
        SesEmailSender().send(
            sender=self._sender,
            recipients=recipients,
            content=EmailContent(subject=subject, text=text, html=html),
        )


def build_deps(settings: DeployTaskSettings, now: Callable[[], datetime]) -> Deps:
    from opswire.adapters.deploy_alarms import alarms_in_alarm
    from opswire.adapters.deploy_config import load_deploy_config
    from opswire.adapters.deployment_store import DeploymentStore
    from opswire.adapters.ecs import EcsServices

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
    )
    if settings.deploy_artifact_bucket:
        from opswire.adapters.beanstalk import BeanstalkEnvironments

        deps.beanstalk = BeanstalkEnvironments(settings.deploy_artifact_bucket)
    if settings.slack_app_secret_name:
        from opswire.adapters.slack import SlackBot, load_slack_app

        credentials = load_slack_app(
            settings.slack_app_secret_name, settings.secret_max_age_seconds
        )
        deps.slack = SlackThreadPoster(
            SlackBot(
                credentials.bot_token.get_secret_value(),
                base_url=settings.slack_api_url,
                timeout_seconds=settings.slack_timeout_seconds,
            )
        )
        deps.slack_channel = settings.slack_default_channel
    if settings.github_token_secret_name:
        from opswire.adapters.github import GitHubStatuses
        from opswire.adapters.secrets import get_secret_string

        token = get_secret_string(
            settings.github_token_secret_name, max_age=settings.secret_max_age_seconds
        )
        deps.github = GitHubStatuses(token, settings.github_api_url)
        deps.commits = deps.github
    if settings.ack_secret_name and settings.ack_base_url:
        from opswire.adapters.secrets import get_secret_string
        from opswire.deployments.approval import approval_link

        key = get_secret_string(settings.ack_secret_name, max_age=settings.secret_max_age_seconds)

        def links(deployment_id: str, decision: str, approver: str) -> str:
            return approval_link(
                settings.ack_base_url, deployment_id, decision, approver, key, now(), 86400
            )

        deps.approval_links = links
    return deps
