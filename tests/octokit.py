"""Real GitHub webhook payloads from the npm package @octokit/webhooks-examples.

``make pytest`` (and .ci/run through it) installs the package into tests/.octokit; when it is
missing, ``examples()`` installs it with npm (pinned)."""

import functools
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OCTOKIT_DIR = Path(__file__).resolve().parent / ".octokit"
PACKAGE = "@octokit/webhooks-examples@7.6.1"
INDEX = OCTOKIT_DIR / "node_modules/@octokit/webhooks-examples/api.github.com/index.json"


@functools.cache
def examples() -> dict[str, list[dict[str, Any]]]:
    """Event name (X-GitHub-Event) -> its example payloads."""
    if not INDEX.is_file():
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(OCTOKIT_DIR),
                "--no-save",
                "--no-audit",
                "--no-fund",
                PACKAGE,
            ],
            check=True,
            capture_output=True,
        )
    return {entry["name"]: entry["examples"] for entry in json.loads(INDEX.read_text("utf-8"))}


def example(event: str, **match: Any) -> dict[str, Any]:
    """The first example of ``event`` whose top-level fields equal ``match``."""
    for payload in examples()[event]:
        if all(payload.get(k) == v for k, v in match.items()):
            return payload
    raise LookupError(f"no {event} example with {match}")


def fresh(event: str, payload: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """``payload`` as if GitHub sent it ``now``: the server-side timestamps a production
    environment judges an event's age by (opswire.deployments.replay.event_time) set to it. The
    examples were recorded years ago, so unchanged they are exactly the replayed old bodies
    production refuses."""
    moment = now or datetime.now(UTC)
    iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if event == "push":
        return {
            **payload,
            "repository": {**payload["repository"], "pushed_at": int(moment.timestamp())},
        }
    if event == "release":
        return {**payload, "release": {**payload["release"], "published_at": iso}}
    if event == "workflow_run":
        return {**payload, "workflow_run": {**payload["workflow_run"], "updated_at": iso}}
    return payload
