"""The evaluator behind the template's IAM tests decides as IAM documents it does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.provisioning.policy_evaluator import Request, evaluate

ALLOW_TAGGED = {
    "Effect": "Allow",
    "Action": "secretsmanager:DeleteSecret",
    "Resource": "arn:aws:secretsmanager:*:*:secret:*",
    "Condition": {"StringEquals": {"aws:ResourceTag/owner": "me"}},
}
SECRET = "arn:aws:secretsmanager:us-east-1:1:secret:x-AbCdEf"


def test_allow_needs_every_part_to_match_and_deny_wins() -> None:
    mine = Request("secretsmanager:DeleteSecret", SECRET, {"aws:ResourceTag/owner": "me"})
    assert evaluate([ALLOW_TAGGED], mine) == "allowed"
    assert evaluate([ALLOW_TAGGED], Request("SecretsManager:deletesecret", SECRET, mine.context))\
        == "allowed"  # actions are case-insensitive  # fmt: skip
    assert evaluate([ALLOW_TAGGED], Request(mine.action, SECRET.upper(), mine.context)) \
        == "implicit-deny"  # resources are not  # fmt: skip
    assert evaluate([ALLOW_TAGGED], Request(mine.action, SECRET)) == "implicit-deny"
    deny = {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}
    assert evaluate([ALLOW_TAGGED, deny], mine) == "explicit-deny"


@pytest.mark.parametrize(
    ("operator", "context", "expected"),
    [
        # a missing key: negated operators match, the others do not
        ("StringEquals", {}, False),
        ("StringNotEquals", {}, True),
        ("StringEqualsIfExists", {}, True),
        ("StringNotEquals", {"k": "v"}, False),
        ("StringNotEquals", {"k": "w"}, True),
        ("StringLike", {"k": "vvv"}, False),
        ("ForAnyValue:StringEquals", {}, False),
        ("ForAllValues:StringEquals", {}, True),
        ("ForAnyValue:StringEquals", {"k": ["a", "v"]}, True),
        ("ForAllValues:StringEquals", {"k": ["a", "v"]}, False),
        ("ForAnyValue:StringNotEquals", {}, False),
    ],
)
def test_condition_operators_and_missing_keys(
    operator: str, context: dict[str, Any], expected: bool
) -> None:
    statement = {"Effect": "Allow", "Action": "s3:x", "Resource": "*",
                 "Condition": {operator: {"k": "v"}}}  # fmt: skip
    assert (evaluate([statement], Request("s3:x", "r", context)) == "allowed") is expected


def test_null_like_and_several_keys() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "kms:*",
        "Resource": "arn:aws:kms:*:*:key/*",
        "Condition": {
            "Null": {"aws:ResourceTag/owner": "false"},
            "StringLike": {"aws:ResourceTag/owner": ["team-*", "ops"]},
        },
    }
    key = "arn:aws:kms:us-east-1:1:key/abc"

    def owner(resource: str, value: str | None) -> str:
        context = {"aws:ResourceTag/owner": value} if value else {}
        return evaluate([statement], Request("kms:TagResource", resource, context))

    assert owner(key, "team-a") == "allowed"
    assert owner(key, "x") == "implicit-deny"
    assert owner(key, None) == "implicit-deny"
    assert owner("*", "ops") == "implicit-deny"  # "*" as the request's resource is not a key


def test_what_it_does_not_know_raises() -> None:
    for statement in (
        {"Effect": "Allow", "Action": "s3:x", "Resource": "*",
         "Condition": {"NumericLessThan": {"k": "1"}}},
        {"Effect": "Allow", "Action": "s3:x", "Resource": "*",
         "Condition": {"StringEquals": {"k": "${aws:username}"}}},
        {"Effect": "Allow", "Action": "s3:x", "Resource": "*", "Principal": "*"},
    ):  # fmt: skip
        with pytest.raises(NotImplementedError):
            evaluate([statement], Request("s3:x", "r", {"k": "1"}))
