"""Task-name dispatch: DeployTaskFunction's input names the step of the deployment workflow
(statemachines/deployment.asl.json) to run on the state it carries."""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opswire.core.errors import TaskInputError
from opswire.deployments.ports import DeployState, Deps
from opswire.deployments.steps import (
    acquire_lock,
    check_bake,
    check_rollout,
    finish,
    preflight,
    register,
    request_approval,
    start,
    start_rollback,
    update,
)

STEPS: dict[str, Callable[[DeployState, Deps], DeployState]] = {
    "start": start,
    "preflight": preflight,
    "register": register,
    "update": update,
    "check_rollout": check_rollout,
    "check_bake": check_bake,
    "start_rollback": start_rollback,
    "acquire_lock": acquire_lock,
    "finish": finish,
}


class StepInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step: str = Field(min_length=1)
    state: DeployState
    task_token: str = ""


def run_step(event: dict[str, Any], deps: Deps) -> dict[str, Any]:
    try:
        step_input = StepInput.model_validate(event)
    except ValidationError as exc:
        raise TaskInputError(f"deployment step input: {exc.error_count()} problems") from exc
    if step_input.step == "request_approval":
        if not step_input.task_token:
            raise TaskInputError("request_approval needs task_token")
        result = request_approval(step_input.state, step_input.task_token, deps)
    else:
        step = STEPS.get(step_input.step)
        if step is None:
            raise TaskInputError(f"unknown deployment step {step_input.step!r}")
        result = step(step_input.state, deps)
    return result.model_dump(mode="json")
