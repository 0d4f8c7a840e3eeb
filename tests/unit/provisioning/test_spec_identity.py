"""The identity additions of a spec (issue 14): OIDC providers and GitHub trust become the exact
IAM documents; what the posture check would refuse is refused at plan."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from opswire.core.errors import SpecValidationError
from opswire.provisioning.aws.iam import RoleDriver
from opswire.provisioning.resources import Context, Resource, expand
from opswire.provisioning.spec import load_spec, parse_spec
from tests.conftest import REPO_ROOT
from tests.unit.provisioning.template_iam import template

CTX = Context(account="123456789012", region="eu-west-1")
GITHUB = "token.actions.githubusercontent.com"


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecValidationError) as caught:
        parse_spec({"name": "demo", **data})
    return caught.value.problems


def resource(data: dict[str, Any], kind: str) -> Resource:
    return next(r for r in expand(parse_spec({"name": "demo", **data}), CTX) if r.kind == kind)


def github_role(**trust: Any) -> dict[str, Any]:
    return {"roles": [{"name": "deployer", "trust": {"github": {"repo": "acme/shop", **trust}}}]}


def test_the_github_provider_is_thumbprint_free_with_the_sts_audience() -> None:
    provider = resource({"oidc_providers": [{}]}, "oidc_provider")
    assert provider.name == GITHUB
    assert provider.desired["url"] == f"https://{GITHUB}"
    assert provider.desired["audiences"] == ["sts.amazonaws.com"]
    assert "thumbprints" not in provider.desired


def test_github_trust_gives_the_exact_sub_and_aud_conditions() -> None:
    role = resource(github_role(branches=["main"], environments=["production"]), "role")
    assert role.desired["trust"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{GITHUB}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{GITHUB}:aud": "sts.amazonaws.com",
                    f"{GITHUB}:sub": [
                        "repo:acme/shop:ref:refs/heads/main",
                        "repo:acme/shop:environment:production",
                    ],
                }
            },
        }
    ]
    assert role.desired["instance_profile"] is False
    assert RoleDriver(CTX).posture(role, role.desired) == []


@pytest.mark.parametrize(
    ("trust", "message"),
    [
        ({}, "trust github needs branches or environments"),
        ({"branches": ["release/*"]}, "no wildcards"),
        ({"environments": ["prod?"]}, "no wildcards"),
    ],
)
def test_a_repository_wide_or_wildcard_trust_is_refused_at_plan(
    trust: dict[str, Any], message: str
) -> None:
    found = problems(github_role(**trust))
    assert len(found) == 1 and message in found[0], found
    assert found[0].startswith("roles[deployer].trust.github")


def test_a_bad_repo_or_provider_is_named_where_it_is() -> None:
    found = problems(
        {
            "oidc_providers": [{"url": "http://example.com"}, {"thumbprints": ["abc"]}],
            **github_role(repo="not a repo", branches=["main"]),
        }
    )
    assert any(p.startswith("oidc_providers[0].url: 'http://example.com'") for p in found)
    assert any("thumbprint 'abc' is not 40 hex digits" in p for p in found)
    assert any("'not a repo' is not a GitHub owner/name" in p for p in found)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({}, ["web-identity trust without an exact sub condition"]),
        ({"StringLike": {f"{GITHUB}:sub": "repo:acme/*"}},
         ["web-identity trust without an exact sub condition"]),
        ({"StringEquals": {f"{GITHUB}:sub": "repo:acme/shop:ref:refs/heads/main"}},
         ["web-identity trust without an aud condition"]),
    ],
)  # fmt: skip
def test_posture_refuses_a_web_identity_trust_anyone_on_github_could_use(
    condition: dict[str, Any], expected: list[str]
) -> None:
    statement = {"Principal": {"Federated": "arn:x"}, "Action": "sts:AssumeRoleWithWebIdentity"}
    trust = {"Statement": [{**statement, "Condition": condition}]}
    assert RoleDriver(CTX).posture(Resource("role", "r", {}), {"trust": trust}) == expected


def test_the_github_example_validates() -> None:
    spec = load_spec((REPO_ROOT / "examples/github-container-app.yaml").read_text())
    assert spec.oidc_providers[0].host == GITHUB
    github = spec.roles[0].trust.github
    assert github is not None and github.subjects == [
        "repo:acme/storefront:ref:refs/heads/main",
        "repo:acme/storefront:environment:production",
    ]


def test_managed_policies_come_only_from_the_stacks_allow_list() -> None:
    data = {
        "roles": [
            {
                "name": "web",
                "trust": {"service": "ec2.amazonaws.com"},
                "managed_policies": ["AWSElasticBeanstalkWebTier", "AdministratorAccess"],
            }
        ]
    }
    spec = parse_spec({"name": "demo", **data})
    with pytest.raises(SpecValidationError) as caught:
        expand(spec, Context(account="1", region="eu-west-1",
                             allowed_managed_policies=("AWSElasticBeanstalkWebTier",)))  # fmt: skip
    assert caught.value.problems == [
        "roles[web].managed_policies: 'AdministratorAccess' is not on the stack's allow-list "
        "(ProvisioningManagedPolicies: AWSElasticBeanstalkWebTier)"
    ]
    listed = ("AdministratorAccess", "AWSElasticBeanstalkWebTier")
    owner = Context(account="1", region="eu-west-1", allowed_managed_policies=listed)
    role = next(r for r in expand(spec, owner) if r.kind == "role")
    assert role.desired["policies"] == [
        "arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier",
        "arn:aws:iam::aws:policy/AdministratorAccess",
    ]


@pytest.mark.parametrize("name", ["arn:aws:iam::aws:policy/X", "Bad Name", ""])
def test_a_managed_policy_is_named_not_an_arn(name: str) -> None:
    found = problems({"roles": [{"name": "r", "trust": {"service": "ec2.amazonaws.com"},
                                 "managed_policies": [name]}]})  # fmt: skip
    assert len(found) == 1 and found[0].startswith("roles[r].managed_policies"), found


def statement_with(conditions: Any) -> dict[str, Any]:
    statement = {"actions": ["kms:Decrypt"], "resources": ["arn:aws:kms:eu-west-1:1:key/k"],
                 "conditions": conditions}  # fmt: skip
    return {"policies": [{"name": "p", "grants": [{"statement": statement}]}]}


def test_statement_conditions_become_the_iam_condition_block() -> None:
    data = statement_with(
        {
            "StringEquals": {"kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com"]},
            "Bool": {"aws:SecureTransport": True},
            "ForAnyValue:StringLike": {"kms:ResourceAliases": ["alias/a*", "alias/b*"]},
        }
    )
    document = resource(data, "policy").desired["document"]
    assert document["Statement"] == [
        {
            "Sid": "S0",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": ["arn:aws:kms:eu-west-1:1:key/k"],
            "Condition": {
                "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"},
                "Bool": {"aws:SecureTransport": "true"},
                "ForAnyValue:StringLike": {"kms:ResourceAliases": ["alias/a*", "alias/b*"]},
            },
        }
    ]


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"StringEqual": {"kms:ViaService": "x"}}, "'StringEqual' is not an IAM condition"),
        ({"StringEquals": {"ViaService": "x"}}, "'ViaService' is not a condition key"),
        ({"StringEquals": {}}, "condition StringEquals names no key"),
        ({"StringEquals": {"kms:ViaService": []}}, "has no value"),
    ],
)
def test_a_bad_condition_is_one_precise_line(conditions: Any, message: str) -> None:
    found = problems(statement_with(conditions))
    assert len(found) == 1 and message in found[0], found
    assert found[0].startswith("policies[p].grants[0].statement.conditions"), found


def test_a_condition_never_excuses_a_wildcard_on_everything() -> None:
    via = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    statement = {"actions": ["kms:*"], "resources": ["*"], "allow_wildcard": True,
                 "conditions": via}  # fmt: skip
    found = problems({"policies": [{"name": "p", "grants": [{"statement": statement}]}]})
    assert len(found) == 1 and "allows ['kms:*'] on resource *" in found[0], found


def test_key_policy_grants_keep_the_account_statement_and_name_the_roles() -> None:
    spec = load_spec((REPO_ROOT / "examples/terraform-state.yaml").read_text())
    rotation = "arn:aws:iam::123456789012:role/opswire-prod-SecretRotationFunctionRole-1A2B"
    data = spec.model_dump(mode="json")
    data["kms_keys"][0]["key_policy"].append({"role_arn": rotation, "via": "secretsmanager"})
    key = next(r for r in expand(parse_spec(data), CTX) if r.kind == "kms_key")
    assert key.desired["key_policy"]["Statement"] == [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "Grant0", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
                    "kms:ReEncryptFrom", "kms:ReEncryptTo"],
         "Resource": "*",
         "Condition": {
             "ArnEquals": {"aws:PrincipalArn":
                           "arn:aws:iam::123456789012:role/opswire/terraform-state/terraform-state-ci"},
             "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}},
        {"Sid": "Grant1", "Effect": "Allow", "Principal": {"AWS": rotation},
         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
         "Condition": {"StringEquals": {
             "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}},
    ]  # fmt: skip


def test_a_grant_to_a_stack_function_names_the_role_it_runs_with() -> None:
    grant = {"stack_function": "DatabaseRotationFunction", "use": "encrypt-decrypt",
             "via": "secretsmanager"}  # fmt: skip
    spec = parse_spec({"name": "demo", "kms_keys": [{"alias": "k", "key_policy": [grant]}]})
    database_role = "arn:aws:iam::123456789012:role/opswire-prod-DatabaseRotationFunctionRole-9Z"
    ctx = Context(
        account="123456789012",
        region="eu-west-1",
        rotation_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:rotate",
        rotation_function_role_arn="arn:aws:iam::123456789012:role/other-function-role",
        database_rotation_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:db",
        database_rotation_function_role_arn=database_role,
        rotated_secret_prefix="opswire/rotated/",
    )
    key = next(r for r in expand(spec, ctx) if r.kind == "kms_key")
    assert key.desired["key_policy"]["Statement"][1] == {
        "Sid": "Grant0", "Effect": "Allow", "Principal": {"AWS": database_role},
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
                   "kms:ReEncryptFrom", "kms:ReEncryptTo"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
    }  # fmt: skip
    # a stack that does not say the role: refused at plan, one line
    without_role = Context(**{**ctx.__dict__, "database_rotation_function_role_arn": ""})
    with pytest.raises(SpecValidationError) as caught:
        expand(spec, without_role)
    assert caught.value.problems == [
        "kms_keys[k].key_policy: stack_function DatabaseRotationFunction: the "
        "stack does not say that function's role (DatabaseRotationFunctionRoleArn is not "
        "configured)"
    ]


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        ({"role": "nobody"}, "kms_keys.k.key_policy: role 'nobody' is not declared in this spec"),
        ({"role_arn": "arn:aws:iam::123456789012:role/*"}, "is not an IAM role ARN"),
        ({}, "a key grant names exactly one of role, role_arn or stack_function"),
        ({"stack_function": "DatabaseRotationFunction", "role": "r"}, "exactly one of"),
        ({"stack_function": "ProvisionWriteFunction"}, "stack_function: Input should be"),
        ({"role": "r", "role_arn": "arn:aws:iam::123456789012:role/x"}, "exactly one of"),
        ({"role": "r", "use": "admin"}, "use: Input should be 'decrypt' or 'encrypt-decrypt'"),
    ],
)
def test_a_bad_key_grant_is_one_line(grant: dict[str, Any], message: str) -> None:
    role = {"name": "r", "trust": {"service": "ec2.amazonaws.com"}}
    found = problems({"kms_keys": [{"alias": "k", "key_policy": [grant]}], "roles": [role]})
    assert len(found) == 1 and message in found[0], found


def test_posture_refuses_a_key_policy_open_to_anyone() -> None:
    from opswire.provisioning.aws.kms import KmsKeyDriver

    policy = {"Statement": [{"Sid": "Open", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt"}]}
    found = KmsKeyDriver(CTX).posture(Resource("kms_key", "k", {}),
                                      {"rotation": True, "key_policy": policy})  # fmt: skip
    assert found == ["key policy statement Open allows anyone"]


def test_the_routing_tags_are_the_ones_the_alarm_workflow_reads() -> None:
    from opswire.alarms import incidents
    from opswire.provisioning import spec_notify

    for name in ("SEVERITY", "SLACK_CHANNEL", "EMAIL", "RUNBOOK", "MENTION"):
        assert getattr(spec_notify, f"TAG_{name}") == getattr(incidents, f"TAG_{name}")


@pytest.mark.parametrize(
    ("alarm", "message"),
    [
        ({"severity": "urgent"}, "alarms[a].severity: Input should be 'critical', 'warning'"),
        ({"route": {"slack_channel": "#a,#b"}}, "cannot be an alarm tag value"),
        ({"route": {"email": "a@example.com,b@example.com"}}, "is not one email address"),
        ({"route": {"runbook": "https://x/?a=1&b=2"}}, "cannot be an alarm tag value"),
        ({"tags": {"opswire:severity": "info"}}, "reserved or invalid"),
        (
            {"route": {"channel": "x"}},
            "alarms[a].route: unsupported key 'channel' (did you mean 'slack_channel'?)",
        ),
    ],
)
def test_a_bad_alarm_route_is_one_line(alarm: dict[str, Any], message: str) -> None:
    data = {"name": "a", "namespace": "N", "metric": "M", "threshold": 1, **alarm}
    found = problems({"alarms": [data]})
    assert len(found) == 1 and message in found[0], found


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ({"name": "a.b"}, "'a.b' is not an SNS topic name"),
        ({"name": "t", "subscriptions": [{"protocol": "email", "endpoint": "nobody"}]},
         "'nobody' is not a email endpoint"),
        ({"name": "t", "subscriptions": [{"protocol": "sqs", "endpoint": "arn:aws:sqs:x"}]},
         "is not a sqs endpoint"),
        ({"name": "t", "subscriptions": [{"protocol": "http", "endpoint": "http://x"}]},
         "topics[t].subscriptions[0].protocol: Input should be"),
        ({"name": "t", "kms_key": "missing"}, "kms key 'missing' is not declared"),
    ],
)  # fmt: skip
def test_a_bad_topic_is_one_line(topic: dict[str, Any], message: str) -> None:
    found = problems({"topics": [topic]})
    assert len(found) == 1 and message in found[0], found


def test_a_topic_is_encrypted_with_its_key_or_the_sns_key() -> None:
    spec = parse_spec({"name": "demo", "kms_keys": [{"alias": "k"}],
                       "topics": [{"name": "a", "kms_key": "k"}, {"name": "b"}]})  # fmt: skip
    topics = [r for r in expand(spec, CTX) if r.kind == "topic"]
    assert [t.desired["kms_key"] for t in topics] == ["alias/k", "alias/aws/sns"]


def test_a_user_with_an_access_key_plans_no_key_material() -> None:
    spec = load_spec((REPO_ROOT / "examples/beanstalk-mail-app.yaml").read_text())
    ctx = Context(account="123456789012", region="eu-west-1", rotation_function_arn="arn:rot",
                  rotated_iam_user_path="/opswire-rotated/",
                  allowed_managed_policies=("AWSElasticBeanstalkWebTier",))  # fmt: skip
    user = next(r for r in expand(spec, ctx) if r.kind == "user")
    assert user.desired["path"] == "/opswire-rotated/beanstalk-mail-app/"
    assert user.desired["access_key_secret"] == "opswire/rotated/beanstalk-mail-app/smtp"
    assert (user.desired["rotation_days"], user.desired["rotation_function"]) == (90, "arn:rot")
    assert user.desired["policies"] == [
        "arn:aws:iam::123456789012:policy/opswire/beanstalk-mail-app/beanstalk-mail-app-send"
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"users": [{"name": "u", "access_key": {"secret": "s", "kms_key": "k"}}]},
         "users.u.access_key: kms key 'k' is not declared"),
        ({"users": [{"name": "u", "policies": ["p"]}]}, "users.u: policy 'p' is not declared"),
        ({"users": [{"name": "u", "access_key": {"secret": "s"}}], "secrets": [{"name": "s"}]},
         "secrets and users' access keys: declared twice: s"),
        ({"users": [{"name": "u", "login_profile": True}]},
         "users[u]: unsupported key 'login_profile'"),
    ],
)  # fmt: skip
def test_a_bad_user_is_one_line(data: dict[str, Any], message: str) -> None:
    found = problems(data)
    assert len(found) == 1 and message in found[0], found


ROTATING = Context(account="123456789012", region="eu-west-1", rotation_function_arn="arn:rot",
                   rotated_secret_prefix="opswire/rotated/",
                   rotated_iam_user_path="/opswire-rotated/")  # fmt: skip


def user_problems(access_key: dict[str, Any], ctx: Context = ROTATING) -> list[str]:
    spec = parse_spec({"name": "mail", "users": [{"name": "smtp", "access_key": access_key}]})
    try:
        expand(spec, ctx)
    except SpecValidationError as exc:
        return exc.problems
    return []


def user_path_of(access_key: dict[str, Any] | None, ctx: Context = ROTATING) -> str:
    user: dict[str, Any] = {"name": "smtp", **({"access_key": access_key} if access_key else {})}
    spec = parse_spec({"name": "mail", "users": [user]})
    return next(r for r in expand(spec, ctx) if r.kind == "user").desired["path"]


def test_a_user_whose_key_is_rotated_is_placed_under_the_rotated_path() -> None:
    rotated = {"secret": "opswire/rotated/mail/smtp", "rotation_days": 90}
    assert user_path_of(rotated) == "/opswire-rotated/mail/"
    assert user_path_of(rotated, replace(ROTATING, rotated_iam_user_path="/ci/keys/")) == (
        "/ci/keys/mail/"
    )
    assert user_path_of(rotated, replace(ROTATING, rotated_iam_user_path="/opswire/")) == (
        "/opswire/mail/"
    )
    # without rotation (or without a key) the user stays under /opswire/<spec>/
    assert user_path_of({"secret": "opswire/rotated/mail/smtp"}) == "/opswire/mail/"
    assert user_path_of(None) == "/opswire/mail/"


def test_a_rotated_keys_secret_must_be_where_the_rotation_function_may_go() -> None:
    assert user_problems({"secret": "team/smtp", "rotation_days": 90}) == [
        "users[smtp].access_key.secret: a rotated key's secret must be named under the stack's "
        "rotation prefix 'opswire/rotated/', the only secrets its rotation function may touch "
        "(e.g. 'opswire/rotated/smtp')",
    ]
    under = {"secret": "opswire/rotated/mail/smtp", "rotation_days": 90}
    for path in ("/opswire-rotated/", "/opswire/", "/opswire/mail/", "/ci/"):
        assert user_problems(under, replace(ROTATING, rotated_iam_user_path=path)) == []
    # a key that is not rotated may be anywhere
    assert user_problems({"secret": "team/smtp"}) == []


def test_a_rotated_key_needs_a_rotated_user_path_the_write_function_may_use() -> None:
    under = {"secret": "opswire/rotated/mail/smtp", "rotation_days": 90}
    assert user_problems(under, replace(ROTATING, rotated_iam_user_path="/")) == [
        "users[smtp].access_key.rotation_days: the stack's RotatedIamUserPath is '/', where the "
        "write function may create no user (it would reach every user of the account): deploy "
        "the stack with a path of its own, such as the default /opswire-rotated/"
    ]
    assert user_problems(under, replace(ROTATING, rotated_iam_user_path="")) == [
        "users[smtp].access_key.rotation_days: needs the stack's RotatedIamUserPath, the path "
        "the user is placed under (ROTATED_IAM_USER_PATH is not configured)"
    ]
    # not rotated: no rotated path needed
    assert user_problems({"secret": "s"}, replace(ROTATING, rotated_iam_user_path="/")) == []


def template_default(name: str) -> str:
    return template().parameter_defaults()[name]


def test_the_beanstalk_example_plans_against_a_stack_with_the_default_parameters() -> None:
    spec = load_spec((REPO_ROOT / "examples/beanstalk-mail-app.yaml").read_text())
    ctx = replace(ROTATING, allowed_managed_policies=("AWSElasticBeanstalkWebTier",))
    assert ctx.rotated_iam_user_path == template_default("RotatedIamUserPath")
    assert ctx.rotated_secret_prefix == template_default("RotatedSecretPrefix")
    paths = {r.name: r.desired["path"] for r in expand(spec, ctx) if r.kind in ("user", "role")}
    assert paths == {
        "beanstalk-mail-app-web": "/opswire/beanstalk-mail-app/",
        "beanstalk-mail-app-smtp": "/opswire-rotated/beanstalk-mail-app/",
    }
