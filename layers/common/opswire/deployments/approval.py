"""Approving or rejecting a deployment that waits in its approval task (waitForTaskToken).

Three ways in, one rule set (``decide``):
- links in the approvers' email: ``{base}/deployments/{id}/{approve|reject}?approver=&exp=&sig=``
  with ``sig`` = HMAC-SHA256 over ``"{id}.{decision}.{approver}.{exp}"`` (the stack's ack key).
  GET shows a confirmation page (mail scanners follow links); POST decides;
- the Approve / Reject buttons in the deployment's Slack thread (``decide_from_slack``): the
  clicking member is the approver when their Slack user id, or the email of their Slack profile,
  is on the allow-list;
- ``opswire deploy approve|reject`` (``operate``).
Rules: the approver is on the environment's allow-list, and is not the requester (by name or, for
a push, by the pusher's email).
"""

import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote, urlencode

from opswire.channels.signed_links import link_hmac
from opswire.core.errors import DeploymentStoreRetryableError, OpswireError
from opswire.core.observability import logger
from opswire.deployments.models import APPROVE_ACTION_ID, REJECT_ACTION_ID

if TYPE_CHECKING:
    from opswire.deployments.webhook import DeployRequest

Decision = Literal["approve", "reject"]
DECISION_OF_ACTION: dict[str, Decision] = {APPROVE_ACTION_ID: "approve", REJECT_ACTION_ID: "reject"}
_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_SIG = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ApprovalAnswer:
    status: int
    message: str


class Store(Protocol):
    def get(self, deployment_id: str) -> dict[str, Any] | None: ...
    def put(self, deployment_id: str, document: dict[str, Any], expected_version: int) -> None: ...


class TaskCallback(Protocol):
    def succeed(self, task_token: str, output: dict[str, Any]) -> bool:
        """SendTaskSuccess; False when the task no longer waits (timed out, decided)."""
        ...


def link_signature(
    deployment_id: str, decision: str, approver: str, expires: int | str, key: str
) -> str:
    return link_hmac(key, deployment_id, decision, approver, expires)


def approval_link(
    base_url: str,
    deployment_id: str,
    decision: str,
    approver: str,
    key: str,
    now: datetime,
    ttl_seconds: int,
) -> str:
    expires = int(now.timestamp()) + ttl_seconds
    query = urlencode(
        {
            "approver": approver,
            "exp": expires,
            "sig": link_signature(deployment_id, decision, approver, expires, key),
        }
    )
    return f"{base_url.rstrip('/')}/deployments/{quote(deployment_id, safe='')}/{decision}?{query}"


def verify_link(
    deployment_id: str, decision: str, params: Mapping[str, str | None], key: str, now: datetime
) -> str | ApprovalAnswer:
    """The approver the link names, or the refusal (403/400/410)."""
    approver = params.get("approver") or ""
    expires = params.get("exp") or ""
    signature = params.get("sig") or ""
    if not _ID.fullmatch(deployment_id) or decision not in ("approve", "reject"):
        return ApprovalAnswer(400, "malformed link")
    if not approver or not expires.isdigit() or len(expires) > 12 or not _SIG.fullmatch(signature):
        return ApprovalAnswer(403, "the link is not signed")
    expected = link_signature(deployment_id, decision, approver, expires, key)
    if not hmac.compare_digest(expected, signature):
        return ApprovalAnswer(403, "the link is not valid")
    if int(expires) <= int(now.timestamp()):
        return ApprovalAnswer(410, "the link has expired")
    return approver


def confirmation_page(
    deployment_id: str, decision: str, params: Mapping[str, str | None], key: str, now: datetime
) -> ApprovalAnswer:
    verified = verify_link(deployment_id, decision, params, key, now)
    if isinstance(verified, ApprovalAnswer):
        return verified
    hidden = "".join(
        f'<input type="hidden" name="{n}" value="{escape(params.get(n) or "")}">'
        for n in ("approver", "exp", "sig")
    )
    return ApprovalAnswer(
        200,
        (
            f"<!doctype html><title>opswire</title><p>{escape(decision.title())} deployment "
            f"{escape(deployment_id)} as {escape(verified)}?</p><form method=post>{hidden}"
            f"<button>{escape(decision.title())}</button></form>"
        ),
    )


def decide(
    deployment_id: str,
    decision: Decision,
    approver: str,
    store: Store,
    callback: TaskCallback,
    now: datetime,
    also_known_as: Sequence[str] = (),
) -> ApprovalAnswer:
    """Approve or reject for ``approver`` (``also_known_as``: the same person's other
    identities, for the requester check); resumes the workflow through its task token."""
    record = store.get(deployment_id)
    if record is None:
        return ApprovalAnswer(404, f"no deployment {deployment_id}")
    token = str(record.get("task_token") or "")
    if record.get("status") != "awaiting_approval" or not token:
        return ApprovalAnswer(
            409,
            f"deployment {deployment_id} is not waiting for approval "
            f"(status {record.get('status')})",
        )
    approvers = [a.lower() for a in (record.get("approvers") or [])]
    if approver.lower() not in approvers:
        return ApprovalAnswer(403, f"{approver} is not an approver of {record.get('environment')}")
    requester = {str(record.get(k) or "").lower() for k in ("requester", "requester_email")}
    if {i.lower() for i in (approver, *also_known_as) if i} & (requester - {""}):
        return ApprovalAnswer(403, "the requester cannot approve their own deployment")
    output = {"approved": decision == "approve", "by": approver, "at": now.isoformat()}
    version = int(record.get("version", 0))
    # Claim the decision first (conditional write): two approvers cannot both resume the task.
    try:
        store.put(
            deployment_id,
            {
                **record,
                "task_token": "",
                "status": f"{decision}d",
                "decided_by": approver,
                "updated_at": now.isoformat(),
            },
            version,
        )
    except DeploymentStoreRetryableError:
        return ApprovalAnswer(409, f"deployment {deployment_id} changed meanwhile: look again")
    if not callback.succeed(token, output):
        return ApprovalAnswer(409, "the approval request has expired")
    verb = "approved" if decision == "approve" else "rejected"
    return ApprovalAnswer(200, f"deployment {deployment_id} {verb} by {approver}")


# ---- Slack buttons ------------------------------------------------------------------------------
class SlackApprovals(Protocol):
    """The Slack app's bot (opswire.channels.slack.SlackBot)."""

    def email_of(self, user_id: str) -> str: ...
    def update_message(self, *, channel: str, ts: str, payload: dict[str, Any]) -> None: ...
    def post_ephemeral(
        self, *, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> None: ...


def approval_blocks(text: str, deployment_id: str) -> list[dict[str, Any]]:
    """The approval request with Approve / Reject buttons (their value is the deployment id)."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": "deployment_approval",
            "elements": [
                {
                    "type": "button",
                    "action_id": APPROVE_ACTION_ID,
                    "text": {"type": "plain_text", "text": "Approve"},
                    "style": "primary",
                    "value": deployment_id,
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Approve the deployment?"},
                        "text": {"type": "plain_text", "text": f"Deploy {deployment_id} now."},
                        "confirm": {"type": "plain_text", "text": "Approve"},
                        "deny": {"type": "plain_text", "text": "Cancel"},
                    },
                },
                {
                    "type": "button",
                    "action_id": REJECT_ACTION_ID,
                    "text": {"type": "plain_text", "text": "Reject"},
                    "style": "danger",
                    "value": deployment_id,
                },
            ],
        },
    ]


def decide_from_slack(
    payload: Mapping[str, Any],
    action: Mapping[str, Any],
    store: Store,
    callback: TaskCallback,
    slack: SlackApprovals,
    now: datetime,
) -> ApprovalAnswer:
    """A click on Approve / Reject (a verified Slack interaction). On success the clicked
    message loses its buttons and says who decided; a refusal is shown to the clicker only."""
    decision = DECISION_OF_ACTION[str(action.get("action_id"))]
    deployment_id = str(action.get("value") or "")
    user_id = str(_object(payload.get("user")).get("id") or "")
    container = _object(payload.get("container"))
    channel = str(container.get("channel_id") or "")
    message_ts = str(container.get("message_ts") or "")
    answer = _slack_decision(deployment_id, decision, user_id, store, callback, slack, now)
    if not channel or not message_ts:
        return answer
    # Best effort: the decision is made (or refused) already; Slack failing to show it must not
    # turn into an error for the person who clicked.
    try:
        if answer.status == 200:
            verb = "Approved" if decision == "approve" else "Rejected"
            icon = ":white_check_mark:" if decision == "approve" else ":no_entry:"
            text = f"{icon} {verb} by <@{user_id}> ({deployment_id})."
            slack.update_message(
                channel=channel, ts=message_ts, payload={"text": text, "blocks": []}
            )
        else:
            slack.post_ephemeral(
                channel=channel,
                user=user_id,
                text=answer.message,
                thread_ts=str(container.get("thread_ts") or message_ts),
            )
    except OpswireError as exc:
        logger.warning("deployment decision not shown in Slack", extra={"reason": str(exc)})
    return answer


def _object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _slack_decision(
    deployment_id: str,
    decision: Decision,
    user_id: str,
    store: Store,
    callback: TaskCallback,
    slack: SlackApprovals,
    now: datetime,
) -> ApprovalAnswer:
    if not _ID.fullmatch(deployment_id) or not user_id:
        return ApprovalAnswer(400, "the button carries no deployment id or user")
    record = store.get(deployment_id)
    if record is None:
        return ApprovalAnswer(404, f"no deployment {deployment_id}")
    approvers = {str(a).lower() for a in (record.get("approvers") or [])}
    try:
        email = slack.email_of(user_id)
    except OpswireError as exc:  # e.g. the app lacks users:read.email: Slack ids still work
        logger.warning("Slack profile email not available", extra={"reason": str(exc)})
        email = ""
    approver = next((i for i in (user_id, email) if i and i.lower() in approvers), "")
    if not approver:
        return ApprovalAnswer(
            403,
            f"you are not an approver of {record.get('environment')} (the allow-list names "
            "Slack user ids or the emails of Slack profiles)",
        )
    return decide(
        deployment_id, decision, approver, store, callback, now, also_known_as=(user_id, email)
    )


class HistoryStore(Store, Protocol):
    def history(self, limit: int = 50) -> list[dict[str, Any]]: ...


class WorkflowStarter(Protocol):
    def start(
        self, name: str, request: "DeployRequest", extra_input: dict[str, Any] | None = None
    ) -> bool:
        """Start execution ``name``; False when it exists already."""
        ...


FollowUpKind = Literal["override", "redeploy"]
# Where a follow-up of each kind is counted and listed on the original deployment's record.
_FOLLOW_UP_KEYS: dict[FollowUpKind, tuple[str, str]] = {
    "override": ("overrides_started", "overrides"),
    "redeploy": ("redeploys_started", "redeploys"),
}


@dataclass(frozen=True)
class FollowUp:
    """A new deployment that runs a finished one again (``opswire deploy override`` or
    ``redeploy``): ``<id>-<kind>-<number>``, the number counted on the original record."""

    kind: FollowUpKind
    number: int
    deployment_id: str


def next_follow_up(
    deployment_id: str,
    record: Mapping[str, Any],
    kind: FollowUpKind,
    by: str,
) -> FollowUp | dict[str, Any]:
    """The next follow-up of ``kind`` that ``by`` asks for, or the refusal (403) when the
    environment names approvers and ``by`` is not one of them."""
    approvers = [str(a).lower() for a in (record.get("approvers") or [])]
    if approvers and by.lower() not in approvers:
        return {"status": 403, "message": f"{by} is not an approver of {record['environment']}"}
    number = int(record.get(_FOLLOW_UP_KEYS[kind][0], 0)) + 1
    return FollowUp(kind, number, f"{deployment_id}-{kind}-{number}"[-80:])


def claim_follow_up(
    store: Store,
    deployment_id: str,
    record: Mapping[str, Any],
    follow_up: FollowUp,
    audit: dict[str, Any],
    now: datetime,
) -> dict[str, Any] | None:
    """Claim ``follow_up``'s number on the original record, with ``audit`` (who, why, when) and
    the new id (conditional write): one new deployment per call. The refusal (409) when the
    record changed meanwhile, else None."""
    started_key, list_key = _FOLLOW_UP_KEYS[follow_up.kind]
    try:
        store.put(
            deployment_id,
            {
                **record,
                started_key: follow_up.number,
                list_key: [
                    *record.get(list_key, []),
                    {**audit, "deployment_id": follow_up.deployment_id},
                ],
                "updated_at": now.isoformat(),
            },
            int(record.get("version", 0)),
        )
    except DeploymentStoreRetryableError:
        return {"status": 409, "message": f"deployment {deployment_id} changed meanwhile"}
    return None


def override_alarms(
    deployment_id: str,
    reason: str,
    by: str,
    store: Store,
    workflow: WorkflowStarter,
    now: datetime,
    principal: str = "",
) -> dict[str, Any]:
    """Run a deployment that firing alarms blocked again, as a new deployment whose pre-flight
    lets the alarms pass. Audited: who (``by`` and the AWS ``principal`` when known), why and
    when are kept on both records and said in the new deployment's Slack thread. Approval, the
    rollout checks and the bake are unchanged (the bake still fails on a firing alarm)."""
    from opswire.deployments.webhook import DeployRequest

    reason = " ".join(reason.split())
    if not reason or len(reason) > 300:
        return {"status": 400, "message": "an override needs a reason (1-300 characters)"}
    record = store.get(deployment_id)
    if record is None:
        return {"status": 404, "message": f"no deployment {deployment_id}"}
    if record.get("outcome") != "blocked":
        return {
            "status": 409,
            "message": f"deployment {deployment_id} was not blocked before deploying "
            f"(outcome {record.get('outcome') or record.get('status')}): nothing to override",
        }
    follow_up = next_follow_up(deployment_id, record, "override", by)
    if isinstance(follow_up, dict):
        return follow_up
    new_id = follow_up.deployment_id
    audit = {"by": by, "principal": principal, "reason": reason, "at": now.isoformat()}
    if refusal := claim_follow_up(store, deployment_id, record, follow_up, audit, now):
        return refusal
    fields = {k: record[k] for k in DeployRequest.model_fields if k in record}
    request = DeployRequest.model_validate({**fields, "deployment_id": new_id})
    workflow.start(new_id, request, {"alarm_override": audit})
    return {
        "status": 202,
        "message": f"started {new_id}: {deployment_id} again, alarms overridden by {by}",
        "deployment_id": new_id,
    }


def public_record(record: dict[str, Any]) -> dict[str, Any]:
    """A deployment record without its task token (which would let its holder decide)."""
    return {k: v for k, v in record.items() if k != "task_token"}


def summary(record: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "deployment_id",
        "created_at",
        "status",
        "environment",
        "repository",
        "ref",
        "image_tag",
        "requester",
        "decided_by",
    )
    return {k: record.get(k, "") for k in keys}


def operate(
    request: Mapping[str, Any],
    store: HistoryStore,
    callback: TaskCallback,
    workflow: WorkflowStarter,
    now: datetime,
    principal: str = "",
) -> dict[str, Any]:
    """``opswire deploy history|status|approve|reject|override|redeploy`` as one request (the CLI
    invokes it in a local stack; against a deployed stack it runs with the caller's
    credentials, and ``principal`` is the caller's AWS identity)."""
    operation = str(request.get("operation", ""))
    deployment_id = str(request.get("deployment_id", ""))
    if operation == "history":
        limit = int(request.get("limit") or 20)
        return {"deployments": [summary(r) for r in store.history(limit)]}
    if operation == "status":
        record = store.get(deployment_id)
        if record is None:
            return {"error": f"no deployment {deployment_id}"}
        return {"deployment": public_record(record)}
    if operation in ("approve", "reject"):
        answer = decide(
            deployment_id,
            "approve" if operation == "approve" else "reject",
            str(request.get("approver", "")),
            store,
            callback,
            now,
        )
        return {"status": answer.status, "message": answer.message}
    if operation == "override":
        return override_alarms(
            deployment_id,
            str(request.get("reason", "")),
            str(request.get("by", "")),
            store,
            workflow,
            now,
            principal,
        )
    if operation == "redeploy":
        from opswire.deployments.redeploy import redeploy

        return redeploy(
            deployment_id,
            str(request.get("reason", "")),
            str(request.get("by", "")),
            store,
            workflow,
            now,
            principal,
        )
    return {"error": f"unknown operation {operation!r}"}
