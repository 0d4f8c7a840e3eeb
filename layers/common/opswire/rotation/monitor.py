"""Rotation failures and the scheduled sweep -> notices for Slack and email.

Two inputs: the EventBridge event Secrets Manager's ``RotationFailed`` CloudTrail entry becomes
(``detail-type`` "AWS Service Event via CloudTrail", ``detail.eventName`` "RotationFailed",
the secret in ``detail.additionalEventData.SecretId``), and a scheduled event that sweeps the
secrets under the opswire prefix for overdue rotations and stuck AWSPENDING versions.
"""

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from opswire.channels.notice import Notice
from opswire.core.errors import TaskInputError
from opswire.rotation.status import SecretStatus

ROTATION_FAILED = "RotationFailed"
_STEP = re.compile(r"during (createSecret|setSecret|testSecret|finishSecret) step")


def is_rotation_failed(event: dict[str, Any]) -> bool:
    detail = event.get("detail")
    return (
        event.get("source") == "aws.secretsmanager"
        and isinstance(detail, dict)
        and detail.get("eventName") == ROTATION_FAILED
    )


def is_scheduled(event: dict[str, Any]) -> bool:
    return event.get("detail-type") == "Scheduled Event" and event.get("source") == "aws.events"


def secret_name(name_or_arn: str) -> str:
    """The secret's name (an ARN ends with -<6 random characters> after the name)."""
    if ":secret:" not in name_or_arn:
        return name_or_arn
    return name_or_arn.split(":secret:", 1)[1].rsplit("-", 1)[0]


def secret_console_url(region: str, name_or_arn: str) -> str:
    name = secret_name(name_or_arn)
    return (
        f"https://{region}.console.aws.amazon.com/secretsmanager/secret"
        f"?name={quote(name, safe='')}&region={region}"
    )


def failure_notice(event: dict[str, Any], status: SecretStatus | None) -> Notice:
    """The notice for one RotationFailed event (``status``: the secret now, if readable)."""
    if not is_rotation_failed(event):
        raise TaskInputError("not a Secrets Manager RotationFailed event")
    parsed = EventBridgeEvent(event)
    detail = parsed.detail
    extra = detail.get("additionalEventData") or {}
    secret_id = str(extra.get("SecretId") or extra.get("secretId") or "unknown secret")
    region = str(detail.get("awsRegion") or parsed.region)
    error = str(detail.get("errorMessage") or "no error message in the event")
    step_match = _STEP.search(error)
    name = status.name if status else secret_name(secret_id)
    facts: list[tuple[str, str]] = [
        ("Secret", secret_id),
        ("Failed step", step_match.group(1) if step_match else "unknown"),
        ("When", str(detail.get("eventTime") or parsed.time)),
        ("Account / region", f"{detail.get('recipientAccountId') or parsed.account} / {region}"),
    ]
    if status is not None:
        facts.append(("Kind", status.kind or "from the secret JSON"))
        facts.append(("Last rotated", _when(status.last_rotated)))
        if status.pending_version:
            facts.append(("AWSPENDING version", status.pending_version))
    return Notice(
        severity="failure",
        title=f"Secret rotation failed: {name}",
        summary=(
            f"Secrets Manager reports: {error}. AWSCURRENT was not moved, so the current "
            "credentials keep working; the rotation function's log group has the cause. "
            "Fix it, then run `opswire secrets rotate` again."
        ),
        facts=tuple(facts),
        link=secret_console_url(region, secret_id),
    )


def sweep_notice(statuses: Sequence[SecretStatus], prefix: str, region: str) -> Notice | None:
    """One notice listing every secret with a problem; None when all is well."""
    problems = [s for s in statuses if s.problems]
    if not problems:
        return None
    details = tuple(f"{s.name}: {'; '.join(s.problems)}" for s in problems)
    overdue = sum(s.overdue for s in problems)
    stuck = sum(s.stuck_pending for s in problems)
    return Notice(
        severity="warning",
        title=f"Secret rotation needs attention: {len(problems)} of {len(statuses)} secrets",
        summary=(
            f"The daily sweep of secrets under {prefix!r} found {overdue} overdue rotation(s) "
            f"and {stuck} stuck AWSPENDING version(s). A stuck AWSPENDING blocks the next "
            "rotation: see `opswire secrets status` and the rotation function's logs."
        ),
        facts=(("Region", region), ("Checked", str(len(statuses)))),
        details=details,
        link=f"https://{region}.console.aws.amazon.com/secretsmanager/listsecrets?region={region}",
        link_text="Open Secrets Manager",
    )


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "never"
