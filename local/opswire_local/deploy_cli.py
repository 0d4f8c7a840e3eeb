"""``opswire deploy``: deployments, on a deployed stack or locally.

    opswire deploy history [--limit N] [--json]
    opswire deploy status ID
    opswire deploy approve ID [--as NAME]
    opswire deploy reject ID [--as NAME]
    opswire deploy override ID --reason TEXT [--as NAME]

With ``--stack NAME [--region R]`` it reads the stack's deployment table (output
``DeploymentTableName``), resumes the waiting approval with SendTaskSuccess and starts overrides
on ``DeploymentStateMachineArn``, using your AWS credentials (an override also records your AWS
identity). Without it, it asks the running ``opswire local up`` (DeployApprovalFunction, direct
invoke). Approvers are checked the same way in both cases: on the environment's allow-list and
not the requester. ``--as`` defaults to your login name.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TABLE_OUTPUT = "DeploymentTableName"
WORKFLOW_OUTPUT = "DeploymentStateMachineArn"


def register(commands: Any) -> None:
    deploy = commands.add_parser("deploy", help="deployment history, status, approvals")
    actions = deploy.add_subparsers(dest="deploy_command", required=True)
    for name, text in (
        ("history", "recent deployments, newest first"),
        ("status", "one deployment with its stages"),
        ("approve", "approve a deployment waiting for approval"),
        ("reject", "reject a deployment waiting for approval"),
        ("override", "run a deployment blocked by firing alarms again, alarms overridden"),
    ):
        parser = actions.add_parser(name, help=text)
        if name != "history":
            parser.add_argument("deployment_id")
        else:
            parser.add_argument("--limit", type=int, default=20)
        if name in ("approve", "reject", "override"):
            parser.add_argument("--as", dest="approver", default=getpass.getuser())
        if name == "override":
            parser.add_argument("--reason", required=True, help="why (kept with the deployment)")
        parser.add_argument("--stack", help="a deployed stack (default: `opswire local up`)")
        parser.add_argument("--region")
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"operation": args.deploy_command}
    if args.deploy_command == "history":
        request["limit"] = args.limit
    else:
        request["deployment_id"] = args.deployment_id
    if args.deploy_command in ("approve", "reject"):
        request["approver"] = args.approver
    if args.deploy_command == "override":
        request.update(by=args.approver, reason=args.reason)
    result = _deployed(args, request) if args.stack else _local(request)
    _print(args, result)
    if "error" in result:
        return 1
    return 0 if int(result.get("status", 200)) < 400 else 1


def _deployed(args: argparse.Namespace, request: dict[str, Any]) -> dict[str, Any]:
    import boto3

    from opswire.deployments.wiring import run_operation
    from opswire_local.stacks import stack_outputs

    if args.region:
        os.environ["AWS_DEFAULT_REGION"] = args.region
    outputs = stack_outputs(args.stack, None, TABLE_OUTPUT, WORKFLOW_OUTPUT)
    principal = ""
    if request["operation"] == "override":
        principal = str(boto3.client("sts").get_caller_identity()["Arn"])
    return run_operation(
        request, outputs[TABLE_OUTPUT], outputs[WORKFLOW_OUTPUT], datetime.now(UTC), principal
    )


def _local(request: dict[str, Any]) -> dict[str, Any]:
    from opswire_local.gateway import running_platform_url, send_to_running_platform

    state = Path(os.environ.get("OPSWIRE_STATE_DIR") or Path.cwd() / ".opswire")
    url = running_platform_url(state)
    if url is None:
        return {"error": "no `opswire local up` is running (or use --stack NAME)"}
    body = json.dumps(request).encode()
    result = send_to_running_platform(url, "function:DeployApprovalFunction", [(None, body)], {})
    invocations = result.get("invocations") or []
    if not invocations:
        return {"error": f"the local platform did not answer: {result.get('errors')}"}
    payload: dict[str, Any] = dict(invocations[-1]["payload"])
    if invocations[-1].get("errored"):
        return {"error": str(payload.get("errorMessage"))}
    # An approval resumes the workflow: show what it did next (stages, Slack, email).
    if request["operation"] in ("approve", "reject", "override"):
        payload["executions"] = result.get("executions", [])
    return payload


def _print(args: argparse.Namespace, result: dict[str, Any]) -> None:
    out = sys.stdout
    if args.json or "error" in result:
        print(json.dumps(result, indent=2, default=str), file=out)
        return
    if "deployments" in result:
        for item in result["deployments"]:
            print(
                f"{item['created_at'][:19]}  {item['deployment_id']:<40} {item['status']:<18} "
                f"{item['environment']:<10} {item['repository']} {item['image_tag']}",
                file=out,
            )
        return
    if "deployment" in result:
        record = result["deployment"]
        print(
            f"{record['deployment_id']}: {record['status']} ({record['repository']} "
            f"{record['ref']} -> {record['environment']}, image tag {record['image_tag']})",
            file=out,
        )
        for stage in record.get("stages", []):
            print(f"  {stage['at'][:19]}  {stage['status']:<18} {stage['message']}", file=out)
        return
    print(result.get("message", json.dumps(result)), file=out)
