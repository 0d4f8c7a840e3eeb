"""Alarm tags from CloudWatch (SNS-delivered alarms do not carry them)."""

from botocore.exceptions import ClientError

from opswire.core.observability import logger


def alarm_tags(alarm_arn: str) -> dict[str, str]:
    """The alarm's tags; empty when they cannot be read (routing then uses the defaults)."""
    import boto3

    try:
        response = boto3.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm_arn)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        logger.warning("alarm tags not readable", extra={"alarm_arn": alarm_arn, "code": code})
        return {}
    return {tag["Key"]: tag["Value"] for tag in response.get("Tags", [])}
