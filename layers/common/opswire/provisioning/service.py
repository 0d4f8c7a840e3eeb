"""The provisioning workflow's tasks (``statemachines/provisioning.asl.json``): one function per
task, called by the handler with the task input. The spec travels as JSON in the execution's
state (the CLI reads the YAML); the plan this execution made travels with it, and undo uses it.

The adapters come in as factories (``opswire.provisioning.wiring`` builds the real ones): the
drivers for a context and spec name, the Slack and email channels for the settings. Neither is
called for a task that does not need it.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opswire.core.errors import PostureViolationError, TaskInputError
from opswire.core.settings import ProvisioningSettings
from opswire.provisioning.engine import (
    Drivers,
    apply_resource,
    find,
    plan,
    undo,
    verify,
)
from opswire.provisioning.models import TaskInput
from opswire.provisioning.resources import Context, expand
from opswire.provisioning.spec import ProjectSpec, parse_spec

if TYPE_CHECKING:
    from opswire.channels.ports import EmailSender, SlackPoster


def context_for(settings: ProvisioningSettings, account: str) -> Context:
    return Context(
        account=account,
        region=settings.aws_region,
        partition="aws-cn" if settings.aws_region.startswith("cn-") else "aws",
        alarm_topic_arn=settings.alarm_topic_arn,
        log_destination_arn=settings.log_destination_arn,
        rotation_function_arn=settings.rotation_function_arn,
        managed_by=settings.stack_name,
        permissions_boundary=settings.permissions_boundary_arn,
        allowed_managed_policies=split_names(settings.allowed_managed_policies),
        database_rotation_function_arn=settings.database_rotation_function_arn,
        rotated_secret_prefix=settings.rotated_secret_prefix,
        rotated_iam_user_path=settings.rotated_iam_user_path,
        rotation_function_role_arn=settings.rotation_function_role_arn,
        database_rotation_function_role_arn=settings.database_rotation_function_role_arn,
        rotation_wait_seconds=settings.rotation_wait_seconds,
    )


def split_names(text: str) -> tuple[str, ...]:
    """``"A,B"`` -> ``("A", "B")`` (the allow-list of a parameter or an output)."""
    return tuple(n.strip() for n in text.split(",") if n.strip())


DriverFactory = Callable[[Context, str], Drivers]
"""The drivers for a context and a spec name."""
NoticeChannels = Callable[[ProvisioningSettings], "tuple[SlackPoster, EmailSender]"]
"""The Slack poster and the email sender notices go through."""


def run_task(
    event: dict[str, Any],
    settings: ProvisioningSettings,
    account: str,
    make_drivers: DriverFactory,
    channels: NoticeChannels,
) -> dict[str, Any]:
    """One workflow task. Raises the typed errors the ASL's Retry/Catch name."""
    try:
        request = TaskInput.model_validate(event)
    except ValueError as exc:
        raise TaskInputError(f"provisioning task input: {exc}") from exc
    if request.task not in settings.tasks:
        raise TaskInputError(f"this function does not run the {request.task!r} task")
    spec = parse_spec(request.spec)
    ctx = context_for(settings, account)
    if request.task == "notify":
        return notify(request, spec, settings, channels)
    chosen = make_drivers(ctx, spec.name)
    if request.task == "plan":
        made = plan(spec, ctx, chosen)
        return {
            "spec": spec.model_dump(mode="json"),
            "plan": made.model_dump(mode="json"),
            "summary": made.summary,
            "has_changes": made.has_changes,
            "needs_approval": made.needs_approval and made.has_changes,
            "resources": [{"kind": r.kind, "name": r.name} for r in expand(spec, ctx)],
        }
    if request.task == "apply":
        resource = find(spec, ctx, request.kind, request.name)
        return apply_resource(spec, ctx, resource, request.execution_id, chosen).model_dump(
            mode="json"
        )
    if request.task == "verify":
        findings = verify(spec, ctx, chosen)
        if findings:
            raise PostureViolationError(
                "; ".join(f"{f.kind}:{f.name}: {f.problem}" for f in findings)
            )
        return {"ok": True, "findings": []}
    result = undo(spec, ctx, request.execution_id, chosen, before=request.plan)
    return result.model_dump(mode="json")


def notify(
    request: TaskInput,
    spec: ProjectSpec,
    settings: ProvisioningSettings,
    channels: NoticeChannels,
) -> dict[str, Any]:
    from opswire.provisioning.report import plan_notice

    notice = plan_notice(request, spec, settings)
    if not settings.slack_webhook_secret_name or not settings.sender_email:
        raise TaskInputError("notify needs SLACK_WEBHOOK_SECRET_NAME and SENDER_EMAIL")
    from opswire.channels.notice import send_notice

    poster, sender = channels(settings)
    results = send_notice(notice, poster, sender, settings.sender_email, settings.recipients)
    return {"notified": [r.model_dump(mode="json") for r in results]}
