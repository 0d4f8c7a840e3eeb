"""Approving or rejecting a deployment that waits in its approval task (waitForTaskToken).

Links in the approvers' email: ``{base}/deployments/{id}/{approve|reject}?approver=&exp=&sig=``
with ``sig`` = HMAC-SHA256 over ``"{id}.{decision}.{approver}.{exp}"`` (the stack's ack key). GET
shows a confirmation page (mail scanners follow links); POST decides. The CLI decides directly.
Rules: the approver is on the environment's allow-list, and is not the requester.
"""

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlencode

Decision = Literal["approve", "reject"]
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
    message = f"{deployment_id}.{decision}.{approver}.{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


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
) -> ApprovalAnswer:
    """Approve or reject for ``approver``; resumes the workflow through its task token."""
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
    if approver.lower() == str(record.get("requester", "")).lower():
        return ApprovalAnswer(403, "the requester cannot approve their own deployment")
    output = {"approved": decision == "approve", "by": approver, "at": now.isoformat()}
    version = int(record.get("version", 0))
    # Claim the decision first (conditional write): two approvers cannot both resume the task.
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
    if not callback.succeed(token, output):
        return ApprovalAnswer(409, "the approval request has expired")
    verb = "approved" if decision == "approve" else "rejected"
    return ApprovalAnswer(200, f"deployment {deployment_id} {verb} by {approver}")


class HistoryStore(Store, Protocol):
    def history(self, limit: int = 50) -> list[dict[str, Any]]: ...


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
    request: Mapping[str, Any], store: HistoryStore, callback: TaskCallback, now: datetime
) -> dict[str, Any]:
    """``opswire deploy history|status|approve|reject`` as one request (the CLI invokes it in
    a local stack; against a deployed stack it runs with the caller's credentials)."""
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
    return {"error": f"unknown operation {operation!r}"}
