"""``opswire demo``: one scenario per workflow, run against the local platform.

Each scenario delivers sample events from ``events/`` and states what it expects; a scenario
passes when every execution succeeded and the expected notifications were seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opswire_local.platform import LocalPlatform


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    event_files: tuple[str, ...]
    expected: str
    slack_messages: int
    emails: int


SCENARIOS = (
    Scenario(
        name="alarm fires: CloudWatch -> AlarmTopic -> workflow -> Slack + email",
        source="sns:AlarmTopic",
        event_files=("events/sns/alarm-metric-alarm.json",),
        expected="1 Slack message (red) and 1 email",
        slack_messages=1,
        emails=1,
    ),
    Scenario(
        name="same alarm again (a second CloudWatch notification while in ALARM)",
        source="sns:AlarmTopic",
        event_files=("events/sns/alarm-metric-alarm.json",),
        expected="notified again: deduplication is not built yet (issue: alarm handling)",
        slack_messages=1,
        emails=1,
    ),
    Scenario(
        name="alarm resolves: OK through EventBridge",
        source="eventbridge",
        event_files=("events/eventbridge/alarm-metric-ok.json",),
        expected="1 Slack message (green) and 1 email",
        slack_messages=1,
        emails=1,
    ),
)


def run_demo(platform: LocalPlatform) -> list[dict[str, Any]]:
    results = []
    for scenario in SCENARIOS:
        reports = [
            platform.send(
                scenario.source,
                (platform.options.root / path).read_bytes(),
                event_file=path,
            )
            for path in scenario.event_files
        ]
        notifications = [n for report in reports for n in report.notifications]
        slack = sum(1 for n in notifications if n["channel"] == "slack")
        emails = sum(1 for n in notifications if n["channel"] == "email")
        problems = [error for report in reports for error in report.errors]
        problems += [
            f"execution {e['name']} {e['status']}: {e.get('error')}"
            for report in reports
            for e in report.executions
            if e["status"] != "SUCCEEDED"
        ]
        if not any(report.executions for report in reports):
            problems.append("no workflow execution was started")
        if (slack, emails) != (scenario.slack_messages, scenario.emails):
            problems.append(
                f"saw {slack} Slack message(s) and {emails} email(s), expected "
                f"{scenario.slack_messages} and {scenario.emails}"
            )
        results.append(
            {
                "name": scenario.name,
                "expected": scenario.expected,
                "ok": not problems,
                "problems": problems,
                "deliveries": [report.to_json() for report in reports],
            }
        )
    return results
