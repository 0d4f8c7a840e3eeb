"""What ProvisionWriteFunction's IAM statements (template.yaml, resolved for a stack named
opswire-prod) allow and refuse, decided by ``policy_evaluator``.

Requests carry the condition keys AWS puts in them: aws:RequestTag/* and aws:TagKeys when the
call has tags, aws:ResourceTag/* of the existing resource, iam:PermissionsBoundary on the IAM
calls that support it. How a service authorizes the tags of a create call (the template's
comments say why) is modelled per service in ``create_*`` below.
"""

from __future__ import annotations

from typing import Any

import pytest

from opswire_local.template import ACCOUNT_ID, REGION
from tests.unit.provisioning.policy_evaluator import Request, evaluate
from tests.unit.provisioning.template_iam import (
    ARN,
    STACK,
    STACK_BOUNDARY,
    boundary_statements,
    function_environment,
    function_statements,
    template,
)

MANAGED_BY = "opswire:managed-by"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key"
ALIAS = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:alias"
REPO = f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository"
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group"
ALARM = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}"
ROLE = f"{ARN}:role/opswire/shop/shop-ec2-host"
POLICY = f"{ARN}:policy/opswire/shop/shop-read"
PROFILE = f"{ARN}:instance-profile/opswire/shop/shop-ec2-host"
CUSTOMER_BOUNDARY = f"{ARN}:policy/org/workload-boundary"
OIDC = f"{ARN}:oidc-provider/token.actions.githubusercontent.com"
USER = f"{ARN}:user/opswire/shop/shop-smtp"
ROTATED_USER = f"{ARN}:user/opswire-rotated/shop/shop-smtp"  # its key rotated (the default path)
CI_USER = f"{ARN}:user/opswire-rotated/ci-deployer"  # docs/rotation.md: the operator's own
ECR_READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
BYPASS = "kms:BypassPolicyLockoutSafetyCheck"

OURS = {f"aws:ResourceTag/{MANAGED_BY}": STACK}
OTHER_STACK = {f"aws:ResourceTag/{MANAGED_BY}": "opswire-dev"}
FOREIGN: dict[str, Any] = {"aws:ResourceTag/team": "payments"}  # tagged, but not by opswire


def tagging(tags: dict[str, str]) -> dict[str, Any]:
    return {**{f"aws:RequestTag/{k}": v for k, v in tags.items()}, "aws:TagKeys": sorted(tags)}


SPEC_TAGS = {MANAGED_BY: STACK, "opswire:spec": "shop", "opswire:execution": "exec-1"}


def decide(request: Request, parameters: dict[str, str] | None = None) -> str:
    return evaluate(function_statements("ProvisionWriteFunction", parameters), request)


# ---- how each service authorizes a create with tags -----------------------------------------
def create_secret(tags: dict[str, str]) -> list[Request]:
    # CreateSecret + the TagResource it implies; aws:ResourceTag = the request's tags.
    context = {**tagging(tags), **{f"aws:ResourceTag/{k}": v for k, v in tags.items()}}
    arn = f"{SECRET}:shop/api-key-AbCdEf"
    return [Request("secretsmanager:CreateSecret", arn, context),
            Request("secretsmanager:TagResource", arn, context)]  # fmt: skip


def create_key(tags: dict[str, str]) -> list[Request]:
    # CreateKey has no resource; KMS checks kms:TagResource on no particular key.
    return [Request("kms:CreateKey", "*", tagging(tags)),
            Request("kms:TagResource", "*", tagging(tags))]  # fmt: skip


def create_repository(tags: dict[str, str]) -> list[Request]:
    # ECR checks the tags on CreateRepository itself.
    return [Request("ecr:CreateRepository", f"{REPO}/shop/api", tagging(tags))]


def create_role(tags: dict[str, str], boundary: str | None, arn: str = ROLE) -> list[Request]:
    context = tagging(tags) | ({"iam:PermissionsBoundary": boundary} if boundary else {})
    return [Request("iam:CreateRole", arn, context), Request("iam:TagRole", arn, tagging(tags))]


def create_log_group(tags: dict[str, str], name: str = "/shop/service") -> list[Request]:
    return [Request(a, f"{LOGS}:{name}", tagging(tags))
            for a in ("logs:CreateLogGroup", "logs:TagResource")]  # fmt: skip


def create_alarm(name: str) -> list[Request]:
    return [Request(a, f"{ALARM}:{name}", tagging(SPEC_TAGS))
            for a in ("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource")]  # fmt: skip


def untag(keys: list[str], tags: dict[str, Any] = OURS) -> dict[str, Any]:
    """An Untag* request: the keys removed (aws:TagKeys) on a resource tagged ``tags``."""
    return {**tags, "aws:TagKeys": sorted(keys)}


UNTAGS = [  # (action, resource) of every Untag* the drivers call: the keys a spec stops setting
    ("ecr:UntagResource", f"{REPO}/shop/api"),
    ("iam:UntagRole", ROLE),
    ("iam:UntagPolicy", POLICY),
    ("iam:UntagUser", USER),
    ("iam:UntagOpenIDConnectProvider", OIDC),
    ("kms:UntagResource", f"{KEY}/1234abcd"),
    ("secretsmanager:UntagResource", f"{SECRET}:shop/api-key-AbCdEf"),
    ("logs:UntagResource", f"{LOGS}:/shop/service"),
    ("cloudwatch:UntagResource", f"{ALARM}:{STACK}/shop-errors"),
    ("sns:UntagResource", f"{TOPIC}:shop-releases"),
]


def boundary_ctx(boundary: str = STACK_BOUNDARY, tags: dict[str, Any] = OURS) -> dict[str, Any]:
    return {"iam:PermissionsBoundary": boundary, **tags}


def user_requests(user: str) -> list[Request]:
    """What the user driver calls: create (with the boundary and the tag), attach, keys, delete."""
    return [
        Request("iam:CreateUser", user, {**tagging(SPEC_TAGS),
                                         "iam:PermissionsBoundary": STACK_BOUNDARY}),
        Request("iam:TagUser", user, tagging(SPEC_TAGS)),
        Request("iam:AttachUserPolicy", user, {**boundary_ctx(), "iam:PolicyARN": POLICY}),
        Request("iam:DetachUserPolicy", user, {**boundary_ctx(), "iam:PolicyARN": ECR_READ_ONLY}),
        Request("iam:PutUserPermissionsBoundary", user, boundary_ctx()),
        *(Request(f"iam:{a}", user, OURS)
          for a in ("CreateAccessKey", "DeleteAccessKey", "DeleteUser", "GetUser", "ListUserTags",
                    "ListAttachedUserPolicies", "ListAccessKeys")),
        Request("iam:UntagUser", user, untag(["stage"])),
    ]  # fmt: skip


# ---- what provisioning needs for its own resources --------------------------------------------
OWN_RESOURCE_REQUESTS = [
    *create_secret(SPEC_TAGS),
    *(Request(f"secretsmanager:{a}", f"{SECRET}:shop/api-key-AbCdEf", OURS)
      for a in ("UpdateSecret", "RotateSecret", "CancelRotateSecret", "DeleteSecret")),
    Request("secretsmanager:TagResource", f"{SECRET}:shop/api-key-AbCdEf",
            {**OURS, **tagging(SPEC_TAGS)}),
    Request("secretsmanager:GetRandomPassword", "*"),
    *create_key(SPEC_TAGS),
    *(Request(f"kms:{a}", f"{KEY}/1234abcd", OURS)
      for a in ("CreateAlias", "EnableKeyRotation", "DisableKeyRotation", "UpdateKeyDescription",
                "ScheduleKeyDeletion", "DeleteAlias", "PutKeyPolicy", "GetKeyPolicy")),
    Request("kms:PutKeyPolicy", f"{KEY}/1234abcd",
            {**OURS, "kms:BypassPolicyLockoutSafetyCheck": "false"}),
    *(Request(f"kms:{a}", f"{ALIAS}/shop", {}) for a in ("CreateAlias", "DeleteAlias")),
    Request("kms:TagResource", f"{KEY}/1234abcd", {**OURS, **tagging(SPEC_TAGS)}),
    Request("kms:GenerateDataKey", f"{KEY}/1234abcd",
            {**OURS, "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}),
    *create_repository(SPEC_TAGS),
    *(Request(f"ecr:{a}", f"{REPO}/shop/api", OURS)
      for a in ("PutImageScanningConfiguration", "PutImageTagMutability", "PutLifecyclePolicy",
                "DeleteLifecyclePolicy", "DeleteRepository")),
    Request("ecr:TagResource", f"{REPO}/shop/api", {**OURS, **tagging(SPEC_TAGS)}),
    *create_role(SPEC_TAGS, STACK_BOUNDARY),
    Request("iam:AttachRolePolicy", ROLE, {**boundary_ctx(), "iam:PolicyARN": POLICY}),
    Request("iam:DetachRolePolicy", ROLE, {**boundary_ctx(), "iam:PolicyARN": POLICY}),
    Request("iam:AttachRolePolicy", ROLE, {**boundary_ctx(), "iam:PolicyARN": ECR_READ_ONLY}),
    Request("iam:DetachRolePolicy", ROLE, {**boundary_ctx(), "iam:PolicyARN": ECR_READ_ONLY}),
    Request("iam:PutRolePermissionsBoundary", ROLE, boundary_ctx()),
    Request("iam:DeleteRolePolicy", ROLE, boundary_ctx()),
    *(Request(f"iam:{a}", ROLE, OURS)
      for a in ("UpdateRole", "UpdateAssumeRolePolicy", "DeleteRole")),
    Request("iam:TagRole", ROLE, {**OURS, **tagging(SPEC_TAGS)}),
    Request("iam:CreatePolicy", POLICY, tagging(SPEC_TAGS)),
    Request("iam:TagPolicy", POLICY, tagging(SPEC_TAGS)),
    *(Request(f"iam:{a}", POLICY, OURS)
      for a in ("CreatePolicyVersion", "DeletePolicyVersion", "DeletePolicy")),
    Request("iam:CreateInstanceProfile", PROFILE, tagging(SPEC_TAGS)),
    Request("iam:TagInstanceProfile", PROFILE, tagging(SPEC_TAGS)),
    *(Request(f"iam:{a}", PROFILE, OURS)
      for a in ("AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile",
                "DeleteInstanceProfile")),
    *(Request(f"iam:{a}", OIDC, tagging(SPEC_TAGS))
      for a in ("CreateOpenIDConnectProvider", "TagOpenIDConnectProvider")),
    *(Request(f"iam:{a}", OIDC, OURS)
      for a in ("GetOpenIDConnectProvider", "ListOpenIDConnectProviderTags",
                "AddClientIDToOpenIDConnectProvider", "RemoveClientIDFromOpenIDConnectProvider",
                "UpdateOpenIDConnectProviderThumbprint", "DeleteOpenIDConnectProvider")),
    Request("iam:TagOpenIDConnectProvider", OIDC, {**OURS, **tagging(SPEC_TAGS)}),
    Request("iam:ListOpenIDConnectProviders", "*"),
    *user_requests(USER),
    *user_requests(ROTATED_USER),
    Request("iam:ListUsers", "*"),
    *create_log_group(SPEC_TAGS),
    *(Request(f"logs:{a}", f"{LOGS}:/shop/service", OURS)
      for a in ("PutRetentionPolicy", "DeleteRetentionPolicy", "PutSubscriptionFilter",
                "DeleteSubscriptionFilter", "DeleteLogGroup")),
    *(Request(f"sns:{a}", f"{TOPIC}:shop-releases", tagging(SPEC_TAGS))
      for a in ("CreateTopic", "TagResource")),
    *(Request(f"sns:{a}", f"{TOPIC}:shop-releases", OURS)
      for a in ("Subscribe", "Unsubscribe", "SetTopicAttributes", "DeleteTopic",
                "GetTopicAttributes", "ListSubscriptionsByTopic", "ListTagsForResource")),
    Request("sns:TagResource", f"{TOPIC}:shop-releases", {**OURS, **tagging(SPEC_TAGS)}),
    Request("sns:ListTopics", "*"),
    *create_alarm(f"{STACK}/shop-errors"),
    Request("cloudwatch:DeleteAlarms", f"{ALARM}:{STACK}/shop-errors"),
    Request("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:"
            f"{STACK}-rotation"),
    *(Request(action, arn, untag(["stage", "opswire:severity"])) for action, arn in UNTAGS),
]  # fmt: skip


@pytest.mark.parametrize("request_", OWN_RESOURCE_REQUESTS, ids=lambda r: r.action)
def test_provisioning_may_create_change_and_delete_its_own_resources(request_: Request) -> None:
    assert decide(request_) == "allowed"


FOREIGN_SECRET = f"{SECRET}:payments/db-password-XyZ123"
FOREIGN_KEY = f"{KEY}/9999ffff"
FOREIGN_REPO = f"{REPO}/payments/api"
REFUSED = {
    # another team's secret, key or repository cannot be made ours, changed or deleted
    "tag a foreign secret": Request("secretsmanager:TagResource", FOREIGN_SECRET,
                                    {**FOREIGN, **tagging({MANAGED_BY: STACK})}),
    "tag an untagged secret": Request("secretsmanager:TagResource", FOREIGN_SECRET,
                                      tagging({MANAGED_BY: STACK})),
    "delete a foreign secret": Request("secretsmanager:DeleteSecret", FOREIGN_SECRET, FOREIGN),
    "delete another stack's secret": Request("secretsmanager:DeleteSecret", FOREIGN_SECRET,
                                             OTHER_STACK),
    "retag another stack's secret": Request("secretsmanager:TagResource", FOREIGN_SECRET,
                                            {**OTHER_STACK, **tagging({MANAGED_BY: STACK})}),
    "create a secret without the tag": create_secret({"opswire:spec": "shop"})[0],
    "tag a foreign key": Request("kms:TagResource", FOREIGN_KEY,
                                 {**FOREIGN, **tagging({MANAGED_BY: STACK})}),
    "tag an untagged key": Request("kms:TagResource", FOREIGN_KEY,
                                   tagging({MANAGED_BY: STACK})),
    "schedule a foreign key's deletion": Request("kms:ScheduleKeyDeletion", FOREIGN_KEY, FOREIGN),
    "disable a foreign key's rotation": Request("kms:DisableKeyRotation", FOREIGN_KEY, FOREIGN),
    "move a foreign alias": Request("kms:DeleteAlias", FOREIGN_KEY, FOREIGN),
    "create a key without the tag": create_key({"opswire:spec": "shop"})[0],
    "put a foreign key's policy": Request("kms:PutKeyPolicy", FOREIGN_KEY, FOREIGN),
    "put an untagged key's policy": Request("kms:PutKeyPolicy", FOREIGN_KEY, {}),
    "bypass the lockout check on our key": Request("kms:PutKeyPolicy", f"{KEY}/1234abcd",
                                                   {**OURS, BYPASS: "true"}),
    "create a key bypassing the lockout check": Request(
        "kms:CreateKey", "*", {**tagging(SPEC_TAGS), BYPASS: "true"}),
    "tag a foreign repository": Request("ecr:TagResource", FOREIGN_REPO,
                                        {**FOREIGN, **tagging({MANAGED_BY: STACK})}),
    "tag an untagged repository": Request("ecr:TagResource", FOREIGN_REPO,
                                          tagging({MANAGED_BY: STACK})),
    "delete a foreign repository": Request("ecr:DeleteRepository", FOREIGN_REPO, FOREIGN),
    "delete another stack's repository": Request("ecr:DeleteRepository", FOREIGN_REPO,
                                                 OTHER_STACK),
    # roles only inside the boundary
    "create a role without the boundary": create_role(SPEC_TAGS, None)[0],
    "create a role with another boundary": create_role(SPEC_TAGS, CUSTOMER_BOUNDARY)[0],
    "create a role outside /opswire/": create_role(SPEC_TAGS, STACK_BOUNDARY,
                                                   f"{ARN}:role/admin")[0],
    "put another boundary": Request("iam:PutRolePermissionsBoundary", ROLE,
                                    boundary_ctx(CUSTOMER_BOUNDARY)),
    "delete a role's boundary": Request("iam:DeleteRolePermissionsBoundary", ROLE, OURS),
    "attach AdministratorAccess": Request("iam:AttachRolePolicy", ROLE, {
        **boundary_ctx(), "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    "attach an AWS managed policy not on the allow-list": Request("iam:AttachRolePolicy", ROLE, {
        **boundary_ctx(), "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}),
    "attach an allow-listed policy to a role without the boundary": Request(
        "iam:AttachRolePolicy", ROLE, {**OURS, "iam:PolicyARN": ECR_READ_ONLY}),
    "attach a customer policy outside /opswire/": Request("iam:AttachRolePolicy", ROLE, {
        **boundary_ctx(), "iam:PolicyARN": f"{ARN}:policy/AdminLike"}),
    "attach to a role without the boundary": Request("iam:AttachRolePolicy", ROLE,
                                                     {**OURS, "iam:PolicyARN": POLICY}),
    "add an inline policy": Request("iam:PutRolePolicy", ROLE, boundary_ctx()),
    "change the boundary policy": Request("iam:CreatePolicyVersion", STACK_BOUNDARY, OURS),
    "delete the boundary policy": Request("iam:DeletePolicy", STACK_BOUNDARY, OURS),
    "delete another stack's role": Request("iam:DeleteRole", ROLE, OTHER_STACK),
    "retag another stack's role": Request("iam:TagRole", ROLE,
                                          {**OTHER_STACK, **tagging(SPEC_TAGS)}),
    "pass a role": Request("iam:PassRole", ROLE, OURS),
    "adopt a role an older opswire made": Request(
        "iam:TagRole", ROLE, {"aws:ResourceTag/opswire:spec": "shop", **tagging(SPEC_TAGS)}
    ),
    "adopt a log group an older opswire made": Request(
        "logs:TagResource", f"{LOGS}:/shop/old", {"aws:ResourceTag/opswire:spec": "shop",
                                                 **tagging(SPEC_TAGS)}
    ),
    # users: only inside the boundary, only the stack's, never a console password
    "create a user without the boundary": Request("iam:CreateUser", USER, tagging(SPEC_TAGS)),
    "create a user outside /opswire/": Request("iam:CreateUser", f"{ARN}:user/admin", {
        **tagging(SPEC_TAGS), "iam:PermissionsBoundary": STACK_BOUNDARY}),
    "create a user without the tag": Request("iam:CreateUser", USER, {
        **tagging({"opswire:spec": "shop"}), "iam:PermissionsBoundary": STACK_BOUNDARY}),
    "attach AdministratorAccess to a user": Request("iam:AttachUserPolicy", USER, {
        **boundary_ctx(), "iam:PolicyARN": ADMIN}),
    "attach to a user without the boundary": Request("iam:AttachUserPolicy", USER,
                                                     {**OURS, "iam:PolicyARN": POLICY}),
    "make a key for a foreign user": Request("iam:CreateAccessKey", f"{ARN}:user/opswire/x/y",
                                             FOREIGN),
    "make a key for an admin": Request("iam:CreateAccessKey", f"{ARN}:user/admin", OURS),
    "delete another stack's user": Request("iam:DeleteUser", USER, OTHER_STACK),
    "delete a user's boundary": Request("iam:DeleteUserPermissionsBoundary", USER, OURS),
    "give a user a console password": Request("iam:CreateLoginProfile", USER, OURS),
    "retag another stack's user": Request("iam:TagUser", USER,
                                          {**OTHER_STACK, **tagging(SPEC_TAGS)}),
    # a rotated key's user: only in a sub-path of RotatedIamUserPath, with the same conditions
    "create a rotated user without the boundary": Request("iam:CreateUser", ROTATED_USER,
                                                          tagging(SPEC_TAGS)),
    "attach AdministratorAccess to a rotated user": Request("iam:AttachUserPolicy", ROTATED_USER,
                                                            {**boundary_ctx(),
                                                             "iam:PolicyARN": ADMIN}),
    "delete another stack's rotated user": Request("iam:DeleteUser", ROTATED_USER, OTHER_STACK),
    "make a key for a foreign rotated user": Request("iam:CreateAccessKey", ROTATED_USER,
                                                     FOREIGN),
    "delete a rotated user's boundary": Request("iam:DeleteUserPermissionsBoundary",
                                                ROTATED_USER, OURS),
    "give a rotated user a console password": Request("iam:CreateLoginProfile", ROTATED_USER,
                                                      OURS),
    "untag opswire:spec of a rotated user": Request("iam:UntagUser", ROTATED_USER,
                                                    untag(["opswire:spec"])),
    # the operator's CI user right under RotatedIamUserPath is never reached
    "tag a CI user under the rotated path": Request("iam:TagUser", CI_USER, tagging(SPEC_TAGS)),
    "create a user right under the rotated path": Request("iam:CreateUser", CI_USER, {
        **tagging(SPEC_TAGS), "iam:PermissionsBoundary": STACK_BOUNDARY}),
    "make a key for a CI user, even tagged": Request("iam:CreateAccessKey", CI_USER, OURS),
    "delete a CI user, even tagged": Request("iam:DeleteUser", CI_USER, OURS),
    # OIDC providers: only the stack's (an account has one per URL, often shared)
    "create an OIDC provider without the tag": Request(
        "iam:CreateOpenIDConnectProvider", OIDC, tagging({"opswire:spec": "shop"})),
    "delete a foreign OIDC provider": Request("iam:DeleteOpenIDConnectProvider", OIDC, FOREIGN),
    "delete an untagged OIDC provider": Request("iam:DeleteOpenIDConnectProvider", OIDC, {}),
    "add an audience to another stack's provider": Request(
        "iam:AddClientIDToOpenIDConnectProvider", OIDC, OTHER_STACK),
    "retag another stack's OIDC provider": Request(
        "iam:TagOpenIDConnectProvider", OIDC, {**OTHER_STACK, **tagging(SPEC_TAGS)}),
    "adopt an OIDC provider an older opswire made": Request(
        "iam:TagOpenIDConnectProvider", OIDC,
        {"aws:ResourceTag/opswire:spec": "shop", **tagging(SPEC_TAGS)}),
    # topics: only the stack's, never the stack's own (AlarmTopic & co.)
    "create a topic without the tag": Request("sns:CreateTopic", f"{TOPIC}:shop-releases",
                                              tagging({"opswire:spec": "shop"})),
    "subscribe to a foreign topic": Request("sns:Subscribe", f"{TOPIC}:payments", FOREIGN),
    "subscribe to an untagged topic": Request("sns:Subscribe", f"{TOPIC}:payments", {}),
    "delete another stack's topic": Request("sns:DeleteTopic", f"{TOPIC}:payments", OTHER_STACK),
    "retag another stack's topic": Request("sns:TagResource", f"{TOPIC}:payments",
                                           {**OTHER_STACK, **tagging(SPEC_TAGS)}),
    "tag the stack's alarm topic": Request("sns:TagResource", f"{TOPIC}:{STACK}-AlarmTopic-1A2B",
                                           tagging(SPEC_TAGS)),
    "subscribe to the stack's alarm topic, tagged": Request(
        "sns:Subscribe", f"{TOPIC}:{STACK}-AlarmTopic-1A2B", OURS),
    # alarms: only <stack>/...; the stack's own failure alarms are not under it
    "delete the stack's failure alarm": Request(
        "cloudwatch:DeleteAlarms", f"{ALARM}:{STACK}-ProvisioningWorkflowFailedAlarm-1A2B3C"),
    "delete any other alarm": Request("cloudwatch:DeleteAlarms", f"{ALARM}:payments-5xx"),
    "put an alarm outside the prefix": create_alarm(f"{STACK}-spec-errors")[0],
    "delete another stack's alarm": Request("cloudwatch:DeleteAlarms",
                                            f"{ALARM}:opswire-dev/shop-errors"),
    # log groups
    "delete a foreign log group": Request("logs:DeleteLogGroup", f"{LOGS}:/payments", FOREIGN),
    "delete a Lambda log group": Request("logs:DeleteLogGroup", f"{LOGS}:/aws/lambda/x", OURS),
    "tag the stack's demo log group": Request("logs:TagResource", f"{LOGS}:/{STACK}/demo",
                                              tagging(SPEC_TAGS)),
    "retag another stack's log group": Request("logs:TagResource", f"{LOGS}:/payments",
                                               {**OTHER_STACK, **tagging(SPEC_TAGS)}),
    # tags: a spec's keys go, opswire's own never, and nothing on what is not the stack's
    **{f"{action} {key}": Request(action, arn, untag(["stage", key]))
       for action, arn in UNTAGS
       for key in (MANAGED_BY, "opswire:spec", "opswire:execution")},
    **{f"{action} on another stack's": Request(action, arn, untag(["stage"], OTHER_STACK))
       for action, arn in UNTAGS if not action.startswith("cloudwatch:")},
    **{f"{action} on a foreign one": Request(action, arn, untag(["stage"], FOREIGN))
       for action, arn in UNTAGS if not action.startswith("cloudwatch:")},
    "untag any other alarm": Request("cloudwatch:UntagResource", f"{ALARM}:payments-5xx",
                                     untag(["stage"], {})),
    "untag the stack's alarm topic": Request("sns:UntagResource",
                                             f"{TOPIC}:{STACK}-AlarmTopic-1A2B", untag(["x"])),
    "untag the stack's demo log group": Request("logs:UntagResource", f"{LOGS}:/{STACK}/demo",
                                                untag(["x"])),
    # reading a secret's value is never needed
    "read a secret value": Request("secretsmanager:GetSecretValue",
                                   f"{SECRET}:shop/api-key-AbCdEf", OURS),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_provisioning_may_not_touch_what_is_not_its_own(case: str) -> None:
    assert decide(REFUSED[case]) != "allowed", case


def test_a_customer_boundary_replaces_the_stacks_everywhere() -> None:
    parameters = {"ProvisioningBoundaryArn": CUSTOMER_BOUNDARY}
    env = function_environment("ProvisionWriteFunction", parameters)
    assert env["PERMISSIONS_BOUNDARY_ARN"] == CUSTOMER_BOUNDARY
    assert decide(create_role(SPEC_TAGS, CUSTOMER_BOUNDARY)[0], parameters) == "allowed"
    assert decide(create_role(SPEC_TAGS, STACK_BOUNDARY)[0], parameters) != "allowed"
    change = Request("iam:CreatePolicyVersion", CUSTOMER_BOUNDARY, OURS)
    assert decide(change, parameters) == "explicit-deny"


def test_the_managed_policy_allow_list_is_the_stack_owners() -> None:
    def attach(policy: str, parameters: dict[str, str]) -> str:
        request = Request("iam:AttachRolePolicy", ROLE, {**boundary_ctx(), "iam:PolicyARN": policy})
        return decide(request, parameters)

    assert attach(ADMIN, {}) != "allowed"
    assert attach(ECR_READ_ONLY, {"ProvisioningManagedPolicies": ""}) != "allowed"
    assert attach(f"{ARN}:policy/opswire/shop/shop-read", {"ProvisioningManagedPolicies": ""}) == (
        "allowed"
    )
    only_admin = {"ProvisioningManagedPolicies": "AdministratorAccess"}
    assert attach(ADMIN, only_admin) == "allowed"  # listed explicitly: the owner's choice
    assert attach(ECR_READ_ONLY, only_admin) != "allowed"
    assert attach("arn:aws:iam::aws:policy/AdministratorAccess-Amplify", only_admin) != "allowed"
    for function in ("ProvisionReadFunction", "ProvisionWriteFunction"):
        env = function_environment(function, only_admin)
        assert env["ALLOWED_MANAGED_POLICIES"] == "AdministratorAccess"


def test_both_functions_get_the_arn_the_stacks_boundary_policy_has() -> None:
    boundary = template().resources["ProvisioningBoundary"]
    assert boundary["Condition"] == "UseStackBoundary"
    properties = boundary["Properties"]
    name = properties["ManagedPolicyName"]["Fn::Sub"].replace("${AWS::StackName}", STACK)
    assert f"{ARN}:policy{properties['Path']}{name}" == STACK_BOUNDARY
    for function in ("ProvisionReadFunction", "ProvisionWriteFunction"):
        env = function_environment(function)
        assert (env["PERMISSIONS_BOUNDARY_ARN"], env["STACK_NAME"]) == (STACK_BOUNDARY, STACK)


BOUNDED = {
    "s3:GetObject": ("arn:aws:s3:::shop-data/orders/1.json", {}, "allowed"),
    "iam:CreateRole": (f"{ARN}:role/x", {}, "explicit-deny"),
    "iam:PassRole": (f"{ARN}:role/x", {}, "explicit-deny"),
    "iam:DeleteRolePermissionsBoundary": (ROLE, {}, "explicit-deny"),
    "organizations:LeaveOrganization": ("*", {}, "explicit-deny"),
    "secretsmanager:TagResource": (FOREIGN_SECRET, tagging({MANAGED_BY: STACK}), "explicit-deny"),
    "ecr:TagResource": (FOREIGN_REPO, tagging({"team": "payments"}), "allowed"),
}


@pytest.mark.parametrize("action", sorted(BOUNDED))
def test_the_boundary_caps_roles_of_a_spec(action: str) -> None:
    """What a role of a spec could do if its own policies allowed everything."""
    resource, context, expected = BOUNDED[action]
    assert evaluate(boundary_statements(), Request(action, resource, context)) == expected


def test_plan_reads_the_policy_of_a_subscribed_queue_or_function_of_this_account_only() -> None:
    """ProvisionReadFunction (plan, verify) reads what decides whether SNS can deliver."""
    statements = function_statements("ProvisionReadFunction")
    queue = f"arn:aws:sqs:us-west-2:{ACCOUNT_ID}:orders"
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:on-release"
    for action, arn in [("sqs:GetQueueUrl", queue), ("sqs:GetQueueAttributes", queue),
                        ("lambda:GetPolicy", function)]:  # fmt: skip
        assert evaluate(statements, Request(action, arn)) == "allowed", action
        other = arn.replace(ACCOUNT_ID, "210987654321")
        assert evaluate(statements, Request(action, other)) != "allowed", action
    for action in ("sqs:ReceiveMessage", "sqs:SetQueueAttributes", "lambda:AddPermission"):
        assert evaluate(statements, Request(action, queue if "sqs" in action else function)) != (
            "allowed"
        )
    # the write function neither reads nor changes them (apply follows the plan's check)
    write = function_statements("ProvisionWriteFunction")
    assert evaluate(write, Request("lambda:AddPermission", function)) != "allowed"
    assert evaluate(write, Request("sqs:SetQueueAttributes", queue)) != "allowed"


def test_users_of_rotated_keys_follow_the_rotated_iam_user_path() -> None:
    """A spec user whose key is rotated is under <RotatedIamUserPath><spec>/: the write function
    follows the parameter; at "/" it gets no user outside /opswire/ (user/*/* would be every
    user with a path), and plan refuses the rotated key (test_spec_identity)."""
    custom = {"RotatedIamUserPath": "/ci/keys/"}
    for request in user_requests(f"{ARN}:user/ci/keys/shop/shop-smtp"):
        assert decide(request, custom) == "allowed", request
        assert decide(request) != "allowed", request  # not under the default path
    for request in user_requests(ROTATED_USER):
        assert decide(request, custom) != "allowed", request
    root = {"RotatedIamUserPath": "/"}
    for user in (ROTATED_USER, f"{ARN}:user/team/admin", f"{ARN}:user/admin"):
        for request in user_requests(user):
            assert decide(request, root) != "allowed", request
    for request in user_requests(USER):
        assert decide(request, root) == "allowed", request
    # the rotation function may rotate the keys of exactly the users the write function places
    rotation = function_statements("SecretRotationFunction")
    for action in ("iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey"):
        assert evaluate(rotation, Request(action, ROTATED_USER)) == "allowed"
        assert evaluate(rotation, Request(action, USER)) != "allowed"
