"""POST /webhooks/github: verify, filter, deduplicate, start the deployment workflow.

Order matters: the size limit and the signature come first (an unsigned request learns nothing
about our config), then the JSON, then the config and the replay rules that need no state (the
image tag, a production event's age), then the conditional writes (the delivery id, the body
digest, the claim on the commit; opswire.deployments.replay) and only then the workflow start,
whose execution name derives from the delivery id. Bad input never yields a 5xx; only our own
dependencies failing do (GitHub redelivers then).
"""

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from opswire.channels.http_input import BadInput, json_object
from opswire.deployments.config import DeployConfig, DeployRule
from opswire.deployments.replay import (
    DOCKER_TAG_PATTERN,
    ImageTagError,
    age_problem,
    body_digest,
    commit_key,
    image_tag_problem,
)

_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
_DELIVERY = re.compile(r"^[A-Za-z0-9-]{1,64}$")


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict[str, Any]


class DeployRequest(BaseModel):
    """What the workflow starts with (its execution input)."""

    model_config = ConfigDict(frozen=True)

    deployment_id: str
    delivery_id: str
    repository: str
    event: str
    ref: str
    sha: str
    image_tag: str = Field(pattern=DOCKER_TAG_PATTERN)
    """Docker's tag grammar: whatever starts a workflow (webhook, redeploy, override) is refused
    a tag with NUL, right-to-left or other odd characters before anything deploys."""
    environment: str
    requester: str
    requester_email: str = ""
    """push: the pusher's email, so the requester cannot approve under that identity either."""


class DeliveryLog(Protocol):
    def record(self, delivery_id: str, event: str, repository: str) -> bool:
        """Conditional write; False when the delivery was recorded before."""
        ...

    def forget(self, delivery_id: str) -> None:
        """Remove the record (the workflow could not be started: let GitHub redeliver)."""
        ...


class ReplayLog(Protocol):
    """Conditional writes in the deployment table that refuse a replayed body."""

    def record_body(self, digest: str, delivery_id: str) -> bool:
        """False when a delivery with this body digest was recorded before."""
        ...

    def forget_body(self, digest: str, delivery_id: str) -> None:
        """Remove the digest if ``delivery_id`` recorded it."""
        ...

    def claim_commit(self, key: str, deployment_id: str) -> str:
        """Claim the commit key for ``deployment_id``: "" when claimed, else the id of the
        deployment that already deployed it successfully."""
        ...

    def forget_commit(self, key: str, deployment_id: str) -> None:
        """Remove the claim if ``deployment_id`` still holds it (and nothing succeeded)."""
        ...


class WorkflowStarter(Protocol):
    def start(self, name: str, request: DeployRequest) -> bool:
        """Start an execution named ``name``; False when one with that name exists."""
        ...


def signature_is_valid(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>`` against each secret, all compared in constant
    time (the previous secret stays valid during a change). SHA-1 ``X-Hub-Signature`` alone
    is never accepted."""
    match = _SIGNATURE.fullmatch((header or "").strip())
    if match is None:
        return False
    given = match.group(1).lower()
    valid = False
    for secret in secrets:
        if not secret:
            continue
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        valid |= hmac.compare_digest(expected, given)
    return valid


def execution_name(delivery_id: str) -> str:
    """The execution name: a function of the delivery id only (a duplicate cannot start twice)."""
    return f"gh-{delivery_id}"[:80]


def match_rule(event: str, payload: Mapping[str, Any], config: DeployConfig) -> DeployRule | str:
    """The first rule this event matches, or the reason it is ignored."""
    repository = _object(payload, "repository").get("full_name")
    if not isinstance(repository, str) or not repository:
        return "the payload names no repository"
    rules = [r for r in config.rules if r.repository.lower() == repository.lower()]
    if not rules:
        return f"repository {repository} is not in the deploy config"
    rules = [r for r in rules if r.event == event]
    if not rules:
        return f"event {event!r} does not deploy {repository}"
    for rule in rules:
        reason = _rule_refuses(rule, event, payload)
        if reason is None:
            return rule
    return reason or "no rule matches"


def _rule_refuses(rule: DeployRule, event: str, payload: Mapping[str, Any]) -> str | None:
    if event == "push":
        ref = str(payload.get("ref") or "")
        if payload.get("deleted"):
            return f"{ref} was deleted"
        if not ref.startswith("refs/heads/"):
            return f"{ref} is not a branch"
        if rule.branch and ref != f"refs/heads/{rule.branch}":
            return f"{ref} is not refs/heads/{rule.branch}"
        return None
    if event == "release":
        if payload.get("action") != "published":
            return f"release action {payload.get('action')!r} is not 'published'"
        return None
    if event == "workflow_run":
        run = _object(payload, "workflow_run")
        if payload.get("action") != "completed" or run.get("conclusion") != "success":
            return "workflow_run is not completed with success"
        if rule.branch and run.get("head_branch") != rule.branch:
            return f"workflow_run branch {run.get('head_branch')!r} is not {rule.branch!r}"
        if rule.workflow and run.get("name") != rule.workflow:
            return f"workflow {run.get('name')!r} is not {rule.workflow!r}"
        return None
    return f"event {event!r} is not deployable"


def _object(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``payload[key]`` when it is an object, else an empty one (a signed payload may still
    carry a string where GitHub sends an object)."""
    value = payload.get(key)
    return value if isinstance(value, Mapping) else {}


def deploy_request(
    delivery_id: str, event: str, payload: Mapping[str, Any], rule: DeployRule
) -> DeployRequest:
    requester_email = ""
    if event == "push":
        ref = str(payload.get("ref"))
        sha = str(payload.get("after") or (payload.get("head_commit") or {}).get("id") or "")
        tag = ""
        requester = (payload.get("pusher") or {}).get("name") or ""
        requester_email = str((payload.get("pusher") or {}).get("email") or "")
    elif event == "release":
        release = payload.get("release") or {}
        tag = str(release.get("tag_name") or "")
        ref = f"refs/tags/{tag}"
        sha = str(release.get("target_commitish") or "")
        requester = (release.get("author") or {}).get("login") or ""
    else:
        run = payload.get("workflow_run") or {}
        ref = f"refs/heads/{run.get('head_branch') or ''}"
        sha = str(run.get("head_sha") or "")
        tag = ""
        requester = (run.get("actor") or {}).get("login") or ""
    requester = requester or (payload.get("sender") or {}).get("login") or "unknown"
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""
    image_tag = rule.image_tag.format(sha=sha, short_sha=sha[:12], tag=tag, branch=branch)
    problem = image_tag_problem(image_tag)
    if problem is not None:
        raise ImageTagError(problem)
    return DeployRequest(
        deployment_id=execution_name(delivery_id),
        delivery_id=delivery_id,
        repository=str(payload["repository"]["full_name"]),
        event=event,
        ref=ref,
        sha=sha,
        image_tag=image_tag,
        environment=rule.environment,
        requester=str(requester),
        requester_email=requester_email,
    )


def handle_webhook(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Callable[[], Sequence[str]],
    config: Callable[[], DeployConfig],
    deliveries: DeliveryLog,
    replays: ReplayLog,
    workflow: WorkflowStarter,
    now: Callable[[], datetime],
) -> WebhookAnswer:
    """``headers`` with lower-case names; ``body`` the raw bytes GitHub signed."""
    deploy_config = config()
    if len(body) > deploy_config.max_body_bytes:
        return WebhookAnswer(413, {"message": "payload too large"})
    if not signature_is_valid(body, headers.get("x-hub-signature-256"), secrets()):
        return WebhookAnswer(401, {"message": "missing or invalid X-Hub-Signature-256"})
    event = (headers.get("x-github-event") or "").strip()
    delivery_id = (headers.get("x-github-delivery") or "").strip()
    if not event or not _DELIVERY.fullmatch(delivery_id):
        return WebhookAnswer(400, {"message": "missing X-GitHub-Event or X-GitHub-Delivery"})
    try:
        payload = json_object(body)
    except BadInput as bad:
        return WebhookAnswer(bad.status, {"message": bad.message})
    if event == "ping":
        return WebhookAnswer(200, {"message": "pong", "zen": payload.get("zen")})
    rule = match_rule(event, payload, deploy_config)
    if isinstance(rule, str):
        return WebhookAnswer(202, {"message": "ignored", "reason": rule})
    try:
        request = deploy_request(delivery_id, event, payload, rule)
    except ImageTagError as bad_tag:
        return WebhookAnswer(422, {"message": "invalid image tag", "reason": str(bad_tag)})
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return WebhookAnswer(202, {"message": "ignored", "reason": f"unusable payload: {exc}"})
    env = deploy_config.environments[rule.environment]
    too_old = age_problem(
        event, payload, rule.environment, env, deploy_config.max_event_age_seconds, now()
    )
    if too_old is not None:
        return WebhookAnswer(422, {"message": "event too old", "reason": too_old})
    if not deliveries.record(delivery_id, event, request.repository):
        return WebhookAnswer(200, {"message": "duplicate delivery", "delivery": delivery_id})
    return _start_once(request, body_digest(body), deliveries, replays, workflow)


def _start_once(
    request: DeployRequest,
    digest: str,
    deliveries: DeliveryLog,
    replays: ReplayLog,
    workflow: WorkflowStarter,
) -> WebhookAnswer:
    """The replay checks that need the table, then the start. A refused delivery leaves no
    record of its own behind, so its redelivery is refused for the same reason."""
    delivery_id = request.delivery_id
    if not replays.record_body(digest, delivery_id):
        deliveries.forget(delivery_id)
        return WebhookAnswer(
            409,
            {
                "message": "duplicate body",
                "reason": "this body was delivered before under another X-GitHub-Delivery id: "
                "a replay starts nothing",
            },
        )
    key = commit_key(request.repository, request.environment, request.sha, request.ref)
    earlier = replays.claim_commit(key, request.deployment_id)
    if earlier:
        replays.forget_body(digest, delivery_id)
        deliveries.forget(delivery_id)
        return WebhookAnswer(
            409,
            {
                "message": "already deployed",
                "deployment_id": earlier,
                "reason": f"deployment {earlier} already deployed this commit of "
                f"{request.repository} to {request.environment}: "
                f"`opswire deploy redeploy {earlier} --reason ...` deploys it again",
            },
        )
    try:
        started = workflow.start(execution_name(delivery_id), request)
    except Exception:
        # A redelivery must not be taken for a duplicate.
        replays.forget_commit(key, request.deployment_id)
        replays.forget_body(digest, delivery_id)
        deliveries.forget(delivery_id)
        raise
    return WebhookAnswer(
        202,
        {
            "message": "deployment started" if started else "deployment already started",
            "deployment_id": request.deployment_id,
            "environment": request.environment,
            "image_tag": request.image_tag,
        },
    )
