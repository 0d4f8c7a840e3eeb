"""Tags converge on the spec: a key the spec stops setting is planned as removed, and neither
AWS's keys (aws:*) nor opswire's own (opswire:spec, managed-by, execution) ever are."""

from opswire.provisioning.engine import Change, Plan, PlanItem, diff
from opswire.provisioning.report import render_plan
from opswire.provisioning.resources import (
    EXECUTION_TAG,
    MANAGED_BY_TAG,
    SPEC_TAG,
    Resource,
    spec_owns_tag,
    tag_delta,
)

DESIRED = {"team": "shop", SPEC_TAG: "shop", MANAGED_BY_TAG: "opswire-prod"}


def test_the_spec_owns_every_key_but_aws_and_opswire_bookkeeping() -> None:
    assert spec_owns_tag("team") and spec_owns_tag("CostCenter")
    assert spec_owns_tag("opswire:severity") and spec_owns_tag("opswire:route")
    for key in (SPEC_TAG, MANAGED_BY_TAG, EXECUTION_TAG, "opswire:rotation-kind",
                "aws:cloudformation:stack-name", "AWS:createdBy"):  # fmt: skip
        assert not spec_owns_tag(key), key


def test_a_key_the_spec_no_longer_sets_is_removed_and_others_are_kept() -> None:
    current = {
        **DESIRED,
        "team": "old",
        "stage": "beta",  # the spec set it before
        "added-by-hand": "x",  # the spec owns the tags of what it manages
        EXECUTION_TAG: "exec-1",
        "aws:cloudformation:stack-name": "legacy",
        "opswire:severity": "critical",  # an alarm route the spec dropped
    }
    to_set, to_remove = tag_delta(DESIRED, current)
    assert to_set == {"team": "shop"}
    assert to_remove == ["added-by-hand", "opswire:severity", "stage"]


def test_the_plan_names_the_removed_keys() -> None:
    resource = Resource("ecr_repository", "shop/api", {"tags": DESIRED})
    current = {"tags": {**DESIRED, "stage": "beta", EXECUTION_TAG: "exec-1"}}
    changes = diff(resource, current)
    assert changes == [Change(field="tags", current={"stage": "beta"}, desired={"stage": None})]
    assert diff(resource, {"tags": {**DESIRED, EXECUTION_TAG: "exec-1"}}) == []
    made = Plan(
        spec="shop",
        environment="dev",
        items=(PlanItem(kind="ecr_repository", name="shop/api", action="update",
                        changes=tuple(changes)),),
    )  # fmt: skip
    assert render_plan(made).splitlines()[1:3] == [
        "~ ecr_repository shop/api",
        "    tags removed: stage",
    ]


def test_a_changed_value_and_a_removal_render_as_two_lines() -> None:
    change = Change(
        field="tags",
        current={"team": "old", "stage": "beta"},
        desired={"team": "shop", "stage": None},
    )
    item = PlanItem(kind="bucket", name="b", action="update", changes=(change,))
    made = Plan(spec="shop", environment="dev", items=(item,))
    assert render_plan(made).splitlines()[2:4] == [
        '    tags: {"team": "old"} -> {"team": "shop"}',
        "    tags removed: stage",
    ]
