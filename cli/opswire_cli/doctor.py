"""``opswire doctor --stack NAME [--region R] [--profile P] [--json]``: check a deployed stack
before trusting it, and say what to fix.

Checks (docs/doctor.md): the stack's status; SES sender and, in the sandbox, every AlertEmail
recipient; the workflow-failure email subscription is confirmed; the Slack webhook secret and,
in app mode, the app secret with a live ``auth.test``; the GitHub webhook secret; the OpenSearch
endpoint answers; alarms send their actions to opswire; the database rotation function in a VPC
can reach Secrets Manager. Each result is ok, warn or fail; the exit status is 1 when one fails.

Read-only, with your AWS credentials. Secret values are never printed.
"""

from __future__ import annotations

import argparse
from typing import Any

from opswire_cli.doctor_checks import as_json, run_checks
from opswire_cli.doctor_facts import CheckResult
from opswire_cli.target import deployed_stack

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def register(commands: Any) -> None:
    """Add ``doctor`` to the ``opswire`` command (``commands``: the subparsers object)."""
    doctor = commands.add_parser("doctor", help="check a deployed stack and say what to fix")
    doctor.add_argument("--stack", required=True, help="stack name")
    doctor.add_argument("--region", default=None, help="AWS region (default: your AWS config)")
    doctor.add_argument("--profile", default=None, help="AWS profile")
    doctor.add_argument("--json", action="store_true", help="print one JSON object")
    doctor.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from opswire_cli.doctor_aws import read_facts

    session = deployed_stack(args).session
    if not session.region_name:
        raise SystemExit("opswire: no AWS region: use --region or set AWS_REGION")
    facts = read_facts(session, args.stack)
    results = run_checks(facts)
    if args.json:
        print(as_json(facts.stack, results))
    else:
        print(render(facts.stack.name, facts.stack.region, results))
    return 1 if any(r.status == "fail" for r in results) else 0


def render(stack: str, region: str, results: list[CheckResult]) -> str:
    """One line per result; the fix under each line that is not ok; a summary last."""
    width = max((len(r.check) for r in results), default=0)
    lines = [f"opswire doctor: stack {stack} ({region})", ""]
    for result in results:
        lines.append(f"{_MARK[result.status]}  {result.check.ljust(width)}  {result.detail}")
        if result.status != "ok" and result.fix:
            lines.append(f"      {' ' * width}  fix: {result.fix}")
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "warn", "fail")}
    lines += ["", f"{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failures"]
    return "\n".join(lines)
