"""The spec validator refuses at plan what the posture check would refuse after apply, with one
message that says so; the posture check uses the same rules (spec.wildcard_on_everything,
spec.anyone_may_assume)."""

from __future__ import annotations

from typing import Any

import pytest

from opswire.core.errors import SpecValidationError
from opswire.provisioning.aws.iam import PolicyDriver, RoleDriver
from opswire.provisioning.resources import Context, Resource
from opswire.provisioning.spec import parse_spec

CTX = Context(account="123456789012", region="eu-west-1")
REFUSES = "the posture check after apply would refuse this: "


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecValidationError) as caught:
        parse_spec({"name": "demo", **data})
    return caught.value.problems


def explicit(actions: list[str], resources: list[str]) -> dict[str, Any]:
    statement = {"actions": actions, "resources": resources, "allow_wildcard": True}
    return {"policies": [{"name": "p", "grants": [{"statement": statement}]}]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (explicit(["*"], ["*"]), "allows ['*'] on resource *"),
        (explicit(["s3:*"], ["arn:aws:s3:::a", "*"]), "allows ['s3:*'] on resource *"),
        ({"roles": [{"name": "r", "trust": {"aws": "*"}}]}, "lets anyone assume the role"),
        ({"kms_keys": [{"alias": "k", "rotation": False}]}, "key rotation off"),
    ],
)
def test_plan_refuses_what_posture_would(data: dict[str, Any], message: str) -> None:
    found = problems(data)
    assert len(found) == 1 and REFUSES in found[0] and message in found[0], found


def test_what_plan_accepts_posture_accepts_too() -> None:
    spec = parse_spec({"name": "demo", **explicit(["s3:*"], ["arn:aws:s3:::a/*"])})
    assert spec.policies[0].grants
    document = {"Statement": [{"Sid": "S0", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::a/*"]}]}
    desired = Resource("policy", "p", {"document": document})
    assert PolicyDriver(CTX, "demo").posture(desired, {"document": document}) == []


def test_posture_refuses_the_same_statements_and_trust() -> None:
    document = {"Statement": [{"Sid": "S0", "Action": "*", "Resource": "*"}]}
    found = PolicyDriver(CTX, "demo").posture(
        Resource("policy", "p", {"document": document}), {"document": document}
    )
    assert found == ["statement S0 allows ['*'] on resource *"]
    trust = {"Statement": [{"Principal": {"AWS": "*"}}]}
    assert RoleDriver(CTX).posture(Resource("role", "r", {}), {"trust": trust}) == [
        "trust policy lets anyone assume the role"
    ]


def test_opswire_tags_are_not_the_specs_to_set() -> None:
    found = problems({"secrets": [{"name": "s", "tags": {"opswire:managed-by": "other"}}]})
    assert found == ["secrets[s].tags: tag key 'opswire:managed-by' is reserved or invalid"]
