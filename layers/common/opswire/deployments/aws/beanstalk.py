"""Elastic Beanstalk for deployments: describe the environment, create an application version
from a source bundle in the artifact bucket, update the environment, read a version's status.

SDK errors become BeanstalkRetryableError (throttling, 5xx, an operation already in progress)
or BeanstalkError (everything else).
"""

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opswire.core.aws import cached_client, s3_client
from opswire.core.errors import BeanstalkError, BeanstalkRetryableError

if TYPE_CHECKING:
    from types_boto3_elasticbeanstalk import ElasticBeanstalkClient
    from types_boto3_s3 import S3Client

_RETRYABLE = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "SlowDown",
        # Another operation (an update, a configuration change) still runs on the environment.
        "OperationInProgressFailure",
    }
)


@cached_client
def beanstalk_client() -> "ElasticBeanstalkClient":
    import boto3

    return boto3.client("elasticbeanstalk")


def _translate(exc: ClientError, what: str) -> Exception:
    error = exc.response.get("Error", {})
    code = error.get("Code", "Unknown")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    message = f"{what}: {code}"
    if code in _RETRYABLE or status >= 500:
        return BeanstalkRetryableError(message)
    return BeanstalkError(f"{message} {error.get('Message', '')}".strip())


class BeanstalkEnvironments:
    """``bucket``: where source bundles go (the stack's DeployArtifactBucket). The clients
    default to the cached ones (tests pass botocore-stubbed clients)."""

    def __init__(
        self,
        bucket: str,
        client: "ElasticBeanstalkClient | None" = None,
        s3: "S3Client | None" = None,
    ) -> None:
        self._bucket = bucket
        self._client = client
        self._s3 = s3

    def _eb(self) -> "ElasticBeanstalkClient":
        return self._client or beanstalk_client()

    def describe_environment(self, application: str, environment: str) -> dict[str, Any]:
        try:
            response = self._eb().describe_environments(
                ApplicationName=application, EnvironmentNames=[environment], IncludeDeleted=False
            )
        except ClientError as exc:
            raise _translate(exc, "Elastic Beanstalk DescribeEnvironments") from exc
        found = [
            e
            for e in response.get("Environments", [])
            if e.get("EnvironmentName") == environment and e.get("ApplicationName") == application
        ]
        if not found:
            raise BeanstalkError(
                f"Elastic Beanstalk environment {application}/{environment} not found"
            )
        return dict(found[0])

    def describe_version(self, application: str, version_label: str) -> dict[str, Any] | None:
        try:
            response = self._eb().describe_application_versions(
                ApplicationName=application, VersionLabels=[version_label]
            )
        except ClientError as exc:
            raise _translate(exc, "Elastic Beanstalk DescribeApplicationVersions") from exc
        versions = [
            v
            for v in response.get("ApplicationVersions", [])
            if v.get("VersionLabel") == version_label
        ]
        return dict(versions[0]) if versions else None

    def create_version(
        self, application: str, version_label: str, bundle: bytes, description: str
    ) -> None:
        """Upload ``bundle`` and create the version with Process=True (EB validates the bundle;
        the version is PROCESSING, then PROCESSED or FAILED)."""
        if not self._bucket:
            raise BeanstalkError(
                "no artifact bucket for source bundles (DEPLOY_ARTIFACT_BUCKET is empty)"
            )
        key = f"opswire/{application}/{version_label}.zip"
        try:
            (self._s3 or s3_client()).put_object(
                Bucket=self._bucket, Key=key, Body=bundle, ContentType="application/zip"
            )
        except ClientError as exc:
            raise _translate(exc, "S3 PutObject (source bundle)") from exc
        try:
            self._eb().create_application_version(
                ApplicationName=application,
                VersionLabel=version_label,
                Description=description,
                SourceBundle={"S3Bucket": self._bucket, "S3Key": key},
                Process=True,
            )
        except ClientError as exc:
            raise _translate(exc, "Elastic Beanstalk CreateApplicationVersion") from exc

    def update_environment(self, application: str, environment: str, version_label: str) -> None:
        try:
            self._eb().update_environment(
                ApplicationName=application,
                EnvironmentName=environment,
                VersionLabel=version_label,
            )
        except ClientError as exc:
            raise _translate(exc, "Elastic Beanstalk UpdateEnvironment") from exc
