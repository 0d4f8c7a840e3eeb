"""Every IAM wildcard of the translated template is on a short allow-list, with its reason.

A wildcard: an action ``*`` or ``service:*``, a resource ``*``, or a resource ARN that names
every resource of a type (``...:log-group:*``, ``...:key/*``, ``arn:aws:s3:::*``), read from
the Allow statements of every role and policy after the SAM transform, for every gate case
(each profile and condition set), with the case's parameters resolved. Deny statements only
take away and are not listed. A wildcard that is not listed fails, and so does a listed one
that is gone (the list stays exact). The AWS managed policies SAM attaches are listed apart.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from opswire_local.template import PhysicalResource, Resolver, Template
from tools import deploy_gate

ALLOWED: dict[tuple[str, str], str] = {
    # (logical id of the role or policy, Sid): why the wildcard is needed
    ("AlarmEvaluateFunctionRole", "ReadAlarmTags"): "tags of whichever alarm fired (read only)",
    ("AlarmHandlingStateMachineRole", "VendedLogDelivery"): "log delivery APIs have no resource",
    ("DeploymentStateMachineRole", "VendedLogDelivery"): "log delivery APIs have no resource",
    ("ProvisioningStateMachineRole", "VendedLogDelivery"): "log delivery APIs have no resource",
    ("DatabaseRotationFunctionRole", "RandomPasswords"): "GetRandomPassword has no resource",
    ("SecretRotationFunctionRole", "RandomPasswords"): "GetRandomPassword has no resource",
    ("RotationMonitorFunctionRole", "ListSecrets"): "ListSecrets has no resource (metadata only)",
    ("SecretRotationFunctionRole", "RotateAccessKeysOfOpswireUsers"):
        "RotatedIamUserPath / (the owner's choice, all-off set): keys of every user, keys only",
    ("DeployTaskFunctionRole", "BeanstalkReadsOnYourBehalfNoResourceLevelPermissions"):
        "Beanstalk's own reads have no resource-level permissions",
    ("DeployTaskFunctionRole", "TaskDefinitionsHaveNoResourceLevelPermissions"):
        "Describe/RegisterTaskDefinition have no resource",
    ("DeployTaskFunctionRole", "UpdateTheConfiguredBeanstalkEnvironments"):
        "platform/* and solutionstack/* are AWS's public platform ARNs",
    ("DeployTaskFunctionRole", "UpdateTheConfiguredServices"):
        "DeployEcsServices defaults to */* (set it to narrow)",
    ("DeployTaskFunctionRole", "WatchAlarms"): "DescribeAlarms has no resource",
    ("DeployTaskFunctionRole", "SendAsTheSenderIdentityOnly"): "ses:FromAddress condition",
    ("NotifyEmailFunctionRole", "SendAsTheSenderIdentityOnly"): "ses:FromAddress condition",
    ("ProvisionNotifyFunctionRole", "SendAsTheSenderIdentityOnly"): "ses:FromAddress condition",
    ("RotationMonitorFunctionRole", "SendAsTheSenderIdentityOnly"): "ses:FromAddress condition",
    ("SubscribeLogGroupFunctionRole", "SubscribeLogGroups"): "any new log group may be shipped",
    ("ProvisionReadFunctionRole", "ReadProvisionedResources"):
        "Describe/List/Get, most without resource-level permissions; no data",
    ("ProvisionReadFunctionRole", "ReadPoliciesOfSubscribedQueuesAndFunctions"):
        "the policy of whichever queue or function a spec's topic subscribes, this account only",
    ("ProvisionWriteFunctionRole", "ReadBeforeWriting"): "the same reads, no data",
    ("ProvisionWriteFunctionRole", "BucketsUnderThePrefix"):
        "S3 has no tag conditions on CreateBucket: ProvisionedBucketPrefix scopes (empty = any)",
    ("ProvisionWriteFunctionRole", "FolderMarkersAndEmptyingOnUndo"):
        "the objects of those buckets",
    ("ProvisionWriteFunctionRole", "CreateRepositoriesWithTheManagedByTag"):
        "aws:RequestTag opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "ChangeOnlyTheStacksRepositories"):
        "aws:ResourceTag opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "CreateKeysWithTheManagedByTag"):
        "CreateKey has no resource; aws:RequestTag opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "ChangeOnlyTheStacksKeys"):
        "aws:ResourceTag opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "AliasesOfTheStacksKeys"):
        "aliases have no tags; the key's own statement needs the stack's tag",
    ("ProvisionWriteFunctionRole", "EncryptSecretsWithTheStacksKeys"):
        "kms:ViaService Secrets Manager + the stack's tag",
    ("ProvisionWriteFunctionRole", "SecretsOfTheStack"):
        "aws:ResourceTag opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "CreateLogGroupsWithTheManagedByTag"):
        "aws:RequestTag opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "CreateTopicsWithTheManagedByTag"):
        "aws:RequestTag/opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "ChangeOnlyTheStacksTopics"):
        "aws:ResourceTag/opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "ReadOidcProviders"):
        "reads only; an OIDC provider's ARN ends in its URL's host, unknown before the spec",
    ("ProvisionWriteFunctionRole", "CreateOidcProvidersWithTheManagedByTag"):
        "aws:RequestTag/opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "ChangeOnlyTheStacksOidcProviders"):
        "aws:ResourceTag/opswire:managed-by = the stack",
    ("ProvisionWriteFunctionRole", "ChangeOnlyTheStacksLogGroups"):
        "aws:ResourceTag opswire:managed-by = the stack",
    ("ProvisioningBoundary", "WhatTheRolesOwnPoliciesAllow"):
        "a boundary only caps (its Deny list); the roles' own policies grant",
}  # fmt: skip

MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole":
        "SAM's default for functions: the function's own log streams",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": "SAM's for Tracing: Active (xray:Put*)",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole":
        "SAM's for VpcConfig (database rotation in a VPC): its network interfaces, no resource",
}  # fmt: skip

_TYPE_WIDE = re.compile(r"^([A-Za-z-]+[:/])?[*/:]*\*[*/:]*$")


def _broad_resource(arn: str) -> bool:
    parts = arn.split(":", 5)
    return arn == "*" or (len(parts) == 6 and _TYPE_WIDE.match(parts[5]) is not None)


def _broad_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


class _AnyAttribute(dict[str, str]):
    """GetAtt of a created resource: a concrete, non-wildcard ARN."""

    def __init__(self, logical_id: str) -> None:
        super().__init__()
        self.logical_id = logical_id

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> str:
        return f"arn:aws:x:us-east-1:123456789012:resource/{self.logical_id}"


def _documents(result: dict[str, Any]) -> list[tuple[str, Any]]:
    template = deploy_gate.resolve_conditions(result["template"], result["parameters"])
    defaults = Template(path=Path("t"), document=dict(result["template"])).parameter_defaults()
    resolver = Resolver({**defaults, **result["parameters"]}, "opswire", {})
    for logical_id in template["Resources"]:
        resolver.resources[logical_id] = PhysicalResource(
            ref=f"opswire-{logical_id}", attributes=_AnyAttribute(logical_id)
        )
    documents: list[tuple[str, Any]] = []
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents += [(logical_id, p["PolicyDocument"]) for p in properties.get("Policies", [])]
            documents += [(logical_id, arn) for arn in properties.get("ManagedPolicyArns", [])]
        elif resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            documents.append((logical_id, properties["PolicyDocument"]))
    return [(logical_id, resolver.resolve(document)) for logical_id, document in documents]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcards(translated: dict[str, dict[str, Any]]) -> tuple[set[tuple[str, str]], set[str]]:
    found: set[tuple[str, str]] = set()
    managed: set[str] = set()
    for result in translated.values():
        for logical_id, document in _documents(result):
            if isinstance(document, str):
                managed.add(document)
                continue
            for index, statement in enumerate(_as_list(document["Statement"])):
                if statement["Effect"] != "Allow":
                    continue
                actions = _as_list(statement.get("Action", [])) + _as_list(
                    statement.get("NotAction", [])
                )
                resources = _as_list(statement.get("Resource", [])) + _as_list(
                    statement.get("NotResource", [])
                )
                if any(map(_broad_action, actions)) or any(map(_broad_resource, resources)):
                    found.add((logical_id, statement.get("Sid", f"statement {index}")))
    return found, managed


def test_every_iam_wildcard_is_on_the_allow_list(translated: dict[str, dict[str, Any]]) -> None:
    found, managed = wildcards(translated)
    assert sorted(found - set(ALLOWED)) == [], "a new IAM wildcard: narrow it or list it"
    assert sorted(set(ALLOWED) - found) == [], "a listed wildcard is gone: remove it"
    assert managed == set(MANAGED_POLICIES)


def test_the_detector_sees_what_it_must() -> None:
    assert _broad_resource("*") and _broad_resource("arn:aws:s3:::*")
    assert _broad_resource("arn:aws:logs:us-east-1:1:log-group:*")
    assert _broad_resource("arn:aws:kms:us-east-1:1:key/*")
    assert _broad_resource("arn:aws:ecs:us-east-1:1:service/*/*")
    assert not _broad_resource("arn:aws:iam::1:role/opswire/*")
    assert not _broad_resource("arn:aws:cloudwatch:us-east-1:1:alarm:opswire/*")
    assert not _broad_resource("arn:aws:s3:::acme-*")
    # A named log group's streams (AlarmLogGroupArns, NAME:*) are that group only.
    assert not _broad_resource("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/orders:*")
    assert _broad_action("*") and _broad_action("s3:*") and not _broad_action("s3:Get*")
