"""A second opinion on ``policy_evaluator``: the npm package @cloud-copilot/iam-simulate, a
maintained IAM simulator that also checks each action, resource type and condition key
against AWS's service reference.

Licence: AGPL-3.0-or-later. It is used here only as a test tool: installed (pinned, unmodified)
into the gitignored tests/.iam-simulate by ``make pytest`` or on first use, run in its own Node
process, never shipped in the layer or the stack.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tests.unit.provisioning.policy_evaluator import Decision, Request

DIR = Path(__file__).resolve().parents[2] / ".iam-simulate"
PACKAGE = "@cloud-copilot/iam-simulate@0.1.173"
SCRIPT = Path(__file__).with_name("iam_simulate.mjs")
OURS = {"Allowed": "allowed", "ExplicitlyDenied": "explicit-deny",
        "ImplicitlyDenied": "implicit-deny"}  # fmt: skip


@functools.cache
def available() -> bool:
    """Installs the package when missing (npm, pinned); False without Node."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return False
    if not (DIR / "node_modules/@cloud-copilot/iam-simulate/package.json").is_file():
        subprocess.run(
            ["npm", "install", "--prefix", str(DIR), "--no-save", "--no-audit", "--no-fund",
             PACKAGE],
            check=True,
            capture_output=True,
            timeout=300,
        )  # fmt: skip
    return True


def simulate(
    statements: Iterable[Mapping[str, Any]], requests: list[Request], account: str
) -> list[Decision | str]:
    """iam-simulate's decision for each request, in our words (or its error text)."""
    payload = {
        "dir": str(DIR),
        "account": account,
        "principal": f"arn:aws:iam::{account}:role/opswire-test-role",
        "statements": list(statements),
        "requests": [
            {"action": r.action, "resource": r.resource, "context": dict(r.context)}
            for r in requests
        ],
    }
    completed = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return [OURS.get(result, result) for result in json.loads(completed.stdout)]
