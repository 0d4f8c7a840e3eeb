"""The provisioning workflow's adapters are built here and nowhere else: the AWS drivers and the
Slack and email channels of its notices. The handler (``functions/provision``) and the CLI
(``opswire provision``) call this module; the domain (spec, resources, engine, report) and the
task runner (``service``) do not import ``opswire.provisioning.aws``.

Adapters are imported on first use, not when the handler module loads (cold start: the notify
function never loads the drivers, the others never load Slack and SES).
"""

from typing import TYPE_CHECKING, Any

from opswire.core.settings import ProvisioningSettings
from opswire.provisioning.engine import Drivers
from opswire.provisioning.resources import Context
from opswire.provisioning.service import run_task

if TYPE_CHECKING:
    from opswire.channels.ports import EmailSender, SlackPoster


def aws_drivers(ctx: Context, spec_name: str) -> Drivers:
    """The drivers over boto3, one per resource kind."""
    from opswire.provisioning.aws import aws_drivers as drivers

    return drivers(ctx, spec_name)


def notice_channels(settings: ProvisioningSettings) -> "tuple[SlackPoster, EmailSender]":
    """The Slack webhook (its URL read from Secrets Manager) and SES."""
    from opswire.channels.factory import email_sender, slack_webhook

    return slack_webhook(settings), email_sender()


def handle_task(
    event: dict[str, Any], settings: ProvisioningSettings, account: str
) -> dict[str, Any]:
    """One workflow task (``service.run_task``) over the real adapters."""
    return run_task(event, settings, account, aws_drivers, notice_channels)
