"""``opswire secrets``: rotate a secret now and show the rotation status of the opswire secrets.

    opswire secrets status [--prefix P] [--json]                  deployed (your AWS credentials)
    opswire secrets rotate SECRET_ID [--wait S] [--abandon-pending] [--json]
    opswire secrets status --local / rotate SECRET_ID --local     on the local platform

Deployed, the commands use boto3 with the usual credential chain (``--profile``,
``--region`` or the environment). ``rotate`` calls RotateSecret (Secrets Manager invokes the
configured rotation function) and waits until AWSCURRENT moved or the rotation failed.
Locally, the stack of template.yaml starts in-process with the example secret
(``CreateExampleSecret=true``) and moto's RotateSecret runs the rotation function in-process.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from opswire_cli.in_process import local_platform
from opswire_cli.target import add_deployed_or_local_options, deployed_stack

DEFAULT_PREFIX = "opswire/rotated/"


def register(commands: Any) -> None:
    """Add ``secrets`` to the ``opswire`` command (``commands``: the subparsers object)."""
    secrets = commands.add_parser("secrets", help="rotate secrets, show their rotation status")
    sub = secrets.add_subparsers(title="secrets commands")

    status = sub.add_parser("status", help="last and next rotation, overdue, stuck AWSPENDING")
    status.add_argument("--prefix", default=DEFAULT_PREFIX, help=f"default {DEFAULT_PREFIX}")
    status.add_argument(
        "--pending-hours", type=float, default=2.0, help="AWSPENDING older than this is stuck"
    )
    add_deployed_or_local_options(status)
    status.set_defaults(run=run_status)

    rotate = sub.add_parser("rotate", help="rotate one secret now and wait for the outcome")
    rotate.add_argument("secret_id", metavar="SECRET_ID", help="name or ARN")
    rotate.add_argument("--wait", type=float, default=300.0, help="seconds to wait (default 300)")
    rotate.add_argument(
        "--abandon-pending",
        action="store_true",
        help="first remove AWSPENDING from a stuck version (an unfinished earlier rotation)",
    )
    add_deployed_or_local_options(rotate)
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


def rotate_secret(
    client: Any, secret_id: str, wait_seconds: float, abandon_pending: bool
) -> dict[str, Any]:
    """RotateSecret, then watch the labels until AWSCURRENT moved or the rotation gave up."""
    before = client.describe_secret(SecretId=secret_id)
    versions = before.get("VersionIdsToStages") or {}
    stuck = [v for v, s in versions.items() if "AWSPENDING" in s and "AWSCURRENT" not in s]
    result: dict[str, Any] = {"secret": before["Name"], "abandoned": []}
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
    if not before.get("RotationLambdaARN"):
        return result | {"ok": False, "error": "rotation is not configured for this secret"}
    old_current = next((v for v, s in versions.items() if "AWSCURRENT" in s), None)
    token = client.rotate_secret(SecretId=secret_id)["VersionId"]
    result["version"] = token
    deadline = time.monotonic() + wait_seconds
    while True:
        stages = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages") or {}
        if "AWSCURRENT" in stages.get(token, []):
            return result | {"ok": True, "previous": old_current, "stages": stages}
        if time.monotonic() > deadline:
            return result | {
                "ok": False,
                "stages": stages,
                "error": f"AWSCURRENT has not moved to {token} after {wait_seconds:.0f}s: the "
                "rotation failed or is still running (see the rotation function's logs)",
            }
        time.sleep(1.0)


# ---- entry points ------------------------------------------------------------------------------
def run_status(args: argparse.Namespace) -> int:
    statuses = _with_client(
        args, lambda client, _platform: secrets_status(client, args.prefix, args.pending_hours)
    )
    if args.json:
        print(json.dumps({"secrets": statuses}, indent=2, default=str))
    else:
        if not statuses:
            print(f"no secrets under {args.prefix!r}")
        for status in statuses:
            print(_status_line(status))
    return 1 if any(s["problems"] for s in statuses) else 0


def run_rotate(args: argparse.Namespace) -> int:
    def rotate(client: Any, platform: Any) -> dict[str, Any]:
        mark = len(platform.outbox.messages) if platform else 0
        result = rotate_secret(client, args.secret_id, args.wait, args.abandon_pending)
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
    if not args.local:
        return work(deployed_stack(args).client("secretsmanager"), None)
    import boto3

    from opswire_local.template import REGION

    if not any(p.startswith("CreateExampleSecret=") for p in args.parameter):
        args.parameter.append("CreateExampleSecret=true")
    with local_platform(args) as platform:
        return work(boto3.client("secretsmanager", region_name=REGION), platform)


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
