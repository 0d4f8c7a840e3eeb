"""Plans as text: the CLI's readable diff and the generic notice posted to Slack and email."""

import json
from typing import TYPE_CHECKING, Any

from opswire.channels.notice import Notice
from opswire.core.settings import ProvisioningSettings
from opswire.provisioning.engine import Plan
from opswire.provisioning.spec import ProjectSpec

if TYPE_CHECKING:
    from opswire.provisioning.models import TaskInput

SYMBOLS = {"create": "+", "update": "~", "unchanged": "=", "would-delete": "-"}


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plan_lines(made: Plan, show_unchanged: bool = False) -> list[str]:
    """``+ bucket my-bucket`` / ``~ bucket my-bucket`` + one line per changed field."""
    lines: list[str] = []
    for item in made.items:
        if item.action == "unchanged" and not show_unchanged:
            continue
        lines.append(f"{SYMBOLS[item.action]} {item.kind} {item.name}")
        if item.action == "update":
            for change in item.changes:
                if change.field == "tags":
                    lines += _tag_lines(change.current or {}, change.desired or {})
                    continue
                lines.append(
                    f"    {change.field}: {_short(change.current)} -> {_short(change.desired)}"
                )
    return lines


def _tag_lines(current: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    """``tags: {"team": "a"} -> {"team": "b"}`` and ``tags removed: owner, stage``."""
    to_set = {k: v for k, v in desired.items() if v is not None}
    removed = [k for k, v in desired.items() if v is None]
    lines = []
    if to_set:
        have = {k: v for k, v in current.items() if k in to_set}
        lines.append(f"    tags: {_short(have)} -> {_short(to_set)}")
    if removed:
        lines.append(f"    tags removed: {', '.join(sorted(removed))}")
    return lines


def render_plan(made: Plan) -> str:
    head = f"plan for {made.spec} ({made.environment}): {made.summary}"
    body = plan_lines(made)
    if not made.has_changes:
        body = ["no changes: everything is as the spec says"]
    if made.needs_approval and made.has_changes:
        body.append("approval needed: " + _approval_reason(made))
    return "\n".join([head, *body])


def _approval_reason(made: Plan) -> str:
    if made.touches_existing:
        return "the plan changes or removes resources that exist"
    return "the environment is prod"


def error_message(cause: Any) -> str:
    """The message of a Lambda error document (Step Functions' ``Cause``), without its type,
    request id and stack trace; other causes as they are."""
    text = str(cause or "")
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if isinstance(document, dict) and document.get("errorMessage"):
        return str(document["errorMessage"])
    return text


def plan_notice(request: "TaskInput", spec: ProjectSpec, settings: ProvisioningSettings) -> Notice:
    made = request.plan
    facts: list[tuple[str, str]] = [
        ("Spec", spec.name),
        ("Environment", spec.environment),
        ("Execution", request.execution_id),
    ]
    if made is not None:
        facts.append(("Plan", made.summary))
    details = tuple(plan_lines(made)) if made is not None else ()
    if request.notice == "plan":
        title = f"Provisioning plan for {spec.name}"
        summary = "The plan below will be applied." if made and made.has_changes else "No changes."
        severity = "ok"
    elif request.notice == "approval":
        title = f"Approval needed: provisioning {spec.name}"
        reason = _approval_reason(made) if made else "approval required"
        # The task token stays out of the message: the CLI reads it from the execution history.
        summary = (
            f"{reason}. Approve with `opswire provision approve <execution ARN>` "
            f"(execution {request.execution_id}; reject with --reject)."
        )
        severity = "warning"
    elif request.notice == "done":
        title = f"Provisioned {spec.name}"
        created = sum(1 for r in request.results if r.created)
        summary = f"Applied: {created} created, posture verified."
        details = tuple(f"{r.action} {r.kind} {r.name}" for r in request.results)
        severity = "ok"
    else:
        title = f"Provisioning {spec.name} FAILED and was undone"
        error = request.error or {}
        cause = error_message(error.get("Cause"))[:500]
        summary = f"{error.get('Error', 'failure')}: {cause}".strip()
        undone = request.undo
        if undone is not None:
            details = tuple(
                [f"deleted {k}" for k in undone.deleted]
                + [f"restored {k}" for k in undone.restored]
                + [f"could not undo {k}" for k in undone.failed]
            )
        severity = "failure"
    return Notice(
        severity=severity,
        title=title,
        summary=summary,
        facts=tuple(facts),
        details=details[:40],
        link=f"{settings.console_url}" if settings.console_url else None,
        link_text="Open Step Functions",
    )
