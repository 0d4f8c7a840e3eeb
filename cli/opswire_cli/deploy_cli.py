"""``opswire deploy``: deployments, on a deployed stack or locally.

    opswire deploy history [--limit N] [--json]
    opswire deploy status ID
    opswire deploy approve ID [--as NAME]
    opswire deploy reject ID [--as NAME]
    opswire deploy override ID --reason TEXT [--as NAME]
    opswire deploy redeploy ID --reason TEXT [--as NAME]

Every command invokes the stack's DeployApprovalFunction (``{"operation": ...}``, direct
invoke): with ``--stack NAME [--region R] [--profile P]`` the deployed function, with your AWS
credentials (you need lambda:InvokeFunction on it; an override or a redeploy also sends your AWS
identity, kept with the deployment); without it the function of the running ``opswire local
up``, which also reports what an approval or a redeploy set off. The function checks approvers,
the same way in both cases: on the environment's allow-list and not the requester (a redeploy's
requester is whoever asked for it). ``--as`` defaults to your login name.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from opswire_cli.target import Target, add_target_options, resolve

FUNCTION = "DeployApprovalFunction"


def register(commands: Any) -> None:
    deploy = commands.add_parser("deploy", help="deployment history, status, approvals")
    actions = deploy.add_subparsers(dest="deploy_command", required=True)
    for name, text in (
        ("history", "recent deployments, newest first"),
        ("status", "one deployment with its stages"),
        ("approve", "approve a deployment waiting for approval"),
        ("reject", "reject a deployment waiting for approval"),
        ("override", "run a deployment blocked by firing alarms again, alarms overridden"),
        (
            "redeploy",
            "deploy what a finished deployment deployed again (the webhook refuses a commit "
            "that already deployed, and a too old event for production)",
        ),
    ):
        parser = actions.add_parser(name, help=text)
        if name != "history":
            parser.add_argument("deployment_id")
        else:
            parser.add_argument("--limit", type=int, default=20)
        if name in ("approve", "reject", "override", "redeploy"):
            parser.add_argument("--as", dest="approver", default=getpass.getuser())
        if name in ("override", "redeploy"):
            parser.add_argument("--reason", required=True, help="why (kept with the deployment)")
        add_target_options(parser, local_flag=False)
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
    if args.deploy_command in ("override", "redeploy"):
        request.update(by=args.approver, reason=args.reason)
    result = _operate(resolve(args), request)
    _print(args, result)
    if "error" in result:
        return 1
    return 0 if int(result.get("status", 200)) < 400 else 1


def _operate(target: Target | None, request: dict[str, Any]) -> dict[str, Any]:
    if target is None:
        return {"error": "no `opswire local up` is running (or use --stack NAME)"}
    if request["operation"] in ("override", "redeploy"):
        request["principal"] = target.caller_arn()
    invocation = target.invoke(FUNCTION, request)
    if invocation.payload is None:
        return {"error": f"the function did not answer: {invocation.problems}"}
    payload: dict[str, Any] = dict(invocation.payload)
    if invocation.errored:
        return {"error": str(payload.get("errorMessage"))}
    # An approval resumes the workflow: show what it did next (stages, Slack, email).
    if (
        request["operation"] in ("approve", "reject", "override", "redeploy")
        and invocation.executions is not None
    ):
        payload["executions"] = invocation.executions
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
