"""Where a CLI command runs, resolved once from its options.

``--stack NAME [--region R] [--profile P]`` is a deployed stack: a boto3 session with your
credentials, the stack's CloudFormation outputs, its functions by their physical names. Without
it (``--local``, or by default where a command allows it) it is the running ``opswire local up``
of this project: its gateway, and the moto server that shares its in-memory AWS. Commands are
written once against ``Target``; ``in_process.local_platform`` is the third place, a platform
started for one command (where a command allows that).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from opswire_cli.in_process import state_dir


@dataclass
class Invocation:
    """What a direct (RequestResponse) invoke of a stack function answered."""

    payload: Any  # None when the function did not answer
    errored: bool = False  # the function raised: ``payload`` is its error
    problems: list[str] = field(default_factory=list)  # delivery errors (local platform)
    # The executions the call caused, as the local platform reports them (None: unknown).
    executions: list[dict[str, Any]] | None = None


class Target(Protocol):
    description: str  # for messages: "stack NAME", "local up URL"

    def client(self, service: str) -> Any: ...

    def table_name(self, logical_id: str, output: str) -> str: ...

    def invoke(self, logical_id: str, payload: dict[str, Any]) -> Invocation: ...

    def caller_arn(self) -> str: ...


def add_target_options(parser: argparse.ArgumentParser, *, local_flag: bool = True) -> None:
    """``--stack``, ``--region``, ``--profile`` (deployed) and ``--local``, ``--root``."""
    parser.add_argument("--stack", help="a deployed stack's name (default: the local platform)")
    parser.add_argument("--region", default=None, help="the deployed stack's region")
    parser.add_argument("--profile", default=None, help="AWS profile (deployed)")
    if local_flag:
        parser.add_argument("--local", action="store_true", help="the local platform")
    parser.add_argument("--root", type=Path, default=None, help="project directory (local)")


def resolve(args: argparse.Namespace) -> Target | None:
    """The deployed stack of ``--stack``, else the running ``opswire local up`` (None: none
    runs)."""
    if getattr(args, "stack", None):
        return deployed_stack(args)
    return running_local_up(getattr(args, "root", None))


def deployed_stack(args: argparse.Namespace) -> DeployedStack:
    import boto3

    session = boto3.session.Session(
        profile_name=getattr(args, "profile", None), region_name=getattr(args, "region", None)
    )
    return DeployedStack(args.stack, session)


def running_local_up(root: Path | None) -> LocalUp | None:
    """The ``opswire local up`` of this project, if one runs and answers."""
    from opswire_local.gateway import running_platform

    announced = running_platform(state_dir(root))
    return LocalUp(announced) if announced is not None else None


class DeployedStack:
    """A deployed opswire stack, reached with the operator's AWS credentials."""

    def __init__(self, name: str, session: Any) -> None:
        self.name = name
        self.session = session
        self.description = f"stack {name}"

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def outputs(self, *required: str) -> dict[str, str]:
        return stack_outputs(self.name, self.session, *required)

    def table_name(self, logical_id: str, output: str) -> str:
        return self.outputs(output)[output]

    def function_name(self, logical_id: str) -> str:
        """The physical name of the stack's function ``logical_id``."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            detail = self.client("cloudformation").describe_stack_resource(
                StackName=self.name, LogicalResourceId=logical_id
            )["StackResourceDetail"]
        except (ClientError, BotoCoreError) as exc:
            raise SystemExit(f"opswire: stack {self.name!r} has no {logical_id}: {exc}") from None
        return str(detail["PhysicalResourceId"])

    def invoke(self, logical_id: str, payload: dict[str, Any]) -> Invocation:
        return self.invoke_function(self.function_name(logical_id), payload)

    def invoke_function(self, name: str, payload: dict[str, Any]) -> Invocation:
        """lambda:InvokeFunction, RequestResponse (``name``: a name or an ARN)."""
        response = self.client("lambda").invoke(
            FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(payload)
        )
        answer = json.loads(response["Payload"].read() or b"null")
        return Invocation(answer, errored=bool(response.get("FunctionError")))

    def caller_arn(self) -> str:
        return str(self.client("sts").get_caller_identity()["Arn"])

    def account(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])


class LocalUp:
    """A running ``opswire local up``: its gateway runs functions the way AWS would (and reports
    what they caused); its moto server is the local stack's AWS, for boto3 clients."""

    def __init__(self, announced: dict[str, Any]) -> None:
        self.url = str(announced["url"])
        self.token = str(announced.get("token") or "")
        self.aws_endpoint: str | None = announced.get("aws_endpoint")
        self.tables: dict[str, str] = dict(announced.get("tables") or {})
        self.outputs: dict[str, str] = dict(announced.get("outputs") or {})
        self.description = f"local up {self.url}"

    def client(self, service: str) -> Any:
        import boto3

        from opswire_local.template import REGION

        if not self.aws_endpoint:
            raise SystemExit(f"opswire: the local up at {self.url} serves no AWS endpoint")
        session: Any = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        return session.client(service, endpoint_url=self.aws_endpoint)

    def table_name(self, logical_id: str, output: str) -> str:
        if logical_id not in self.tables:
            raise SystemExit(f"opswire: the local stack has no {logical_id}")
        return self.tables[logical_id]

    def invoke(self, logical_id: str, payload: dict[str, Any]) -> Invocation:
        from opswire_local.gateway import send_to_running_platform

        body = json.dumps(payload).encode()
        result = send_to_running_platform(
            self.url, self.token, f"function:{logical_id}", [(None, body)], {}
        )
        invocations = result.get("invocations") or []
        last = invocations[-1] if invocations else {}
        return Invocation(
            last.get("payload"),
            errored=bool(last.get("errored")),
            problems=[str(e) for e in result.get("errors") or []] or _execution_problems(result),
            executions=list(result.get("executions") or []),
        )

    def caller_arn(self) -> str:
        return ""


def _execution_problems(result: dict[str, Any]) -> list[str]:
    """``ok`` is false without an error: an execution failed, or something was dead-lettered,
    which the invoked function's own payload reports to the caller (``dead_lettered``)."""
    if result.get("ok") or result.get("dead_letters"):
        return []
    return ["not every execution it started succeeded"]


def add_deployed_or_local_options(
    parser: argparse.ArgumentParser, *, stack_default: str | None = None
) -> None:
    """``--json``; ``--local`` or a deployed stack (``--stack`` when the command needs its
    outputs, ``--profile``, ``--region``); for the local platform ``--root`` and
    ``--parameter``."""
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--local", action="store_true", help="use the local platform")
    if stack_default is not None:
        parser.add_argument("--stack", default=stack_default, help="stack name (deployed)")
    parser.add_argument("--profile", default=None, help="AWS profile (deployed)")
    parser.add_argument("--region", default=None, help="AWS region (deployed)")
    parser.add_argument("--root", type=Path, default=None, help="project directory (local)")
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="Name=value",
        help="override a template parameter (local)",
    )  # fmt: skip
    parser.add_argument("--time-scale", type=float, default=0.05, help=argparse.SUPPRESS)


def stack_outputs(stack: str, session: Any = None, *required: str) -> dict[str, str]:
    """The outputs of ``stack`` (``session``: a boto3 Session, default the usual credential
    chain). Exits with a clear message when the stack cannot be described or lacks one of
    the ``required`` outputs."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = (session or boto3.session.Session()).client("cloudformation")
    try:
        described = client.describe_stacks(StackName=stack)["Stacks"][0]
    except (ClientError, BotoCoreError) as exc:
        raise SystemExit(f"opswire: stack {stack!r} could not be described: {exc}") from None
    outputs = {
        str(o["OutputKey"]): str(o.get("OutputValue", "")) for o in described.get("Outputs", [])
    }
    missing = [key for key in required if not outputs.get(key)]
    if missing:
        raise SystemExit(f"opswire: stack {stack!r} has no output {', '.join(missing)}")
    return outputs
