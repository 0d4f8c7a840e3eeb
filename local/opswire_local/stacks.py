"""Where a CLI command runs: a deployed opswire stack (its CloudFormation outputs, an AWS session
from ``--profile``/``--region``) or, with ``--local``, the in-process local platform."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opswire_local.platform import LocalPlatform


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


@contextlib.contextmanager
def local_platform(args: argparse.Namespace) -> Iterator[LocalPlatform]:
    """The local platform for one command; what its handlers print goes to the local log, and
    the command's own output to the terminal again once its work is done."""
    from opswire_local.cli import handler_output_to_log, platform_options
    from opswire_local.platform import LocalPlatform

    options = platform_options(args)
    with handler_output_to_log(options) as out, LocalPlatform(options) as platform:
        yield platform
        sys.stdout = out


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
