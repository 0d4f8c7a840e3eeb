"""``opswire demo``: the alarm workflow's behaviours (CloudWatch alarms and operational events:
a GuardDuty finding opened, updated and archived, an AWS Health event, an ECS deployment failure)
and two deployments, one scenario each, on the local platform.

The event scenarios put the EventBridge events on the default bus, where the template's
operational-event rules (``OpsEventKinds``) start the alarm workflow.

Each scenario delivers sample events from ``events/`` (or lets time pass) and states what it
expects; it passes when nothing failed and exactly the expected Slack calls and emails were seen.
The demo stack uses a routing table with one-minute reminders, which pass in 3 s (time scale 0.05),
and the deploy config of ``examples/deploy-config.json`` (moto ECS services).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opswire.alarms.models.incident import Silence
from opswire_cli.silences import platform_incident_store
from opswire_local.platform import DeliveryReport, LocalPlatform
from opswire_local.stack import LOCAL_SLACK_APP
from opswire_local.template import REGION

DEMO_ROUTING = {
    # Events (a route with a severity takes no alarm): no reminders in the demo, so a Health
    # event or a failed deployment does not remind into the scenarios that follow.
    "routes": [{"match": {"severity": ["critical", "high", "medium", "low", "info"]}}],
    "default": {
        "severity": "warning",
        "renotify_minutes": 1,
        "escalation": [{"after_minutes": 2, "email": ["oncall-lead@example.com"]}],
    },
    "max_reminders": 2,
    "flapping_transitions": 3,
}
DEMO_TIME_SCALE = 0.05
ALARM = "events/sns/alarm-metric-alarm.json"
OTHER_ALARM = "events/sns/alarm-metric-math.json"


@dataclass(frozen=True)
class Step:
    source: str | None  # None = let time pass
    event_file: str | None = None
    reminders: int = 0  # reminder intervals to wait when source is None


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    expected: str
    slack_calls: int
    emails: int


SCENARIOS = (
    Scenario(
        "alarm fires: SNS -> one incident -> Slack message (with Acknowledge) + email",
        (Step("sns:AlarmTopic", ALARM),),
        "1 Slack message, 1 email",
        slack_calls=1,
        emails=1,
    ),
    Scenario(
        "the same change through EventBridge: one incident, nothing new",
        (Step("eventbridge", "events/eventbridge/alarm-metric-alarm.json"),),
        "nothing (duplicate)",
        slack_calls=0,
        emails=0,
    ),
    Scenario(
        "still in ALARM, nobody acknowledged: reminders in the thread, then escalation",
        (Step(None, reminders=2),),
        "2 thread replies (+ root updates), 2 emails in the thread (the 2nd also to the lead)",
        slack_calls=2,
        emails=2,
    ),
    Scenario(
        "resolved: the Slack message turns green in place, the email thread gets the news",
        (Step("sns:AlarmTopic", "events/sns/alarm-metric-resolved.json"),),
        "root message updated + 1 thread reply, 1 email reply",
        slack_calls=2,
        emails=1,
    ),
    Scenario(
        "flapping: six changes in 15 minutes become one 'flapping' notice, then quiet",
        tuple(
            Step("sns:AlarmTopic", f"events/sns/alarm-flapping-{i}-{state}.json")
            for i, state in enumerate(["alarm", "ok"] * 3, start=1)
        ),
        "opened, resolved, opened, then 1 flapping notice; nothing for changes 5 and 6",
        slack_calls=6,
        emails=4,
    ),
    Scenario(
        "acknowledged in Slack: no more reminders",
        (Step("sns:AlarmTopic", OTHER_ALARM), Step("ack"), Step(None, reminders=2)),
        "1 Slack message + 1 email; the click: a thread reply, and the message loses its "
        "button and says who acknowledged; then silence",
        slack_calls=3,
        emails=1,
    ),
    Scenario(
        "GuardDuty finding (severity 5) published to AlarmTopic: a MEDIUM incident",
        (Step("eventbridge", "events/eventbridge/guardduty-finding.json"),),
        "1 Slack message (instance with its console link, raw finding folded) + 1 email",
        slack_calls=1,
        emails=1,
    ),
    Scenario(
        "the same finding updated (14 occurrences, severity 8): one thread, no new incident",
        (Step("eventbridge", "events/eventbridge/guardduty-finding-updated.json"),),
        "1 thread reply + the root updated; 1 email reply (the severity rose)",
        slack_calls=2,
        emails=1,
    ),
    Scenario(
        "the finding archived in GuardDuty: the incident resolves",
        (Step("eventbridge", "events/eventbridge/guardduty-finding-archived.json"),),
        "1 thread reply + the root turned green; 1 email reply",
        slack_calls=2,
        emails=1,
    ),
    Scenario(
        "AWS Health issue opened, then closed by AWS: opened, then resolved in place",
        (
            Step("eventbridge", "events/eventbridge/health-event-open.json"),
            Step("eventbridge", "events/eventbridge/health-event-closed.json"),
        ),
        "1 Slack message + 1 email; then 1 thread reply + the root turned green, 1 email reply",
        slack_calls=3,
        emails=2,
    ),
    Scenario(
        "ECS deployment failed (circuit breaker), then the next deployment completed",
        (
            Step("eventbridge", "events/eventbridge/ecs-deployment-failed.json"),
            Step("eventbridge", "events/eventbridge/ecs-deployment-completed.json"),
        ),
        "1 Slack message + 1 email; then the failure resolves: 1 reply + root update, 1 email",
        slack_calls=3,
        emails=2,
    ),
)


def run_demo(platform: LocalPlatform) -> list[dict[str, Any]]:
    """Every scenario, in order, on ``platform`` (without the operator's silences: they would
    silence the demo's alarms)."""
    results = [_run(platform, scenario) for scenario in SCENARIOS]
    results.append(_run_silenced(platform))
    results.extend(_run_deployments(platform))
    return results


def _run(platform: LocalPlatform, scenario: Scenario) -> dict[str, Any]:
    reports = [_step(platform, step) for step in scenario.steps]
    return _result(scenario.name, scenario.expected, reports, scenario.slack_calls, scenario.emails)


def _run_silenced(platform: LocalPlatform) -> dict[str, Any]:
    """A silence for ``orders-*`` in the incident table (written through its IncidentStore, as
    ``opswire silence add`` writes it), then that alarm fires."""
    now = datetime.now(UTC)
    store = platform_incident_store(platform)
    assert store is not None, "the demo needs the stack's IncidentTable"
    store.put_silence(
        Silence(
            silence_id="demo-maintenance",
            name_pattern="orders-*",
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            created_by="opswire demo",
            reason="database maintenance",
        )
    )
    report = _step(platform, Step("eventbridge", "events/eventbridge/alarm-composite.json"))
    return _result(
        "silenced: 'orders-*' under maintenance -> recorded, nobody told",
        "nothing",
        [report],
        slack_calls=0,
        emails=0,
    )


def _run_deployments(platform: LocalPlatform) -> list[dict[str, Any]]:
    """A signed push deploys to staging; a signed release waits for approval in prod until an
    approver clicks Approve in the deployment's Slack thread."""
    from opswire.deployments.models import APPROVE_ACTION_ID

    pushed = _github(platform, "push", "events/github/push-master.json")
    push = _result(
        "GitHub push to master -> ECS staging: new revision PRIMARY + COMPLETED, baked",
        "7 Slack messages in one thread (one per stage) and 1 email",
        [pushed],
        slack_calls=7,
        emails=1,
    )
    released = _github(platform, "release", "events/github/release-published.json")
    platform.outbox.add_user("U0OPSLEAD", "ops-lead@example.com")
    [approval] = [
        m
        for m in released.notifications
        if m["channel"] == "slack" and (m.get("payload") or {}).get("blocks")
    ]
    body, headers = slack_interaction(
        approval["payload"]["blocks"][1]["elements"][0]["value"],
        "ops-lead",
        action_id=APPROVE_ACTION_ID,
        user_id="U0OPSLEAD",
        message={**approval, **approval["payload"]},
    )
    approved = platform.send("http:POST /slack/interactions", body, headers=headers)
    release = _result(
        "GitHub release -> prod waits for approval -> Approve in Slack -> deployed",
        "3 Slack messages (the last with Approve/Reject) + 1 approval email; the click turns "
        "the buttons into 'Approved by'; 5 more messages + 1 email",
        [released, approved],
        slack_calls=9,
        emails=2,
    )
    return [push, release]


def _github(platform: LocalPlatform, event: str, event_file: str) -> DeliveryReport:
    """A webhook delivery as GitHub signs it (the local stack's webhook secret)."""
    from opswire_local.deploy_local import LOCAL_GITHUB_WEBHOOK_SECRET

    body = _sent_now(event, (platform.options.root / event_file).read_bytes())
    secret = os.environ.get("GITHUB_WEBHOOK_SECRET") or LOCAL_GITHUB_WEBHOOK_SECRET
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256="
        + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    return platform.send("http:POST /webhooks/github", body, headers=headers, event_file=event_file)


def _sent_now(event: str, body: bytes) -> bytes:
    """The sample event as GitHub would send it now: production refuses a push or release
    older than the deploy config's max_event_age_seconds (docs/deployments.md), by the time
    GitHub put in the payload (push ``repository.pushed_at``, release ``published_at``)."""
    payload = json.loads(body)
    if event == "push" and isinstance(payload.get("repository"), dict):
        payload["repository"]["pushed_at"] = int(time.time())
    if event == "release" and isinstance(payload.get("release"), dict):
        payload["release"]["published_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(payload, indent=2).encode()


def _step(platform: LocalPlatform, step: Step) -> DeliveryReport:
    if step.source is None:
        interval = 60 * platform.options.time_scale
        return platform.wait(interval * step.reminders + interval / 2)
    if step.source == "ack":
        clicked = platform.outbox.conversation()[-1]  # the incident's message, as Slack has it
        body, headers = slack_interaction(
            open_incident_id(platform), user="demo-user", message=clicked
        )
        return platform.send("http:POST /slack/interactions", body, headers=headers)
    assert step.event_file is not None
    path = platform.options.root / step.event_file
    return platform.send(step.source, path.read_bytes(), event_file=step.event_file)


def _result(
    name: str, expected: str, reports: list[DeliveryReport], slack_calls: int, emails: int
) -> dict[str, Any]:
    notifications = [n for report in reports for n in report.notifications]
    slack = sum(1 for n in notifications if n["channel"] == "slack")
    mails = sum(1 for n in notifications if n["channel"] == "email")
    problems = [error for report in reports for error in report.errors]
    problems += [
        f"execution {e['name']} {e['status']}: {e.get('error')}"
        for report in reports
        for e in report.executions
        if e["status"] == "FAILED"
    ]
    if (slack, mails) != (slack_calls, emails):
        problems.append(
            f"saw {slack} Slack call(s) and {mails} email(s), expected {slack_calls} and {emails}"
        )
    return {
        "name": name,
        "expected": expected,
        "ok": not problems,
        "problems": problems,
        "deliveries": [report.to_json() for report in reports],
    }


def open_incident_id(platform: LocalPlatform) -> str:
    """The newest open incident (the one the scenario just raised)."""
    import boto3

    table = platform.describe()["tables"]["IncidentTable"]
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    incidents = [
        json.loads(item["data"]["S"]) for item in items if item["pk"]["S"].startswith("INCIDENT#")
    ]
    newest = max(
        (i for i in incidents if i["state"] == "ALARM"), key=lambda i: i["last_notified_at"] or ""
    )
    return f"{newest['key']}-{newest['episode']}"


def slack_interaction(
    value: str,
    user: str,
    *,
    action_id: str = "acknowledge",
    user_id: str = "U0DEMO",
    message: dict[str, Any] | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A Slack button click as Slack sends it, signed with the local app's secret: by default
    "Acknowledge" on incident ``value``; ``message``: the clicked message as the local Slack
    holds it (``channel_id``, ``ts``, ``text``, ``attachments``, ``blocks``), sent along with
    the click like Slack does."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user, "name": user},
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
    }
    if message is not None:
        payload["container"] = {
            "type": "message",
            "channel_id": message["channel_id"],
            "message_ts": message["ts"],
            **({"thread_ts": message["thread_ts"]} if message.get("thread_ts") else {}),
        }
        payload["message"] = {
            key: message.get(key) for key in ("ts", "text", "attachments", "blocks")
        }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(
        LOCAL_SLACK_APP["signing_secret"].encode(), f"v0:{timestamp}:".encode() + body, "sha256"
    ).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    return body, headers
