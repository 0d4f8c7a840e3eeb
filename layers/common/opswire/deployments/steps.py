"""The deployment workflow's steps (statemachines/deployment.asl.json calls one per Task).

Every step takes the workflow state and returns it updated; the state machine keeps it whole.
Collaborators come in as ``Deps`` (opswire.deployments.ports), so tests can run the steps
against moto. Stages are recorded on the deployment record and posted into one Slack thread per
deployment.
"""

import json
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from opswire.core.errors import AlarmsFiringError, DeploymentError, GitHubApiError, TaskInputError
from opswire.deployments.approval import approval_blocks
from opswire.deployments.config import EcsTarget, EnvironmentConfig, Target
from opswire.deployments.ports import DeployState, Deps
from opswire.deployments.replay import commit_key
from opswire.deployments.targets import (
    BeanstalkRolloutTarget,
    EcsRolloutTarget,
    Observation,
    Rollout,
    RolloutTarget,
    lock_seconds,
    target_key,
)
from opswire.deployments.webhook import DeployRequest

_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")


# ---- helpers ------------------------------------------------------------------------------------
def _env(state: DeployState) -> EnvironmentConfig:
    if state.env is None:
        raise TaskInputError("the state has no environment: Start did not run")
    return state.env


def _target(state: DeployState, deps: Deps) -> RolloutTarget:
    target = _env(state).target
    if isinstance(target, EcsTarget):
        return EcsRolloutTarget(target, deps.ecs)
    if deps.beanstalk is None:
        raise DeploymentError(
            "Elastic Beanstalk targets are not enabled in this stack "
            "(parameter DeployBeanstalkEnvironments)"
        )
    return BeanstalkRolloutTarget(target, deps.beanstalk)


def _record(deps: Deps, state: DeployState) -> dict[str, Any]:
    record = deps.store.get(state.request.deployment_id)
    if record is None:
        raise TaskInputError(f"no record of deployment {state.request.deployment_id}")
    return record


def _save(deps: Deps, record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    version = int(record.get("version", 0))
    record = {**record, **changes, "updated_at": deps.now().isoformat()}
    deps.store.put(record["deployment_id"], record, version)
    record["version"] = version + 1
    return record


def _stage(
    deps: Deps,
    state: DeployState,
    status: str,
    message: str,
    approval_buttons: bool = False,
    **changes: Any,
) -> None:
    """Record a stage on the deployment and post it into the deployment's Slack thread
    (with the Approve / Reject buttons when asked)."""
    record = _record(deps, state)
    stages = [
        *record.get("stages", []),
        {"at": deps.now().isoformat(), "status": status, "message": message},
    ]
    slack = dict(record.get("slack") or {})
    request = state.request
    if deps.slack is not None and deps.slack_channel:
        text = (
            message
            if slack.get("ts")
            else (
                f"Deployment {request.deployment_id}: {request.repository} {request.ref} "
                f"({request.sha[:12]}) -> {request.environment}\n{message}"
            )
        )
        channel = slack.get("channel") or (state.env.slack_channel if state.env else "")
        blocks = approval_blocks(text, request.deployment_id) if approval_buttons else None
        channel, ts = deps.slack.post(channel or deps.slack_channel, text, slack.get("ts"), blocks)
        if not slack.get("ts"):
            slack = {"channel": channel, "ts": ts}
    _save(deps, record, status=status, stages=stages, slack=slack, **changes)


def _firing_unless_overridden(state: DeployState, deps: Deps) -> list[str]:
    """Watched alarms in ALARM, except those an override let through at pre-flight."""
    return deps.alarms_in_alarm([a for a in _env(state).alarms if a not in state.overridden_alarms])


def _github(deps: Deps, state: DeployState, github_state: str, description: str) -> None:
    # A release names its target branch, not a commit: statuses need a commit SHA
    # (resolve_commit finds the one its tag points at).
    sha = state.commit_sha or state.request.sha
    if deps.github is not None and _COMMIT_SHA.fullmatch(sha):
        deps.github.set_status(
            state.request.repository,
            sha,
            github_state,
            description,
            f"opswire/deploy/{state.request.environment}",
        )


# ---- steps --------------------------------------------------------------------------------------
def start(state: DeployState, deps: Deps) -> DeployState:
    """Resolve the environment and target from the config; create the deployment record."""
    config = deps.config()
    env = config.environments.get(state.request.environment)
    if env is None:
        raise DeploymentError(f"environment {state.request.environment!r} is not configured")
    state = state.model_copy(
        update={
            "env": env,
            "approval_timeout_seconds": env.approval_timeout_seconds,
            "wait_seconds": env.poll_seconds,
            "max_polls": max(1, env.rollout_timeout_seconds // env.poll_seconds),
        }
    )
    if deps.store.get(state.request.deployment_id) is None:
        now = deps.now().isoformat()
        request = state.request
        deps.store.put(
            request.deployment_id,
            {
                **request.model_dump(mode="json"),
                "created_at": now,
                "updated_at": now,
                "status": "started",
                "stages": [],
                "target": env.target.model_dump(mode="json"),
                "approvers": list(env.approvers),
                "approval_required": env.approval_required,
            },
            0,
        )
    _stage(
        deps,
        state,
        "started",
        f"Deploying image tag {state.request.image_tag} (requested by {state.request.requester}).",
    )
    state = resolve_commit(state, deps)
    _github(deps, state, "pending", f"deploying to {state.request.environment}")
    return state


def resolve_commit(state: DeployState, deps: Deps) -> DeployState:
    """A release carries a tag, not a commit (``target_commitish`` is a branch, and not even
    the tagged commit when the tag existed before): ask GitHub which commit the tag points at
    and keep it on the state and the record. A tag GitHub does not resolve means no commit
    status, not a failed deployment; a retryable GitHub error is retried by the state machine."""
    request = state.request
    if state.commit_sha or request.event != "release" or deps.commits is None:
        return state
    tag = request.ref.removeprefix("refs/tags/")
    try:
        sha = deps.commits.commit_sha(request.repository, f"tags/{tag}")
    except GitHubApiError as exc:
        _stage(deps, state, "started", f"No commit status: {exc}.")
        return state
    _save(deps, _record(deps, state), commit_sha=sha)
    return state.model_copy(update={"commit_sha": sha})


def preflight(state: DeployState, deps: Deps) -> DeployState:
    """Alarms of the target already in ALARM stop the deploy unless an override is given."""
    firing = deps.alarms_in_alarm(_env(state).alarms)
    override = state.alarm_override
    if firing and not override:
        raise AlarmsFiringError(
            f"alarms in ALARM before deploying: {', '.join(firing)} "
            f"(`opswire deploy override {state.request.deployment_id} --reason ...` to go ahead)"
        )
    if firing and override:
        _stage(
            deps,
            state,
            "preflight",
            f"Alarms in ALARM: {', '.join(firing)}; OVERRIDDEN by {override.get('by')} "
            f"({override.get('reason')}).",
            alarm_override={**override, "alarms": firing},
        )
        return state.model_copy(update={"overridden_alarms": firing})
    _stage(deps, state, "preflight", "Pre-flight: no watched alarm is firing.")
    return state


def request_approval(state: DeployState, task_token: str, deps: Deps) -> DeployState:
    """Store the task token on the record and ask the approvers (Slack thread, email links)."""
    env = _env(state)
    record = _record(deps, state)
    expires = deps.now().timestamp() + env.approval_timeout_seconds
    text = (
        f"Approval needed from one of: {', '.join(env.approvers)} "
        f"(not {state.request.requester}): the buttons here, the links in the email, or "
        f"`opswire deploy approve {state.request.deployment_id}`."
    )
    _save(deps, record, task_token=task_token, approval_expires=int(expires))
    _stage(deps, state, "awaiting_approval", text, approval_buttons=True)
    if deps.mailer is not None and deps.approval_links is not None:
        for approver in env.approvers:
            if "@" not in approver:
                continue
            approve = deps.approval_links(state.request.deployment_id, "approve", approver)
            reject = deps.approval_links(state.request.deployment_id, "reject", approver)
            deps.mailer.send(
                [approver],
                f"[opswire] approve deployment of {state.request.repository} to "
                f"{state.request.environment}?",
                f"{state.request.repository} {state.request.ref} ({state.request.sha[:12]}) "
                f"-> {state.request.environment}, image tag {state.request.image_tag}.\n\n"
                f"Approve: {approve}\nReject: {reject}\n",
            )
    return state


def register(state: DeployState, deps: Deps) -> DeployState:
    """The new revision (ECS task definition, EB application version); the target's current one
    is kept as the rollback point."""
    target = _target(state, deps)
    previous = target.current()
    image = f"{_env(state).target.image_repository}:{state.request.image_tag}"
    request = state.request
    new = target.register(image, previous, request.deployment_id, request.image_tag)
    _stage(
        deps,
        state,
        "registered",
        f"Registered {target.short(new)} with {image}.",
        previous_task_definition=previous,
        task_definition=new,
    )
    return state.model_copy(update={"previous_task_definition": previous, "task_definition": new})


def update(state: DeployState, deps: Deps) -> DeployState:
    """Point the service at the intended revision: the new one, or the previous one when rolling
    back; the rollout check then waits for exactly that revision."""
    intended = state.task_definition if state.phase == "deploy" else state.previous_task_definition
    if not intended:
        raise DeploymentError("nothing to roll back to: no previous task definition")
    target = _target(state, deps)
    waiting = target.update(intended)
    verb = "Updating" if state.phase == "deploy" else "Rolling back"
    _stage(
        deps,
        state,
        "updating" if state.phase == "deploy" else "rolling_back",
        f"{verb} {target.name} to {target.short(intended)}."
        + (f" Waiting to start: {waiting}." if waiting else ""),
    )
    return state.model_copy(
        update={
            "intended_task_definition": intended,
            "update_pending": bool(waiting),
            "polls": 0,
            "rollout": "IN_PROGRESS",
            "rollout_reason": "",
        }
    )


def check_rollout(state: DeployState, deps: Deps) -> DeployState:
    """COMPLETED only when the target provably runs the intended revision (ECS: the PRIMARY
    deployment on it, rollout COMPLETED; EB: Ready, that version label, health Green); FAILED
    when the target went back to another revision, reports the rollout failed, or the rollout
    timeout passed. An update the target could not take yet is started here first."""
    target = _target(state, deps)
    intended = state.intended_task_definition
    pending = state.update_pending
    observation: Observation | None = None
    if pending:
        try:
            waiting = target.update(intended)
        except DeploymentError as exc:
            observation = Observation("FAILED", str(exc))
        else:
            pending = bool(waiting)
            if pending:
                observation = Observation("IN_PROGRESS", waiting)
    if observation is None:
        observation = target.observe(intended, rolling_back=state.phase == "rollback")
    polls = state.polls + 1
    rollout: Rollout = observation.rollout
    reason = observation.reason
    if rollout == "IN_PROGRESS" and polls >= state.max_polls:
        rollout, reason = "FAILED", f"rollout not COMPLETED after {polls} checks"
    if rollout != "IN_PROGRESS":
        _stage(deps, state, f"rollout_{rollout.lower()}", f"Rollout {rollout}: {reason}.")
    bake = _env(state).bake_seconds
    return state.model_copy(
        update={
            "polls": polls,
            "update_pending": pending,
            "rollout": rollout,
            "rollout_reason": reason,
            "bake_remaining": bake,
            "bake_wait": max(1, min(bake, state.wait_seconds)),
        }
    )


def check_bake(state: DeployState, deps: Deps) -> DeployState:
    """After ``bake_wait`` seconds: a watched alarm in ALARM fails the deployment (except the
    ones overridden at pre-flight)."""
    firing = _firing_unless_overridden(state, deps)
    if firing:
        raise AlarmsFiringError(f"alarms in ALARM while baking: {', '.join(firing)}")
    remaining = max(0, state.bake_remaining - state.bake_wait)
    if remaining == 0:
        ignored = state.overridden_alarms
        _stage(
            deps,
            state,
            "baked",
            f"Baked {_env(state).bake_seconds}s with no watched alarm firing"
            + (f" (overridden, not counted: {', '.join(ignored)})." if ignored else "."),
        )
    return state.model_copy(
        update={
            "bake_remaining": remaining,
            "bake_wait": max(1, min(remaining, state.wait_seconds)),
        }
    )


def start_rollback(state: DeployState, deps: Deps) -> DeployState:
    error = state.error or {}
    _stage(
        deps,
        state,
        "failed",
        f"Deployment failed ({error.get('Error', 'error')}: {_cause(error)}); rolling back.",
    )
    return state.model_copy(update={"phase": "rollback", "detail": _cause(error)})


def acquire_lock(state: DeployState, deps: Deps) -> DeployState:
    """Take the target's lock (after approval, before Register), then check the watched alarms
    again (except the overridden ones). Held by another deployment:
    ``lock`` = waiting (the state machine Waits ``wait_seconds`` and asks again) until
    ``queue_timeout_seconds`` worth of waits passed (``lock`` = timed_out: blocked). The same
    owner asking again (a Lambda retry) keeps the lock."""
    if deps.locks is None:
        raise DeploymentError("no lock store configured for deployments")
    env = _env(state)
    key = target_key(env.target)
    owner = state.request.deployment_id
    now = int(deps.now().timestamp())
    expires_at = now + lock_seconds(env)
    holder, replaced = deps.locks.acquire_lock(key, owner, expires_at, now)
    if holder == owner:
        # Pre-flight ran before the approval and the queue, which can take hours: look again
        # right before the change (Finish releases the lock when this blocks the deployment).
        firing = _firing_unless_overridden(state, deps)
        if firing:
            raise AlarmsFiringError(f"alarms in ALARM just before deploying: {', '.join(firing)}")
        lock = {"key": key, "expires_at": expires_at}
        if replaced or state.lock_waits:
            took = f" (the lock of deployment {replaced} had expired)" if replaced else ""
            _stage(deps, state, "locked", f"{key} is ours now{took}; deploying.", lock=lock)
        else:
            _save(deps, _record(deps, state), lock=lock)
        return state.model_copy(update={"lock": "acquired", "lock_key": key})
    max_waits = env.queue_timeout_seconds // max(1, state.wait_seconds)
    if state.lock_waits >= max_waits:
        detail = (
            f"deployment {holder or 'unknown'} still held {key} after "
            f"{env.queue_timeout_seconds}s of waiting (queue_timeout_seconds)"
        )
        return state.model_copy(update={"lock": "timed_out", "lock_key": key, "detail": detail})
    if holder and holder != state.lock_holder:
        _stage(
            deps,
            state,
            "queued",
            f"Waiting for deployment {holder} to finish (it holds {key}).",
            waiting_for=holder,
        )
    return state.model_copy(
        update={
            "lock": "waiting",
            "lock_key": key,
            "lock_holder": holder or state.lock_holder,
            "lock_waits": state.lock_waits + 1,
        }
    )


def release_lock(state: DeployState, deps: Deps) -> bool:
    """Release the target's lock if this deployment holds it (a conditional delete: never
    another deployment's lock). Safe to repeat."""
    if deps.locks is None or state.env is None:
        return False
    return deps.locks.release_lock(target_key(state.env.target), state.request.deployment_id)


def execution_stopped(detail: dict[str, Any], deps: Deps) -> dict[str, Any]:
    """A deployment execution ended without reaching Finish (EventBridge "Step Functions
    Execution Status Change", ABORTED or TIMED_OUT): release its target's lock at once instead
    of when the lock expires, and say so on the record, in the Slack thread and on the commit.
    Repeated deliveries change nothing more."""
    status = str(detail.get("status") or "")
    try:
        execution_input = json.loads(str(detail.get("input") or "{}"))
        request = DeployRequest.model_validate(execution_input.get("request"))
    except (ValueError, ValidationError):
        return {"handled": False, "reason": "the execution input names no deployment"}
    record = deps.store.get(request.deployment_id)
    if record is None or record.get("outcome"):
        return {"handled": False, "reason": "no record, or the deployment was reported already"}
    released = False
    if deps.locks is not None and record.get("target"):
        target = TypeAdapter(Target).validate_python(record["target"])
        released = deps.locks.release_lock(target_key(target), request.deployment_id)
    state = DeployState(request=request, commit_sha=str(record.get("commit_sha") or ""))
    text = (
        f"The deployment workflow was {status or 'stopped'} during '{record.get('status')}' "
        f"and could not report. {'Lock released. ' if released else ''}"
        "The target may be mid-change: check it before deploying again."
    )
    _stage(deps, state, "aborted", text, task_token="", outcome="aborted")
    _github(deps, state, "error", text[:140])
    return {"handled": True, "deployment_id": request.deployment_id, "lock_released": released}


def finish(state: DeployState, deps: Deps) -> DeployState:
    """The final stage: record, Slack, email, GitHub status. ``state.outcome`` is set by the
    state machine: succeeded, rolled_back, rollback_failed, rejected, blocked, failed."""
    outcome = state.outcome or "failed"
    detail = (
        state.detail
        or _cause(state.error or {})
        or (_approval_text(state.approval) if outcome == "rejected" else "")
    )
    request = state.request
    # First: a failing notification below must not keep the next deployment waiting.
    release_lock(state, deps)
    text = {
        "succeeded": f"Deployed {request.image_tag} to {request.environment}.",
        "rolled_back": f"Deployment failed and was rolled back (verified): {detail}",
        "rollback_failed": f"Deployment failed and the ROLLBACK FAILED: {detail}",
        "rejected": f"Deployment not approved: {detail}",
        "blocked": f"Deployment blocked before any change: {detail}",
    }.get(outcome, f"Deployment failed: {detail}")
    if deps.store.get(request.deployment_id) is not None:
        _stage(deps, state, outcome, text, task_token="", outcome=outcome)
    if outcome == "succeeded" and deps.deployed is not None:
        key = commit_key(request.repository, request.environment, request.sha, request.ref)
        deps.deployed.mark_deployed(key, request.deployment_id, deps.now().isoformat())
    _github(deps, state, "success" if outcome == "succeeded" else "failure", text[:140])
    recipients = [*deps.notify_emails, *(state.env.notify_emails if state.env else [])]
    if deps.mailer is not None and recipients:
        deps.mailer.send(
            list(dict.fromkeys(recipients)),
            f"[opswire] deployment {outcome}: {request.repository} -> {request.environment}",
            f"{text}\n\nDeployment {request.deployment_id}\n{request.repository} {request.ref} "
            f"({request.sha}) image tag {request.image_tag}\n",
        )
    return state.model_copy(update={"outcome": outcome, "detail": detail})


def _approval_text(approval: dict[str, Any] | None) -> str:
    if not approval:
        return "approval timed out"
    return f"rejected by {approval.get('by', 'unknown')}"


def _cause(error: dict[str, Any]) -> str:
    cause = str(error.get("Cause") or "")
    if cause.startswith("{"):
        try:
            return str(json.loads(cause).get("errorMessage") or cause)
        except ValueError:
            return cause
    return cause
