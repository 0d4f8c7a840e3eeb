"""ProjectSpec validation (every problem named where it is) and the IAM statements generated
from the spec's references."""

import pytest

from opswire.core.errors import SpecValidationError
from opswire.provisioning.engine import Plan, PlanItem
from opswire.provisioning.resources import Context, expand, policy_document
from opswire.provisioning.spec import load_spec, parse_spec
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"
CTX = Context(account="123456789012", region="eu-west-1")


def problems(data: object) -> list[str]:
    with pytest.raises(SpecValidationError) as caught:
        parse_spec(data)
    return caught.value.problems


def test_examples_validate() -> None:
    support = load_spec((EXAMPLES / "customer-support-agent.yaml").read_text())
    assert [b.folders for b in support.buckets] == [("catalogs/", "faqs/", "orders/", "policies/")]
    assert len(support.ecr_repositories) == 2
    assert support.roles[0].trust.service == "ec2.amazonaws.com"
    detector = load_spec((EXAMPLES / "anomaly-detector.yaml").read_text())
    assert all(s.kms_key == "anomaly-detector" and s.tags for s in detector.secrets)
    rotated = [
        (s.name, s.rotation_kind, s.rotation_days) for s in detector.secrets if s.rotation_days
    ]
    assert rotated == [("opswire/rotated/anomaly-detector/db", "postgres", 30)]
    assert [g.retention_days for g in detector.log_groups] == [30, 365]


def test_every_problem_is_reported_with_where_it_is() -> None:
    found = problems(
        {
            "name": "demo",
            "buckets": [{"name": "Bad_Bucket"}, {"name": "ok-bucket", "folders": ["a//b"]}],
            "log_groups": [{"name": "/x", "retention_days": 31}],
            "roles": [{"name": "r", "trust": {"service": "ec2.amazonaws.com", "aws": "1"}}],
        }
    )
    text = "\n".join(found)
    assert "buckets[Bad_Bucket].name: 'Bad_Bucket' is not a valid S3 bucket name" in text
    assert "buckets[ok-bucket].folders: folder 'a//b' is not a valid prefix" in text
    assert "log_groups[/x].retention_days: retention_days 31 is not one" in text
    assert "roles[r].trust: trust needs exactly one of service, aws or github" in text


def test_references_must_be_declared() -> None:
    found = problems(
        {
            "name": "demo",
            "buckets": [{"name": "demo-b", "encryption": {"type": "kms", "kms_key": "nokey"}}],
            "policies": [
                {
                    "name": "p",
                    "grants": [
                        {"read_bucket": {"bucket": "other-bucket"}},
                        {"read_secret": "demo/missing"},
                        {"pull_images": "demo/none"},
                    ],
                }
            ],
            "roles": [{"name": "r", "trust": {"service": "ec2.amazonaws.com"}, "policies": ["q"]}],
        }
    )
    text = "\n".join(found)
    assert "kms key 'nokey' is not declared" in text
    assert "bucket 'other-bucket' is not declared" in text
    assert "secret 'demo/missing' is not declared" in text
    assert "ECR repository 'demo/none' is not declared" in text
    assert "roles.r: policy 'q' is not declared" in text


def test_wildcards_only_when_explicit() -> None:
    base = {"name": "demo", "policies": [{"name": "p", "grants": []}]}
    wild = {"statement": {"actions": ["s3:*"], "resources": ["arn:aws:s3:::x"]}}
    base["policies"][0]["grants"] = [wild]  # type: ignore[index]
    assert any("allow_wildcard: true" in p for p in problems(base))
    wild["statement"]["allow_wildcard"] = True  # type: ignore[index]
    assert parse_spec(base).policies[0].grants


def test_duplicates_unknown_fields_and_bad_input() -> None:
    assert any(
        "declared twice: a-bucket" in p
        for p in problems({"name": "demo", "buckets": [{"name": "a-bucket"}] * 2})
    )
    assert problems({"name": "demo", "buckets": [{"name": "a-bucket", "public": True}]}) == [
        "buckets[a-bucket]: unsupported key 'public' (supported: name, folders, encryption, "
        "versioning, block_public_access, object_ownership, deny_insecure_transport, "
        "deny_unencrypted_uploads)"
    ]
    assert problems(["not", "a", "mapping"]) == [
        "(spec): a project spec is a mapping (name, buckets, ...)"
    ]
    with pytest.raises(SpecValidationError, match="not valid YAML"):
        load_spec("name: [unclosed")
    assert any("reserved" in p for p in problems({"name": "demo", "tags": {"aws:x": "1"}}))


def test_read_bucket_is_get_object_and_list_bucket_on_that_bucket_only() -> None:
    spec = load_spec((EXAMPLES / "customer-support-agent.yaml").read_text())
    document = policy_document(spec, CTX, spec.policies[0])
    assert document["Statement"] == [
        {
            "Sid": "S0",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::customer-support-agent-knowledge/*"],
        },
        {
            "Sid": "S1",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": ["arn:aws:s3:::customer-support-agent-knowledge"],
        },
    ]


def test_generated_statements_have_no_wildcard_actions() -> None:
    spec = load_spec((EXAMPLES / "anomaly-detector.yaml").read_text())
    document = policy_document(spec, CTX, spec.policies[0])
    actions = [a for s in document["Statement"] for a in s["Action"]]
    assert not [a for a in actions if a == "*" or a.endswith(":*")]
    secrets = [
        r
        for s in document["Statement"]
        if "secretsmanager:GetSecretValue" in s["Action"]
        for r in s["Resource"]
    ]
    assert secrets == [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:opswire/rotated/anomaly-detector/db-??????",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:anomaly-detector/datadog-api-key-??????",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:anomaly-detector/webhook-signing-key-??????",
    ]
    metrics = next(s for s in document["Statement"] if s["Action"] == ["cloudwatch:PutMetricData"])
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "AnomalyDetector"}}
    kms = [s for s in document["Statement"] if s["Action"] == ["kms:Decrypt"]]
    assert kms and kms[0]["Condition"]["StringEquals"] == {
        "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"
    }


def test_prefix_grant_limits_objects_and_listing() -> None:
    spec = parse_spec(
        {
            "name": "demo",
            "buckets": [{"name": "demo-data", "folders": ["orders/"]}],
            "policies": [
                {
                    "name": "p",
                    "grants": [{"write_bucket": {"bucket": "demo-data", "prefix": "orders"}}],
                }
            ],
        }
    )
    statements = policy_document(spec, CTX, spec.policies[0])["Statement"]
    assert statements[0]["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    assert statements[0]["Resource"] == ["arn:aws:s3:::demo-data/orders/*"]
    assert statements[1]["Condition"] == {"StringLike": {"s3:prefix": ["orders/", "orders/*"]}}


def test_stack_dependencies_are_checked_when_expanding() -> None:
    spec = parse_spec(
        {
            "name": "demo",
            "log_groups": [{"name": "/demo", "subscribe_to_shipper": True}],
            "alarms": [{"name": "a", "namespace": "N", "metric": "M", "threshold": 1}],
        }
    )
    with pytest.raises(SpecValidationError) as caught:
        expand(spec, CTX)
    assert len(caught.value.problems) == 2
    assert len(expand(spec, Context("1", "eu-west-1", "aws", "arn:topic", "arn:dest"))) == 2


def test_approval_rules() -> None:
    create = PlanItem(kind="bucket", name="b", action="create")
    update = PlanItem(kind="bucket", name="b", action="update")
    assert not Plan(spec="s", environment="dev", items=(create,)).needs_approval
    assert Plan(spec="s", environment="prod", items=(create,)).needs_approval
    assert Plan(spec="s", environment="dev", items=(update,)).needs_approval
    gone = PlanItem(kind="bucket", name="c", action="would-delete")
    assert Plan(spec="s", environment="dev", items=(gone,)).needs_approval
