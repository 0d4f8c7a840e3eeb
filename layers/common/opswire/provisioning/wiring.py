"""The provisioning workflow's adapters are built here and nowhere else: the AWS drivers and the
Slack and email channels of its notices. The handler (``functions/provision``) and the CLI
(``opswire provision``) call this module; the domain (spec, resources, engine, report) and the
task runner (``service``) do not import ``opswire.provisioning.aws``.

Adapters are imported on first use, not when the handler module loads (cold start: the notify
function never loads the drivers, the others never load Slack and SES).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opswire.core.settings import ProvisioningSettings
from opswire.provisioning.engine import Drivers
from opswire.provisioning.resources import Context
from opswire.provisioning.service import run_task, split_names

if TYPE_CHECKING:
    from opswire.channels.ports import EmailSender, SlackPoster
    from opswire.provisioning.engine import Plan, PostureFinding
    from opswire.provisioning.spec import ProjectSpec


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


# ---- `opswire provision` (the operator's credentials) ----------------------------------------
def read_spec(path: Path) -> "ProjectSpec":
    """The project spec in the YAML file ``path``; SpecValidationError lists its problems."""
    from opswire.provisioning.spec import load_spec

    return load_spec(path.read_text(encoding="utf-8"))


def stack_context(outputs: Mapping[str, str], account: str, region: str) -> Context:
    """Where a spec is applied: ``account`` and ``region``, and the stack's resources a spec
    may point at, from the stack's outputs."""
    return Context(
        account=account,
        region=region,
        partition="aws",
        alarm_topic_arn=outputs.get("AlarmTopicArn", ""),
        log_destination_arn=outputs.get("ShipLogsFunctionArn", ""),
        rotation_function_arn=outputs.get("SecretRotationFunctionArn", ""),
        managed_by=outputs.get("ProvisioningManagedBy", ""),
        permissions_boundary=outputs.get("ProvisioningPermissionsBoundaryArn", ""),
        allowed_managed_policies=split_names(outputs.get("ProvisioningManagedPolicies", "")),
        database_rotation_function_arn=outputs.get("DatabaseRotationFunctionArn", ""),
        rotated_secret_prefix=outputs.get("RotatedSecretPrefix", ""),
        rotated_iam_user_path=outputs.get("RotatedIamUserPath", ""),
        rotation_function_role_arn=outputs.get("SecretRotationFunctionRoleArn", ""),
        database_rotation_function_role_arn=outputs.get("DatabaseRotationFunctionRoleArn", ""),
    )


def plan_spec(spec: "ProjectSpec", ctx: Context) -> "Plan":
    """What applying ``spec`` would change, read with the AWS drivers (``engine.plan``)."""
    from opswire.provisioning.engine import plan

    return plan(spec, ctx, aws_drivers(ctx, spec.name))


def verify_posture(spec: "ProjectSpec", ctx: Context) -> "list[PostureFinding]":
    """Posture and drift of the resources ``spec`` declares (``engine.verify``)."""
    from opswire.provisioning.engine import verify

    return verify(spec, ctx, aws_drivers(ctx, spec.name))


def plan_report(made: "Plan | Mapping[str, Any]") -> str:
    """The plan as readable text (``report.render_plan``); ``made`` may be the plan's JSON
    document (what ``apply --local`` keeps as ``plan_after``), validated first."""
    from opswire.provisioning.engine import Plan
    from opswire.provisioning.report import render_plan

    return render_plan(made if isinstance(made, Plan) else Plan.model_validate(made))


def supplied_secret_json(text: str, kind: str, where: str, rotated_prefix: str = "") -> str:
    """A value the team supplies (``value_from``) as the secret JSON of its rotation kind;
    ``SpecValidationError`` says what is wrong without quoting it
    (``spec.supplied_secret_json``)."""
    from opswire.provisioning.spec import supplied_secret_json as convert

    return convert(text, kind, where, rotated_prefix)


def error_message(cause: object) -> str:
    """A failed task's message without the Lambda error document around it
    (``report.error_message``)."""
    from opswire.provisioning.report import error_message as message

    return message(cause)
