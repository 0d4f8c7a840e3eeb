"""``opswire logs``: re-ship dead letters and subscribe existing log groups.

    opswire logs replay (--stack NAME | --function NAME | --local) [--prefix P] [--max-objects N]
                        [--all] [--json]
    opswire logs subscribe --pattern GLOB [--pattern ...] [--exclude GLOB ...]
                           (--stack NAME | --destination-arn ARN) [--filter-name NAME]
                           [--filter-pattern P] [--dry-run] [--json]

``replay`` invokes the stack's ShipLogsFunction with ``{"replay": {...}}``: the dead letters are
shipped from inside the stack, with the function's role and network (an OpenSearch domain in a
VPC is reachable from there, not from a laptop). ``--local`` does the same in a running
``opswire local up``. ``subscribe`` puts the subscription filter that SubscribeLogGroupFunction
puts on new groups on the groups that exist already. AWS credentials and region come from the
usual boto3 sources (``AWS_PROFILE``, ``AWS_REGION`` ...).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from opswire_cli.target import deployed_stack, resolve, stack_outputs

FUNCTION = "ShipLogsFunction"
_MAX_REPLAY_ROUNDS = 1000


def add_logs_commands(commands: Any) -> None:
    """Register ``opswire logs ...`` on the top-level subparsers of ``opswire_cli.cli``."""
    logs = commands.add_parser("logs", help="log shipping: replay dead letters, subscribe groups")
    logs_commands = logs.add_subparsers(title="logs commands")

    replay = logs_commands.add_parser("replay", help="re-ship the dead-letter bucket's objects")
    target = replay.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="deployed stack name (invokes its ShipLogsFunction)")
    target.add_argument("--function", help="name or ARN of the ShipLogsFunction")
    target.add_argument("--local", action="store_true", help="the running `opswire local up`")
    replay.add_argument("--region", default=None, help="AWS region (deployed)")
    replay.add_argument("--profile", default=None, help="AWS profile (deployed)")
    replay.add_argument("--prefix", default="dead-letters/", help="only keys under this prefix")
    replay.add_argument("--max-objects", type=int, default=100, help="objects per invocation")
    replay.add_argument("--all", action="store_true", help="invoke again while objects remain")
    replay.add_argument("--json", action="store_true", help="print one JSON object")
    replay.set_defaults(run=run_replay)

    subscribe = logs_commands.add_parser(
        "subscribe", help="subscribe existing log groups that match to the shipper"
    )
    subscribe.add_argument(
        "--pattern", action="append", required=True, metavar="GLOB",
        help="log group name glob, e.g. '/aws/lambda/*' (repeatable)",
    )  # fmt: skip
    subscribe.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    destination = subscribe.add_mutually_exclusive_group(required=True)
    destination.add_argument("--stack", help="deployed stack name (uses its ShipLogsFunctionArn)")
    destination.add_argument("--destination-arn", help="ARN of the ShipLogsFunction")
    subscribe.add_argument("--filter-name", help="default: <stack>-ship-logs or opswire-ship-logs")
    subscribe.add_argument("--filter-pattern", default="", help="CloudWatch Logs filter pattern")
    subscribe.add_argument("--dry-run", action="store_true", help="only list what would change")
    subscribe.add_argument("--json", action="store_true", help="print one JSON object")
    subscribe.set_defaults(run=run_subscribe)


# ---- replay -------------------------------------------------------------------------------------
def run_replay(args: argparse.Namespace) -> int:
    request = {"replay": {"prefix": args.prefix, "max_objects": args.max_objects}}
    rounds: list[dict[str, Any]] = []
    for _ in range(_MAX_REPLAY_ROUNDS):
        answer = _replay(args, request)
        if "error" in answer:
            _print(answer, as_json=args.json)
            return 1
        rounds.append(answer)
        if not (args.all and answer.get("more_remaining") and answer.get("objects")):
            break
    total: dict[str, Any] = {
        key: sum(int(r.get(key, 0)) for r in rounds)
        for key in ("objects", "documents", "indexed", "dead_lettered", "unreadable_kept")
    }
    total["more_remaining"] = bool(rounds[-1].get("more_remaining"))
    total["new_dead_letter_objects"] = [o for r in rounds for o in r["new_dead_letter_objects"]]
    total["invocations"] = len(rounds)
    _print(total, as_json=args.json)
    return 0


def _replay(args: argparse.Namespace, request: dict[str, Any]) -> dict[str, Any]:
    """One invoke of ShipLogsFunction: of the deployed stack (or ``--function``), else of the
    running ``opswire local up``."""
    if args.function:
        invocation = deployed_stack(args).invoke_function(args.function, request)
    else:
        target = resolve(args)
        if target is None:
            return {
                "error": "no `opswire local up` is running: a local stack's dead-letter bucket "
                "lives only while the platform runs (start it, send, then replay)"
            }
        invocation = target.invoke(FUNCTION, request)
    if invocation.errored or invocation.problems or invocation.payload is None:
        return {"error": f"replay failed: {invocation.problems or invocation.payload}"}
    return dict(invocation.payload)


# ---- subscribe ----------------------------------------------------------------------------------
def run_subscribe(args: argparse.Namespace) -> int:
    from opswire.core.errors import OpswireError
    from opswire.log_shipping import wiring

    destination = args.destination_arn or _stack_output(args.stack, "ShipLogsFunctionArn")
    filter_name = args.filter_name or (
        f"{args.stack}-ship-logs" if args.stack else "opswire-ship-logs"
    )
    try:
        outcomes = wiring.subscribe_existing(
            include=args.pattern,
            exclude=args.exclude,
            destination_arn=destination,
            filter_name=filter_name,
            filter_pattern=args.filter_pattern,
            dry_run=args.dry_run,
        )
    except OpswireError as exc:
        _print({"error": str(exc)}, as_json=args.json)
        return 1
    changed = [o for o in outcomes if o.action != "skipped"]
    skipped = [
        o for o in outcomes if o.action == "skipped" and o.reason != "matches no include pattern"
    ]
    result = {
        "destination_arn": destination,
        "filter_name": filter_name,
        "subscribed" if not args.dry_run else "would_subscribe": [o.log_group for o in changed],
        "skipped": [{"log_group": o.log_group, "reason": o.reason} for o in skipped],
        "examined": len(outcomes),
    }
    _print(result, as_json=args.json)
    return 0


# ---- helpers ------------------------------------------------------------------------------------
def _stack_output(stack: str, key: str) -> str:
    return stack_outputs(stack, None, key)[key]


def _print(result: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    for key, value in result.items():
        if isinstance(value, list):
            print(f"{key}: {len(value)}")
            for item in value:
                print(f"  {item if isinstance(item, str) else json.dumps(item)}")
        else:
            print(f"{key}: {value}")
