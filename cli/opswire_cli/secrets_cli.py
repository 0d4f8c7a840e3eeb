"""``opswire secrets``: rotate a secret now and show the rotation status of the opswire secrets.

    opswire secrets status [--prefix P] [--stack S] [--json]      deployed (your AWS credentials)
    opswire secrets rotate SECRET_ID [--wait S] [--abandon-pending] [--json]
    opswire secrets status --local / rotate SECRET_ID --local     on the local platform

Deployed, the commands use boto3 with the usual credential chain (``--profile``,
``--region`` or the environment) and the stack's outputs (``--stack``, default ``opswire``):
its rotation prefix and functions. ``rotate`` first checks what would make the rotation fail
for sure (a secret outside the prefix, a kind its function does not rotate) and says so; then
it calls RotateSecret (Secrets Manager invokes the configured rotation function) and waits
until AWSCURRENT moved; if it does not, it says which log group tells why.
``--local`` uses the running ``opswire local up`` (what ``opswire provision apply --local``
made there); when none runs, the stack of template.yaml starts in-process with the example
secret (``CreateExampleSecret=true``). Locally RotateSecret runs the four steps before it
returns: a version not AWSCURRENT then is a failed rotation, reported at once.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from opswire_cli.in_process import local_platform
from opswire_cli.target import add_deployed_or_local_options, deployed_stack, running_local_up

DEFAULT_PREFIX = "opswire/rotated/"
KIND_TAG = "opswire:rotation-kind"


def register(commands: Any) -> None:
    """Add ``secrets`` to the ``opswire`` command (``commands``: the subparsers object)."""
    secrets = commands.add_parser("secrets", help="rotate secrets, show their rotation status")
    sub = secrets.add_subparsers(title="secrets commands")

    status = sub.add_parser("status", help="last and next rotation, overdue, stuck AWSPENDING")
    status.add_argument(
        "--prefix",
        default=None,
        help=f"default: the stack's RotatedSecretPrefix ({DEFAULT_PREFIX})",
    )
    status.add_argument(
        "--pending-hours", type=float, default=2.0, help="AWSPENDING older than this is stuck"
    )
    add_deployed_or_local_options(status, stack_default="opswire")
    status.set_defaults(run=run_status)

    rotate = sub.add_parser("rotate", help="rotate one secret now and wait for the outcome")
    rotate.add_argument("secret_id", metavar="SECRET_ID", help="name or ARN")
    rotate.add_argument("--wait", type=float, default=300.0, help="seconds to wait (default 300)")
    rotate.add_argument(
        "--abandon-pending",
        action="store_true",
        help="first remove AWSPENDING from a stuck version (an unfinished earlier rotation)",
    )
    add_deployed_or_local_options(rotate, stack_default="opswire")
    rotate.set_defaults(run=run_rotate)


# ---- the two commands, over any Secrets Manager client --------------------------------------
def secrets_status(client: Any, prefix: str, pending_hours: float) -> list[dict[str, Any]]:
    from opswire.rotation.wiring import secret_statuses

    statuses = secret_statuses(
        client,
        prefix,
        datetime.now(UTC),
        timedelta(hours=24),
        timedelta(hours=pending_hours),
    )
    return [status.model_dump(mode="json") | {"problems": status.problems} for status in statuses]


def preflight(described: dict[str, Any], stack: Mapping[str, str]) -> str | None:
    """Why a rotation of ``described`` (DescribeSecret) by the stack (its ``outputs``) can
    only fail, or None."""
    from opswire.rotation.wiring import rotation_function_output

    name = str(described["Name"])
    prefix = stack.get("RotatedSecretPrefix")
    if prefix and not name.startswith(prefix):
        return (
            f"{name} is not under the stack's rotation prefix {prefix!r}: the rotation functions "
            "may not read or write it, so every rotation fails (name it under the prefix)"
        )
    tags = {t["Key"]: t.get("Value", "") for t in described.get("Tags") or []}
    kind = tags.get(KIND_TAG)
    if kind is None:
        return None
    output = rotation_function_output(kind)
    if output is None:
        return f"{name}: rotation kind {kind!r} (tag {KIND_TAG}) is not one opswire rotates"
    expected, attached = stack.get(output), described.get("RotationLambdaARN")
    if expected and attached and attached != expected:
        return (
            f"{name} is of kind {kind}, which {_function(expected)} rotates, but its rotation "
            f"function is {_function(attached)}, which refuses that kind (re-apply its spec, "
            f"or RotateSecret with RotationLambdaARN {expected})"
        )
    return None


def _function(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def rotate_secret(
    client: Any,
    secret_id: str,
    wait_seconds: float,
    abandon_pending: bool,
    *,
    stack: Mapping[str, str] | None = None,
    synchronous: bool = False,
) -> dict[str, Any]:
    """RotateSecret, then watch the labels until AWSCURRENT moved or the rotation gave up.
    ``synchronous``: RotateSecret ran the steps before it returned (the local platform)."""
    before = client.describe_secret(SecretId=secret_id)
    versions = before.get("VersionIdsToStages") or {}
    stuck = [v for v, s in versions.items() if "AWSPENDING" in s and "AWSCURRENT" not in s]
    result: dict[str, Any] = {"secret": before["Name"], "abandoned": []}
    refused = preflight(before, stack or {})
    if refused:
        return result | {"ok": False, "error": refused}
    if stuck and not abandon_pending:
        result |= {
            "ok": False,
            "error": f"an earlier rotation is unfinished (AWSPENDING on {stuck[0]}); fix its "
            "cause, then rerun with --abandon-pending to start over",
        }
        return result
    for version in stuck:
        client.update_secret_version_stage(
            SecretId=secret_id, VersionStage="AWSPENDING", RemoveFromVersionId=version
        )
        result["abandoned"].append(version)
    function = before.get("RotationLambdaARN")
    if not function:
        return result | {"ok": False, "error": "rotation is not configured for this secret"}
    old_current = next((v for v, s in versions.items() if "AWSCURRENT" in s), None)
    token = client.rotate_secret(SecretId=secret_id)["VersionId"]
    result["version"] = token
    deadline = time.monotonic() + (0 if synchronous else wait_seconds)
    while True:
        stages = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages") or {}
        if "AWSCURRENT" in stages.get(token, []):
            return result | {"ok": True, "previous": old_current, "stages": stages}
        if time.monotonic() >= deadline:
            why = (
                "the rotation function failed"
                if synchronous
                else f"AWSCURRENT has not moved after {wait_seconds:.0f}s: the rotation failed "
                "or is still running"
            )
            return result | {
                "ok": False,
                "stages": stages,
                "error": f"{why} (version {token}); log group /aws/lambda/{_function(function)} "
                "says why",
            }
        time.sleep(1.0)


# ---- entry points ------------------------------------------------------------------------------
def run_status(args: argparse.Namespace) -> int:
    def status(client: Any, _platform: Any, stack: Mapping[str, str]) -> list[dict[str, Any]]:
        args.prefix = args.prefix or stack.get("RotatedSecretPrefix") or DEFAULT_PREFIX
        return secrets_status(client, args.prefix, args.pending_hours)

    statuses = _with_client(args, status)
    if args.json:
        print(json.dumps({"secrets": statuses}, indent=2, default=str))
    else:
        if not statuses:
            print(f"no secrets under {args.prefix!r}")
        for entry in statuses:
            print(_status_line(entry))
    return 1 if any(s["problems"] for s in statuses) else 0


def run_rotate(args: argparse.Namespace) -> int:
    def rotate(client: Any, platform: Any, stack: Mapping[str, str]) -> dict[str, Any]:
        mark = len(platform.outbox.messages) if platform else 0
        result = rotate_secret(
            client, args.secret_id, args.wait, args.abandon_pending,
            stack=stack, synchronous=args.local,
        )  # fmt: skip
        if platform is not None:
            result["notifications"] = platform.outbox.messages[mark:]
        return result

    result = _with_client(args, rotate)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    elif result["ok"]:
        print(f"rotated {result['secret']}: AWSCURRENT is now version {result['version']}")
    else:
        print(f"rotation of {result['secret']} FAILED: {result['error']}")
        for note in result.get("notifications") or []:
            print(f"  → {note['channel']}: {note['subject']}")
    return 0 if result["ok"] else 1


def _with_client(args: argparse.Namespace, work: Any) -> Any:
    """``work(client, platform, stack outputs)`` on the deployed stack, the running ``local
    up`` or (none running) a local platform started for this command."""
    if not args.local:
        stack = deployed_stack(args)
        return work(stack.client("secretsmanager"), None, stack.outputs())
    import boto3

    from opswire_local.template import REGION

    running = running_local_up(args.root)
    if running is not None:
        from opswire_cli.local_up_env import local_up_aws

        with local_up_aws(running):
            client = boto3.client("secretsmanager", region_name=REGION)
            return work(client, None, running.outputs)
    if not any(p.startswith("CreateExampleSecret=") for p in args.parameter):
        args.parameter.append("CreateExampleSecret=true")
    with local_platform(args) as platform:
        outputs = {
            name: str(platform.resolve(platform.template.document["Outputs"][name]["Value"]))
            for name in (
                "RotatedSecretPrefix", "SecretRotationFunctionArn", "DatabaseRotationFunctionArn",
            )
        }  # fmt: skip
        return work(boto3.client("secretsmanager", region_name=REGION), platform, outputs)


def _status_line(status: dict[str, Any]) -> str:
    def when(value: Any) -> str:
        return str(value)[:16].replace("T", " ") if value else "never"

    mark = "!" if status["problems"] else ("✓" if status["rotation_enabled"] else "-")
    rotation = (
        f"every {status['rotation_days']} d" if status["rotation_enabled"] else "rotation off"
    )
    line = (
        f"{mark} {status['name']}  [{status['kind'] or '?'}, {rotation}]  "
        f"last {when(status['last_rotated'])}, next {when(status['next_rotation'])}"
    )
    if status["pending_version"]:
        line += f", AWSPENDING {status['pending_version']}"
    return "\n    ".join([line, *status["problems"]])
