"""Provisioning drivers over boto3: S3, ECR, IAM (policies, roles, users, OIDC providers), Secrets
Manager, KMS, SNS, CloudWatch Logs and CloudWatch alarms. One class per kind, each a ``Driver`` of
``opswire.provisioning.engine``, one module per service.

SDK errors become ``ProvisioningRetryableError`` (throttling, 5xx) or ``ProvisioningError``
(``raise ... from``). Reads return the state in the shape of the resource's desired state.
"""

from typing import Any

from opswire.provisioning.aws.alarms import AlarmDriver
from opswire.provisioning.aws.buckets import BucketDriver
from opswire.provisioning.aws.ecr import EcrDriver
from opswire.provisioning.aws.iam import PolicyDriver, RoleDriver
from opswire.provisioning.aws.kms import KmsKeyDriver
from opswire.provisioning.aws.log_groups import LogGroupDriver
from opswire.provisioning.aws.oidc import OidcProviderDriver
from opswire.provisioning.aws.secrets import SecretDriver
from opswire.provisioning.aws.topics import TopicDriver
from opswire.provisioning.aws.users import UserDriver
from opswire.provisioning.resources import Context


def aws_drivers(ctx: Context, spec_name: str) -> dict[str, Any]:
    """The real drivers, one per kind (``opswire.provisioning.engine.Drivers``)."""
    return {
        "kms_key": KmsKeyDriver(ctx),
        "bucket": BucketDriver(ctx),
        "ecr_repository": EcrDriver(ctx),
        "log_group": LogGroupDriver(ctx),
        "secret": SecretDriver(ctx),
        "oidc_provider": OidcProviderDriver(ctx),
        "policy": PolicyDriver(ctx, spec_name),
        "role": RoleDriver(ctx),
        "user": UserDriver(ctx),
        "topic": TopicDriver(ctx),
        "alarm": AlarmDriver(ctx),
    }
