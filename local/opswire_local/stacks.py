"""A deployed opswire stack as the CLI commands find it: its CloudFormation outputs."""

from __future__ import annotations

from typing import Any


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
