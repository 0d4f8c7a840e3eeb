"""The provisioning workflow's task input: what every state of
``statemachines/provisioning.asl.json`` passes to the next (the spec as JSON, the plan this
execution made, what apply and undo did)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from opswire.provisioning.engine import ApplyResult, Plan, PostureFinding, UndoResult

Task = Literal["plan", "apply", "verify", "undo", "notify"]


class TaskInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    task: Task
    spec: dict[str, Any]
    execution_id: str = "manual"
    kind: str = ""
    name: str = ""
    plan: Plan | None = None
    findings: list[PostureFinding] = []
    results: list[ApplyResult] = []
    undo: UndoResult | None = None
    error: dict[str, Any] | None = None
    notice: Literal["plan", "approval", "done", "failed"] = "plan"
    task_token: str | None = None
