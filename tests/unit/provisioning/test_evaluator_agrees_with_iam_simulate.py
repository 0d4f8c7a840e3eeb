"""Every request the IAM tests decide, decided again by iam-simulate: the two evaluators agree,
and iam-simulate accepts every action, resource and condition key the tests use."""

from __future__ import annotations

import pytest

from opswire_local.template import ACCOUNT_ID
from tests.unit.provisioning import iam_simulate
from tests.unit.provisioning.policy_evaluator import Request, evaluate
from tests.unit.provisioning.template_iam import boundary_statements, function_statements
from tests.unit.provisioning.test_write_role_policy import (
    BOUNDED,
    OWN_RESOURCE_REQUESTS,
    REFUSED,
)

needs_node = pytest.mark.skipif(
    not iam_simulate.available(), reason="node/npm missing: iam-simulate cannot run"
)


@needs_node
def test_the_write_role_decisions_agree() -> None:
    statements = function_statements("ProvisionWriteFunction")
    requests = [*OWN_RESOURCE_REQUESTS, *REFUSED.values()]
    theirs = iam_simulate.simulate(statements, requests, ACCOUNT_ID)
    ours = [evaluate(statements, r) for r in requests]
    differ = [(r, o, t) for r, o, t in zip(requests, ours, theirs, strict=True) if o != t]
    assert differ == []


@needs_node
def test_the_boundary_decisions_agree() -> None:
    requests = [Request(action, resource, context) for action, (resource, context, _) in
                sorted(BOUNDED.items())]  # fmt: skip
    theirs = iam_simulate.simulate(boundary_statements(), requests, ACCOUNT_ID)
    assert theirs == [BOUNDED[r.action][2] for r in requests]
