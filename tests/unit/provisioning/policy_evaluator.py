"""A small IAM policy evaluator for the tests of the template's IAM statements.

Why our own: moto's IAM access control (``INITIAL_NO_AUTH_ACTION_COUNT``) evaluates conditions
only on the keys it fills from a request, which is ``sts:ExternalId`` alone: every guarantee
tested here is a condition on ``aws:ResourceTag``, ``aws:RequestTag``, ``aws:TagKeys`` or
``iam:PermissionsBoundary``, so moto would deny everything. policyuniverse and parliament parse
and lint policies, they do not decide requests. The maintained simulator, npm
``@cloud-copilot/iam-simulate`` (AGPL-3.0, Node), decides every request of these tests too
(``test_evaluator_agrees_with_iam_simulate``, a test tool only); this evaluator runs without
Node, in microseconds, and says in a few lines what it does. It implements exactly what the
template uses, following the IAM policy evaluation logic for one identity policy:

- an explicit Deny wins, then an Allow, else the request is implicitly denied;
- Action / NotAction match case-insensitively with ``*`` and ``?``; Resource / NotResource
  match case-sensitively with ``*`` and ``?``;
- within a Condition every operator and every key must match (AND); the values listed for one
  key are alternatives (OR);
- operators: String(Not)Equals, String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool, Null, each
  with ``...IfExists`` and the ``ForAnyValue:`` / ``ForAllValues:`` set qualifiers;
- a key missing from the request: a negated operator (``...Not...``) matches, any other does
  not; ``IfExists`` matches; ``ForAllValues`` matches; ``ForAnyValue`` does not.

Anything else (policy variables, numeric and date operators, principals) raises
``NotImplementedError``: a test must not pass on a rule this evaluator does not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Decision = Literal["allowed", "explicit-deny", "implicit-deny"]
ContextValue = str | list[str]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


def _glob(pattern: str, text: str, *, case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, 0 if case else re.IGNORECASE) is not None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _compare(base: str, pattern: str, value: str) -> bool:
    if base in ("StringEquals", "ArnEquals"):
        return pattern == value
    if base in ("StringLike", "ArnLike"):
        return _glob(pattern, value, case=True)
    if base == "Bool":
        return pattern.lower() == value.lower()
    raise NotImplementedError(f"condition operator {base}")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _operator_matches(
    operator: str, key: str, patterns: list[Any], context: Mapping[str, ContextValue]
) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    lowered = {k.lower(): v for k, v in context.items()}
    if "${" in "".join(str(p) for p in patterns):
        raise NotImplementedError("policy variables")
    present = key.lower() in lowered
    if name == "Null":
        return all(str(p).lower() == ("false" if present else "true") for p in patterns)
    if not present:
        if qualifier == "ForAllValues" or if_exists:
            return True
        return name in _NEGATED and qualifier != "ForAnyValue"
    value = lowered[key.lower()]
    negated = name in _NEGATED
    base = _NEGATED.get(name, name)

    def one(v: str) -> bool:
        return any(_compare(base, str(p), v) for p in patterns)

    if qualifier == "ForAnyValue":
        hit = any(one(v) for v in _as_list(value))
    elif qualifier == "ForAllValues":
        hit = all(one(v) for v in _as_list(value))
    elif qualifier:
        raise NotImplementedError(f"set qualifier {qualifier}")
    else:
        if isinstance(value, list):
            raise NotImplementedError(f"{key} is multivalued: use ForAnyValue/ForAllValues")
        hit = one(value)
    return not hit if negated else hit


def _condition_matches(condition: Mapping[str, Any], context: Mapping[str, ContextValue]) -> bool:
    return all(
        _operator_matches(operator, key, _as_list(patterns), context)
        for operator, keys in condition.items()
        for key, patterns in keys.items()
    )


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    unknown = set(statement) - {
        "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"
    }  # fmt: skip
    if unknown:
        raise NotImplementedError(f"statement elements {sorted(unknown)}")
    if "Action" in statement:
        action_hit = any(
            _glob(a, request.action, case=False) for a in _as_list(statement["Action"])
        )
    else:
        action_hit = not any(
            _glob(a, request.action, case=False) for a in _as_list(statement["NotAction"])
        )
    if "Resource" in statement:
        resource_hit = any(
            _glob(r, request.resource, case=True) for r in _as_list(statement["Resource"])
        )
    else:
        resource_hit = not any(
            _glob(r, request.resource, case=True) for r in _as_list(statement["NotResource"])
        )
    return (
        action_hit
        and resource_hit
        and _condition_matches(statement.get("Condition", {}), request.context)
    )


def evaluate(statements: Iterable[Mapping[str, Any]], request: Request) -> Decision:
    applying = [s for s in statements if statement_applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applying):
        return "explicit-deny"
    if any(s["Effect"] == "Allow" for s in applying):
        return "allowed"
    return "implicit-deny"
