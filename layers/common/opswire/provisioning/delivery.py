"""Whether SNS can deliver a spec's topic to the queues and functions it subscribes.

SNS delivers to an SQS queue only when the queue's policy lets ``sns.amazonaws.com``
``sqs:SendMessage`` (with ``aws:SourceArn`` = the topic), and invokes a Lambda function only
when the function's resource-based policy lets it ``lambda:InvokeFunction``. Those policies
belong to the endpoint's owner, not to the spec: opswire reads them at plan and refuses a
subscription SNS could not deliver to, naming what the owner must add (docs/provisioning.md,
"SNS topics"). Pure: the drivers read the policies.
"""

import json
import re
from typing import Any

SNS_PRINCIPAL = "sns.amazonaws.com"
DELIVERY_ACTIONS = {"sqs": "sqs:SendMessage", "lambda": "lambda:InvokeFunction"}
"""The action each endpoint's policy must allow SNS, by subscription protocol."""


def arn_part(arn: str, index: int) -> str:
    """Part ``index`` of an ARN (3: the region, 4: the account, 5: the resource)."""
    parts = arn.split(":", 6)
    return parts[index] if len(parts) > index else ""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str) -> bool:
    """IAM's ``*`` / ``?`` wildcards."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value) is not None


def _principal_is_sns(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in _as_list(principal.get("AWS", [])):
        return True
    return SNS_PRINCIPAL in _as_list(principal.get("Service", []))


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool | None:
    """True / False for the operators and keys a delivery sets; None when the statement
    has a condition this module does not evaluate."""
    for operator, tests in condition.items():
        name = operator.removesuffix("IfExists")
        if name not in ("ArnEquals", "ArnLike", "StringEquals", "StringLike"):
            return None
        for key, values in tests.items():
            have = context.get(key.lower())
            if have is None:
                return None
            exact = name == "StringEquals"
            if not any((v == have) if exact else _like(str(v), have) for v in _as_list(values)):
                return False
    return True


def _applies(
    statement: dict[str, Any], action: str, endpoint: str, context: dict[str, str]
) -> bool:
    if "NotPrincipal" in statement or "NotAction" in statement or "NotResource" in statement:
        return False
    if not _principal_is_sns(statement.get("Principal")):
        return False
    if not any(_like(a.lower(), action.lower()) for a in _as_list(statement.get("Action", []))):
        return False
    if not any(_like(r, endpoint) for r in _as_list(statement.get("Resource", "*"))):
        return False
    return _condition_holds(statement.get("Condition", {}), context) is True


def lets_topic_deliver(
    policy: dict[str, Any] | None, protocol: str, endpoint: str, topic_arn: str
) -> bool:
    """Whether ``policy`` (the queue's or the function's) lets the topic deliver: an Allow of
    the protocol's action to SNS on the endpoint, whose conditions hold for this topic, and no
    Deny that does."""
    if not policy:
        return False
    action = DELIVERY_ACTIONS[protocol]
    context = {"aws:sourcearn": topic_arn, "aws:sourceaccount": arn_part(topic_arn, 4)}
    statements = _as_list(policy.get("Statement", []))

    def applying(effect: str) -> bool:
        return any(
            s.get("Effect") == effect and _applies(s, action, endpoint, context) for s in statements
        )

    return applying("Allow") and not applying("Deny")


def what_the_owner_adds(protocol: str, endpoint: str, topic_arn: str) -> str:
    """The permission that lets the topic deliver, as its owner would add it."""
    if protocol == "lambda":
        topic = arn_part(topic_arn, 5)
        return (
            f"aws lambda add-permission --function-name {endpoint} --statement-id sns-{topic} "
            f"--action lambda:InvokeFunction --principal {SNS_PRINCIPAL} --source-arn {topic_arn}"
        )
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": SNS_PRINCIPAL},
        "Action": "sqs:SendMessage",
        "Resource": endpoint,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }
    return "this statement in the queue policy: " + json.dumps(statement, separators=(",", ":"))


def undeliverable(protocol: str, endpoint: str, topic_arn: str, why: str) -> str:
    """One plan line: which subscription, why SNS could not deliver, what the owner adds."""
    topic = arn_part(topic_arn, 5)
    what = "send to the queue" if protocol == "sqs" else "invoke the function"
    return (
        f"topics[{topic}].subscriptions: {protocol} {endpoint}: {why}, so SNS could not "
        f"{what} (opswire does not change a queue or function the spec does not own: its owner "
        f"adds {what_the_owner_adds(protocol, endpoint, topic_arn)})"
    )


def other_account(protocol: str, endpoint: str, topic_arn: str) -> str:
    """One plan line for an endpoint in another account than the topic's."""
    kind = "queue" if protocol == "sqs" else "function"
    return (
        f"topics[{arn_part(topic_arn, 5)}].subscriptions: {protocol} {endpoint}: the {kind} is "
        f"in account {arn_part(endpoint, 4)}, not the topic's ({arn_part(topic_arn, 4)}): a "
        f"cross-account subscription is made (or confirmed) from the {kind}'s account, which "
        "also lets the topic deliver there"
    )
