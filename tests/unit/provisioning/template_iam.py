"""The IAM statements of template.yaml, resolved with a stack's values (the local platform's
template resolver: parameters, pseudo parameters, conditions, Sub/If/Ref/GetAtt)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from opswire_local.template import ACCOUNT_ID, REGION, PhysicalResource, Resolver, Template

ROOT = Path(__file__).resolve().parents[3]
STACK = "opswire-prod"
ARN = f"arn:aws:iam::{ACCOUNT_ID}"
STACK_BOUNDARY = f"{ARN}:policy/opswire-boundary/{STACK}-provisioning-boundary"
ROTATION_FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{STACK}-rotation"


@cache
def template() -> Template:
    return Template.load(ROOT / "template.yaml")


def resolver(parameters: dict[str, str] | None = None) -> Resolver:
    t = template()
    values = {**t.parameter_defaults(), **(parameters or {})}
    r = Resolver(values, STACK, t.document.get("Conditions"))
    for logical_id, resource in t.resources.items():  # what Ref / GetAtt of one answer
        r.resources[logical_id] = PhysicalResource(
            ref=f"{STACK}-{logical_id}", attributes={"Arn": f"arn:aws:x:::{logical_id}"}
        )
        if resource["Type"] == "AWS::Serverless::Function":  # the role SAM generates for it
            r.resources[f"{logical_id}Role"] = PhysicalResource(
                ref=f"{STACK}-{logical_id}Role", attributes={"Arn": f"{ARN}:role/{logical_id}"}
            )
    r.resources["SecretRotationFunction"] = PhysicalResource(
        ref=f"{STACK}-rotation", attributes={"Arn": ROTATION_FUNCTION}
    )
    return r


def function_statements(
    logical_id: str, parameters: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The inline statements of a function's ``Policies`` (SAM policy templates left out)."""
    return _statements(logical_id, tuple(sorted((parameters or {}).items())))


@cache
def _statements(logical_id: str, parameters: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    r = resolver(dict(parameters))
    policies = template().resources[logical_id]["Properties"].get("Policies", [])
    statements: list[dict[str, Any]] = []
    for policy in policies:
        if isinstance(policy, dict) and "Statement" in policy:
            statements += r.resolve(policy["Statement"])
    return statements


def boundary_statements() -> list[dict[str, Any]]:
    document = template().resources["ProvisioningBoundary"]["Properties"]["PolicyDocument"]
    return list(resolver().resolve(document)["Statement"])


def function_environment(logical_id: str, parameters: dict[str, str] | None = None) -> Any:
    variables = template().resources[logical_id]["Properties"]["Environment"]["Variables"]
    return resolver(parameters).resolve(variables)
