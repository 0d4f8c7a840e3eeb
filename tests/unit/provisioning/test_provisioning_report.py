"""The plan as text (CLI) and as a generic notice (Slack + email): approval and failure notices."""

import json

from opswire.channels.notice import render_notice_email, render_notice_slack
from opswire.core.settings import ProvisioningSettings
from opswire.provisioning.engine import Change, Plan, PlanItem, UndoResult
from opswire.provisioning.models import TaskInput
from opswire.provisioning.report import error_message, plan_notice, render_plan
from opswire.provisioning.spec import parse_spec

SPEC = {"name": "demo", "buckets": [{"name": "demo-bucket"}]}
PLAN = Plan(
    spec="demo",
    environment="dev",
    items=(
        PlanItem(
            kind="bucket",
            name="demo-bucket",
            action="update",
            changes=(Change(field="versioning", current="Enabled", desired="Suspended"),),
        ),
        PlanItem(kind="ecr_repository", name="demo/old", action="would-delete"),
        PlanItem(kind="role", name="demo-role", action="unchanged"),
    ),
)


def test_render_plan_is_a_readable_diff() -> None:
    assert render_plan(PLAN).splitlines() == [
        "plan for demo (dev): 0 create, 1 update, 1 unchanged, 1 would-delete",
        "~ bucket demo-bucket",
        '    versioning: "Enabled" -> "Suspended"',
        "- ecr_repository demo/old",
        "approval needed: the plan changes or removes resources that exist",
    ]
    empty = Plan(spec="demo", environment="dev", items=(PLAN.items[2],))
    assert render_plan(empty).splitlines()[1] == "no changes: everything is as the spec says"


def test_approval_notice_names_the_execution_never_the_token() -> None:
    request = TaskInput(
        task="notify",
        notice="approval",
        spec=SPEC,
        execution_id="demo-123",
        plan=PLAN,
        task_token="SECRET-TASK-TOKEN",
    )
    notice = plan_notice(request, parse_spec(SPEC), ProvisioningSettings())
    slack = json.dumps(render_notice_slack(notice))
    email = render_notice_email(notice)
    assert "Approval needed: provisioning demo" in slack
    assert "demo-123" in slack and "~ bucket demo-bucket" in email.text
    assert "SECRET-TASK-TOKEN" not in slack + email.text + email.html


def test_failure_notice_lists_what_was_undone() -> None:
    request = TaskInput(
        task="notify",
        notice="failed",
        spec=SPEC,
        execution_id="demo-9",
        error={"Error": "ResourceConflictError", "Cause": "policy:p belongs to spec 'x'"},
        undo=UndoResult(deleted=["bucket:demo-bucket"], restored=["role:r"]),
    )
    notice = plan_notice(request, parse_spec(SPEC), ProvisioningSettings())
    assert notice.severity == "failure"
    assert notice.summary.startswith("ResourceConflictError: policy:p belongs")
    assert notice.details == ("deleted bucket:demo-bucket", "restored role:r")


def test_failure_notice_shows_the_message_not_the_lambda_error_document() -> None:
    cause = json.dumps(
        {
            "errorMessage": "secret opswire/rotated/x: its first rotation did not finish",
            "errorType": "ProvisioningError",
            "requestId": "r-1",
            "stackTrace": ['  File "/var/task/app.py", line 20, in handler\n'],
        }
    )
    request = TaskInput(
        task="notify",
        notice="failed",
        spec=SPEC,
        execution_id="demo-9",
        error={"Error": "ProvisioningError", "Cause": cause},
    )
    notice = plan_notice(request, parse_spec(SPEC), ProvisioningSettings())
    assert notice.summary == (
        "ProvisioningError: secret opswire/rotated/x: its first rotation did not finish"
    )
    assert error_message("not json") == "not json"
