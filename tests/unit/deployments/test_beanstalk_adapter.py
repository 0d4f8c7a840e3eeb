"""The Elastic Beanstalk adapter's requests, checked by botocore's Stubber against the real API
model, its error translation, and the source bundle / version label it is given."""

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from opswire.core.errors import BeanstalkError, BeanstalkRetryableError
from opswire.deployments.aws.beanstalk import BeanstalkEnvironments
from opswire.deployments.targets import source_bundle, version_label
from tests.conftest import REPO_ROOT

BUCKET = "opswire-deploy-artifacts"


@pytest.fixture
def stubs() -> Iterator[tuple[BeanstalkEnvironments, Stubber, Stubber]]:
    eb = boto3.client(
        "elasticbeanstalk",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3 = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(eb) as eb_stub, Stubber(s3) as s3_stub:
        yield BeanstalkEnvironments(BUCKET, client=eb, s3=s3), eb_stub, s3_stub
        eb_stub.assert_no_pending_responses()
        s3_stub.assert_no_pending_responses()


def environment(name: str, application: str = "shop", **fields: Any) -> dict[str, Any]:
    return {"EnvironmentName": name, "ApplicationName": application, **fields}


def test_describe_environment_asks_for_that_environment_and_picks_it(
    stubs: tuple[BeanstalkEnvironments, Stubber, Stubber],
) -> None:
    adapter, eb, _ = stubs
    eb.add_response(
        "describe_environments",
        {
            "Environments": [
                environment("web-prod", application="other"),
                environment("web-prod", VersionLabel="v7", Status="Ready", Health="Green"),
            ]
        },
        {"ApplicationName": "shop", "EnvironmentNames": ["web-prod"], "IncludeDeleted": False},
    )
    found = adapter.describe_environment("shop", "web-prod")
    assert (found["ApplicationName"], found["VersionLabel"]) == ("shop", "v7")


def test_an_unknown_environment_is_a_beanstalk_error(
    stubs: tuple[BeanstalkEnvironments, Stubber, Stubber],
) -> None:
    adapter, eb, _ = stubs
    eb.add_response("describe_environments", {"Environments": []})
    with pytest.raises(BeanstalkError, match="shop/web-prod not found"):
        adapter.describe_environment("shop", "web-prod")


def test_create_version_uploads_the_bundle_then_creates_a_processed_version(
    stubs: tuple[BeanstalkEnvironments, Stubber, Stubber],
) -> None:
    adapter, eb, s3 = stubs
    bundle = source_bundle("repo/web:abc123", 8080)
    key = "opswire/shop/abc123-gh-1.zip"
    s3.add_response(
        "put_object",
        {"ETag": '"x"'},
        {"Bucket": BUCKET, "Key": key, "Body": bundle, "ContentType": "application/zip"},
    )
    eb.add_response(
        "create_application_version",
        {"ApplicationVersion": {"VersionLabel": "abc123-gh-1", "Status": "PROCESSING"}},
        {
            "ApplicationName": "shop",
            "VersionLabel": "abc123-gh-1",
            "Description": "opswire gh-1",
            "SourceBundle": {"S3Bucket": BUCKET, "S3Key": key},
            "Process": True,
        },
    )
    adapter.create_version("shop", "abc123-gh-1", bundle, "opswire gh-1")


def test_describe_version_and_update_environment_requests(
    stubs: tuple[BeanstalkEnvironments, Stubber, Stubber],
) -> None:
    adapter, eb, _ = stubs
    eb.add_response(
        "describe_application_versions",
        {"ApplicationVersions": [{"VersionLabel": "v8", "Status": "PROCESSED"}]},
        {"ApplicationName": "shop", "VersionLabels": ["v8"]},
    )
    eb.add_response(
        "describe_application_versions",
        {"ApplicationVersions": []},
        {"ApplicationName": "shop", "VersionLabels": ["v9"]},
    )
    eb.add_response(
        "update_environment",
        {"EnvironmentName": "web-prod", "VersionLabel": "v8", "Status": "Updating"},
        {"ApplicationName": "shop", "EnvironmentName": "web-prod", "VersionLabel": "v8"},
    )
    version = adapter.describe_version("shop", "v8")
    assert version is not None
    assert version["Status"] == "PROCESSED"
    assert adapter.describe_version("shop", "v9") is None
    adapter.update_environment("shop", "web-prod", "v8")


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("Throttling", 400, BeanstalkRetryableError),
        ("OperationInProgressFailure", 400, BeanstalkRetryableError),
        ("InternalFailure", 500, BeanstalkRetryableError),
        ("InvalidParameterValue", 400, BeanstalkError),
        ("InsufficientPrivilegesException", 403, BeanstalkError),
    ],
)
def test_update_errors_are_typed(
    stubs: tuple[BeanstalkEnvironments, Stubber, Stubber], code: str, status: int, error: type
) -> None:
    adapter, eb, _ = stubs
    eb.add_client_error("update_environment", service_error_code=code, http_status_code=status)
    with pytest.raises(error, match=code) as raised:
        adapter.update_environment("shop", "web-prod", "v8")
    # Retryable and permanent are different classes (the ASL names them).
    assert isinstance(raised.value, BeanstalkRetryableError) == (error is BeanstalkRetryableError)


def test_a_refused_upload_stops_before_any_version_is_created(
    stubs: tuple[BeanstalkEnvironments, Stubber, Stubber],
) -> None:
    adapter, _, s3 = stubs
    s3.add_client_error("put_object", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(BeanstalkError, match="S3 PutObject"):
        adapter.create_version("shop", "v1", b"zip", "d")


def test_no_bucket_no_version() -> None:
    with pytest.raises(BeanstalkError, match="no artifact bucket"):
        BeanstalkEnvironments("").create_version("shop", "v1", b"zip", "d")


def test_the_source_bundle_is_a_dockerrun_v1_naming_the_image_and_port() -> None:
    bundle = source_bundle("123.dkr.ecr.us-east-1.amazonaws.com/web:abc123", 8080)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        assert archive.namelist() == ["Dockerrun.aws.json"]
        document = json.loads(archive.read("Dockerrun.aws.json"))
    assert document == {
        "AWSEBDockerrunVersion": "1",
        "Image": {"Name": "123.dkr.ecr.us-east-1.amazonaws.com/web:abc123", "Update": "true"},
        "Ports": [{"ContainerPort": 8080}],
    }
    assert source_bundle("web:1", 80) == source_bundle("web:1", 80)  # same input, same bytes


def test_version_labels_are_unique_per_deployment_and_fit_eb_limits() -> None:
    assert version_label("abc123", "gh-1") == "abc123-gh-1"
    assert version_label("feature/x y", "gh-1") == "feature-x-y-gh-1"
    deployment = "gh-" + "d" * 36
    long = version_label("t" * 128, deployment)
    assert len(long) == 100
    assert long.endswith(f"-{deployment}")


def test_the_deployment_state_machine_retries_beanstalk_errors_where_it_retries_ecs_errors() -> (
    None
):
    asl = REPO_ROOT / "statemachines" / "deployment.asl.json"
    states = json.loads(asl.read_text(encoding="utf-8"))["States"]
    retried = 0
    for name, state in states.items():
        for retry in state.get("Retry", []):
            errors = retry["ErrorEquals"]
            assert ("EcsRetryableError" in errors) == ("BeanstalkRetryableError" in errors), name
            retried += "BeanstalkRetryableError" in errors
    assert retried >= 8  # every Task of the deployment but the approval request
