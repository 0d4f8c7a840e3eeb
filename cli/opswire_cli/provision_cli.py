"""``opswire provision``: plan, apply and check a project spec (docs/provisioning.md).

    opswire provision plan FILE [--json]            the diff: + create, ~ update, = unchanged,
                                                    - would-delete (read-only, your credentials)
    opswire provision apply FILE [--wait S] [--approve] [--json]
                                                    start the provisioning workflow and follow it
    opswire provision status FILE [--json]          posture and drift of what the spec declares
    opswire provision approve EXECUTION_ARN [--reject]   answer a workflow waiting for approval
    ... --local                                     the same on the local platform (moto)

Deployed, the commands use boto3 with the usual credential chain (``--profile``, ``--region``)
and read the stack's outputs (``--stack``, default ``opswire``). ``plan`` and ``status`` read
the account directly; ``apply`` starts the stack's ProvisioningStateMachine. ``--local`` uses the
running ``opswire local up`` of the project (its account: what was applied there stays, and
``opswire secrets --local`` sees it); when none runs, the stack of template.yaml starts
in-process for the one command. ``apply --local`` then shows the plan again (no changes when it
worked). Values the team supplies (``value_from``) are staged by ``apply``
(``opswire_cli.supplied_values``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from opswire_cli.in_process import local_platform
from opswire_cli.target import add_deployed_or_local_options, deployed_stack, running_local_up

STATE_MACHINE = "ProvisioningStateMachine"


def register(commands: Any) -> None:
    """Add ``provision`` to the ``opswire`` command (``commands``: the subparsers object)."""
    provision = commands.add_parser("provision", help="plan, apply, check a project spec")
    sub = provision.add_subparsers(title="provision commands")
    for name, run, text in (
        ("plan", run_plan, "show what applying the spec would change"),
        ("apply", run_apply, "run the provisioning workflow for the spec"),
        ("status", run_status, "posture and drift of the spec's resources"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("file", metavar="FILE", type=Path, help="the project spec (YAML)")
        add_deployed_or_local_options(command, stack_default="opswire")
        command.set_defaults(run=run)
        if name == "apply":
            command.add_argument("--wait", type=float, default=600.0, help="seconds to follow")
            command.add_argument(
                "--approve", action="store_true", help="approve when the workflow asks"
            )
    approve = sub.add_parser("approve", help="approve (or --reject) a waiting execution")
    approve.add_argument("execution", metavar="EXECUTION_ARN")
    approve.add_argument("--reject", action="store_true")
    add_deployed_or_local_options(approve, stack_default="opswire")
    approve.set_defaults(run=run_approve)


# ---- over any session (deployed or the local platform) ---------------------------------------
class SpecTarget:
    """Where the spec goes: clients, the provisioning context and the state machine."""

    def __init__(self, session: Any, outputs: dict[str, str], account: str) -> None:
        from opswire.provisioning.wiring import stack_context

        self.session = session
        self.outputs = outputs
        self.context = stack_context(outputs, account, session.region_name)


def make_plan(target: SpecTarget, spec: Any) -> Any:
    from opswire.provisioning.wiring import plan_spec

    return plan_spec(spec, target.context)


def posture(target: SpecTarget, spec: Any) -> list[dict[str, Any]]:
    from opswire.provisioning.wiring import verify_posture

    return [f.model_dump(mode="json") for f in verify_posture(spec, target.context)]


def execution_name(spec_name: str) -> str:
    """The execution id every resource the execution creates is tagged with."""
    import uuid

    return f"{spec_name}-{uuid.uuid4().hex[:12]}"


def start_and_follow(
    sfn: Any, machine_arn: str, spec: Any, wait: float, approve: bool, name: str | None = None
) -> dict[str, Any]:
    """Start the workflow, answer its approval when asked to, wait for the end. ``spec``: the
    spec, or its JSON document (with staged ``value_from``)."""
    document = spec if isinstance(spec, dict) else spec.model_dump(mode="json")
    started = sfn.start_execution(
        stateMachineArn=machine_arn,
        name=name or execution_name(document["name"]),
        input=json.dumps({"spec": document}),
    )
    arn = started["executionArn"]
    deadline = time.monotonic() + wait
    answered = False
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        token = approval_token(sfn, arn)
        if token and not answered:
            if not approve:
                return {"execution": arn, "status": "WAITING_FOR_APPROVAL"}
            sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
            answered = True
        if time.monotonic() > deadline:
            return {"execution": arn, "status": "RUNNING"}
        time.sleep(0.2)
    return outcome(sfn, arn)


def outcome(sfn: Any, arn: str) -> dict[str, Any]:
    """Status, applied resources, or the error and what undo did, of a finished execution."""
    described = sfn.describe_execution(executionArn=arn)
    output = json.loads(described.get("output") or "null")
    result: dict[str, Any] = {"execution": arn, "status": described["status"]}
    if described["status"] == "SUCCEEDED" and isinstance(output, dict):
        result["applied"] = output.get("applied", [])
        return result
    history = sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"]
    failed = next((e for e in history if "executionFailedEventDetails" in e), None)
    if failed:
        details = failed["executionFailedEventDetails"]
        result["error"] = details.get("error")
        result["problems"] = failure_problems(details.get("cause"))
    undone = next(
        (e for e in history if e.get("stateExitedEventDetails", {}).get("name") == "Undo"),
        None,
    )
    if undone:
        state = json.loads(undone["stateExitedEventDetails"].get("output") or "{}")
        result["undone"] = (state.get("undone") or {}).get("result")
    return result


def failure_problems(cause: Any) -> list[str]:
    """What went wrong, one line per problem, from a failed execution's cause: the Lambda
    error document (its message; never its stack trace or Step Functions' wrapping)."""
    from opswire.provisioning.wiring import error_message

    text = error_message(cause)
    text = text.removeprefix("invalid project spec: ")
    lines = [line.strip() for line in text.replace("; ", "\n").splitlines() if line.strip()]
    return lines[:40] or ["(no cause given)"]


def approval_token(sfn: Any, execution_arn: str) -> str | None:
    """The token of a pending WaitForApproval task, from the execution's history."""
    events = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True)["events"]
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if details and "waitForTaskToken" in details.get("resource", ""):
            parameters = json.loads(details.get("parameters") or "{}")
            token = parameters.get("Payload", {}).get("task_token")
            return str(token) if token else None
        if event.get("stateExitedEventDetails", {}).get("name") == "WaitForApproval":
            return None
    return None


# ---- entry points ----------------------------------------------------------------------------
def run_plan(args: argparse.Namespace) -> int:
    from opswire.core.errors import SpecValidationError
    from opswire.provisioning.wiring import read_spec
    from opswire_cli.supplied_values import check_supplied_values

    def checked_plan(target: SpecTarget, _platform: Any) -> Any:
        check_supplied_values(
            spec.model_dump(mode="json"), args.file.parent,
            target.context.rotated_secret_prefix, target.session.client("secretsmanager"),
        )  # fmt: skip
        return make_plan(target, spec)

    try:
        spec = read_spec(args.file)
        made = _with_target(args, checked_plan)
    except SpecValidationError as exc:
        return _invalid(args, exc)
    if args.json:
        print(json.dumps(made.model_dump(mode="json"), indent=2))
    else:
        from opswire.provisioning.wiring import plan_report

        print(plan_report(made))
    return 0


def run_status(args: argparse.Namespace) -> int:
    from opswire.core.errors import SpecValidationError
    from opswire.provisioning.wiring import read_spec

    try:
        spec = read_spec(args.file)
        findings = _with_target(args, lambda target, _platform: posture(target, spec))
    except SpecValidationError as exc:
        return _invalid(args, exc)
    if args.json:
        print(json.dumps({"spec": spec.name, "findings": findings}, indent=2))
    elif not findings:
        print(f"{spec.name}: every resource is present, as declared, and its posture is good")
    else:
        print(f"{spec.name}: {len(findings)} problem(s)")
        for f in findings:
            print(f"! {f['kind']} {f['name']}: {f['problem']}")
    return 1 if findings else 0


def run_apply(args: argparse.Namespace) -> int:
    from opswire.core.errors import SpecValidationError
    from opswire.provisioning.wiring import read_spec

    try:
        spec = read_spec(args.file)
    except SpecValidationError as exc:
        return _invalid(args, exc)

    def apply(target: SpecTarget, platform: Any) -> dict[str, Any]:
        from opswire_cli.supplied_values import discard_staged, stage_supplied_values

        if platform is not None:
            machine = platform.state_machines[STATE_MACHINE]
        else:
            machine = target.outputs.get("ProvisioningStateMachineArn", "")
            if not machine:
                raise SystemExit(f"stack {args.stack} has no ProvisioningStateMachineArn output")
        sfn = target.session.client("stepfunctions")
        sm = target.session.client("secretsmanager")
        name = execution_name(spec.name)
        prefix = target.context.staging_prefix
        document, _ = stage_supplied_values(
            spec.model_dump(mode="json"), sm, prefix, name, args.file.parent,
            rotated_prefix=target.context.rotated_secret_prefix,
        )  # fmt: skip
        result = start_and_follow(sfn, machine, document, args.wait, args.approve, name)
        if result["status"] not in ("RUNNING", "WAITING_FOR_APPROVAL"):
            discard_staged(sm, prefix, name)
        if args.local:  # locally: show that applying again changes nothing
            result["plan_after"] = make_plan(target, spec).model_dump(mode="json")
        return result

    try:
        result = _with_target(args, apply)
    except SpecValidationError as exc:
        return _invalid(args, exc)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(f"{result['status']}: {result['execution']}")
        for item in result.get("applied", []):
            print(f"  {item['action']} {item['kind']} {item['name']}")
        if result["status"] == "WAITING_FOR_APPROVAL":
            print(f"  approve with: opswire provision approve {result['execution']}")
        if result.get("error"):
            print(f"  {result['error']}:")
            for problem in result.get("problems") or []:
                print(f"  - {problem}")
        for key in (result.get("undone") or {}).get("deleted", []):
            print(f"  undone: deleted {key}")
        if "plan_after" in result:
            from opswire.provisioning.wiring import plan_report

            print(plan_report(result["plan_after"]))
    return 0 if result["status"] in ("SUCCEEDED", "WAITING_FOR_APPROVAL") else 1


def run_approve(args: argparse.Namespace) -> int:
    def answer(target: SpecTarget, _platform: Any) -> dict[str, Any]:
        sfn = target.session.client("stepfunctions")
        token = approval_token(sfn, args.execution)
        if token is None:
            return {"ok": False, "error": "the execution is not waiting for approval"}
        if args.reject:
            from opswire_cli.supplied_values import discard_staged

            sfn.send_task_failure(taskToken=token, error="Rejected", cause="rejected by CLI")
            # value_from values staged for this execution: nothing will use them now
            execution = args.execution.rsplit(":", 1)[-1]
            discard_staged(
                target.session.client("secretsmanager"), target.context.staging_prefix, execution
            )
        else:
            sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
        return {"ok": True, "approved": not args.reject}

    result = _with_target(args, answer)
    print(json.dumps(result) if args.json else ("done" if result["ok"] else result["error"]))
    return 0 if result["ok"] else 1


def _invalid(args: argparse.Namespace, exc: Any) -> int:
    if args.json:
        print(json.dumps({"valid": False, "problems": exc.problems}, indent=2))
    else:
        print(f"{args.file}: invalid project spec", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
    return 2


def _with_target(args: argparse.Namespace, work: Any) -> Any:
    import boto3

    if not args.local:
        stack = deployed_stack(args)
        return work(SpecTarget(stack.session, stack.outputs(), stack.account()), None)

    from opswire_local.template import ACCOUNT_ID, REGION

    running = running_local_up(args.root)
    if running is not None:  # the account of `opswire local up`: apply, rotate, inspect there
        from opswire_cli.local_up_env import local_up_aws

        with local_up_aws(running):
            session = boto3.Session(region_name=REGION)
            return work(SpecTarget(session, running.outputs, ACCOUNT_ID), None)
    with local_platform(args) as platform:
        session = boto3.Session(region_name=REGION)
        return work(SpecTarget(session, local_outputs(platform), ACCOUNT_ID), platform)


def local_outputs(platform: Any) -> dict[str, str]:
    """The stack outputs provisioning needs, from the local platform's resources."""
    return {
        "AlarmTopicArn": platform.topics.get("AlarmTopic", ""),
        "ShipLogsFunctionArn": platform.resolve({"Fn::GetAtt": ["ShipLogsFunction", "Arn"]}),
        **{
            f"{name}Arn": platform.resolve({"Fn::GetAtt": [name, "Arn"]})
            for name in ("SecretRotationFunction", "DatabaseRotationFunction")
        },
        **{
            f"{name}RoleArn": platform.resolve({"Fn::GetAtt": [f"{name}Role", "Arn"]})
            for name in ("SecretRotationFunction", "DatabaseRotationFunction")
        },
        "ProvisioningStateMachineArn": platform.state_machines.get(STATE_MACHINE, ""),
        **{
            name: platform.resolve(platform.template.document["Outputs"][name]["Value"])
            for name in (
                "ProvisioningManagedBy",
                "ProvisioningPermissionsBoundaryArn",
                "ProvisioningManagedPolicies",
                "RotatedSecretPrefix",
                "RotatedIamUserPath",
            )
        },
    }
