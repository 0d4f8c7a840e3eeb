"""CloudWatch alarm states for deployments (pre-flight and bake)."""

from botocore.exceptions import ClientError

from opswire.core.errors import DeploymentError


def alarms_in_alarm(names: list[str]) -> list[str]:
    """The names among ``names`` whose state is ALARM. An alarm that does not exist is reported
    as firing: a watch list naming a missing alarm would otherwise watch nothing."""
    if not names:
        return []
    import boto3

    client = boto3.client("cloudwatch")
    states: dict[str, str] = {}
    try:
        for start in range(0, len(names), 100):
            response = client.describe_alarms(AlarmNames=names[start : start + 100])
            for alarm in [*response.get("MetricAlarms", []), *response.get("CompositeAlarms", [])]:
                states[alarm["AlarmName"]] = alarm["StateValue"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        raise DeploymentError(f"CloudWatch DescribeAlarms: {code}") from exc
    return [name for name in names if states.get(name, "ALARM") == "ALARM"]
