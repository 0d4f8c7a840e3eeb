"""``opswire deploy redeploy ID``: deploy what a finished deployment deployed once more.

The webhook refuses a (repository, environment, commit) that already deployed successfully, and,
for production, an event that is too old (opswire.deployments.replay): deploying it again is an
operator's explicit, audited request. The new deployment runs the whole workflow (pre-flight,
approval by someone other than the operator who asked, lock, rollout, bake).
"""

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from opswire.deployments.approval import Store, WorkflowStarter, claim_follow_up, next_follow_up
from opswire.deployments.webhook import DeployRequest


def redeploy(
    deployment_id: str,
    reason: str,
    by: str,
    store: Store,
    workflow: WorkflowStarter,
    now: datetime,
    principal: str = "",
) -> dict[str, Any]:
    """Start ``<id>-redeploy-<n>``: the request of the finished deployment ``deployment_id``,
    requested by ``by`` (who therefore cannot approve it). Who (``by``, the AWS ``principal``
    when known), why and when are kept on the original record."""
    reason = " ".join(reason.split())
    if not reason or len(reason) > 300:
        return {"status": 400, "message": "a redeploy needs a reason (1-300 characters)"}
    if not by.strip():
        return {"status": 400, "message": "a redeploy needs the name of who asks (--as)"}
    record = store.get(deployment_id)
    if record is None:
        return {"status": 404, "message": f"no deployment {deployment_id}"}
    if not record.get("outcome"):
        return {
            "status": 409,
            "message": f"deployment {deployment_id} has not finished "
            f"(status {record.get('status')}): nothing to redeploy yet",
        }
    follow_up = next_follow_up(deployment_id, record, "redeploy", by)
    if isinstance(follow_up, dict):
        return follow_up
    new_id = follow_up.deployment_id
    fields = {k: record[k] for k in DeployRequest.model_fields if k in record}
    try:
        request = DeployRequest.model_validate(
            {**fields, "deployment_id": new_id, "requester": by, "requester_email": ""}
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return {"status": 422, "message": f"deployment {deployment_id} cannot run: {problems}"}
    audit = {"by": by, "principal": principal, "reason": reason, "at": now.isoformat()}
    if refusal := claim_follow_up(store, deployment_id, record, follow_up, audit, now):
        return refusal
    if not workflow.start(new_id, request, {"redeploy": audit}):
        return {"status": 409, "message": f"{new_id} was started already"}
    return {
        "status": 202,
        "message": f"started {new_id}: {deployment_id} ({record.get('image_tag')} to "
        f"{record.get('environment')}) again, asked by {by}",
        "deployment_id": new_id,
    }
