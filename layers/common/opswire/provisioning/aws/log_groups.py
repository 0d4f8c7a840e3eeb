"""CloudWatch Logs log groups: retention, KMS key, the subscription to the log shipper."""

from typing import Any

from botocore.exceptions import ClientError

from opswire.core.aws import logs_client
from opswire.provisioning.aws.sdk import error_code, sdk_errors
from opswire.provisioning.resources import SPEC_TAG, Context, Resource, tag_delta

SUBSCRIPTION_FILTER = "opswire-ship-logs"


class LogGroupDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _arn(self, name: str) -> str:
        return (
            f"arn:{self.ctx.partition}:logs:{self.ctx.region}:{self.ctx.account}:log-group:{name}"
        )

    def read(self, resource: Resource) -> dict[str, Any] | None:
        logs = logs_client()
        name = resource.name
        with sdk_errors("DescribeLogGroups", name):
            groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
            group = next((g for g in groups if g.get("logGroupName") == name), None)
            if group is None:
                return None
            tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
            filters = logs.describe_subscription_filters(
                logGroupName=name, filterNamePrefix=SUBSCRIPTION_FILTER
            ).get("subscriptionFilters", [])
        return {
            "retention_days": group.get("retentionInDays"),
            "kms_key": group.get("kmsKeyId"),
            "subscription": filters[0].get("destinationArn") if filters else None,
            "tags": dict(tags),
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        with sdk_errors("CreateLogGroup", resource.name):
            args: dict[str, Any] = {"logGroupName": resource.name, "tags": tags}
            if d.get("kms_key"):
                args["kmsKeyId"] = d["kms_key"]
            logs_client().create_log_group(**args)
        self.update(resource, {"retention_days": None, "subscription": None, "tags": tags})

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        logs = logs_client()
        d = resource.desired
        name = resource.name
        with sdk_errors("configure log group", name):
            if "retention_days" in d and d["retention_days"] != current.get("retention_days"):
                if d["retention_days"] is None:
                    logs.delete_retention_policy(logGroupName=name)
                else:
                    logs.put_retention_policy(
                        logGroupName=name, retentionInDays=d["retention_days"]
                    )
            if "subscription" in d and d["subscription"] != current.get("subscription"):
                if d["subscription"] is None:
                    logs.delete_subscription_filter(
                        logGroupName=name, filterName=SUBSCRIPTION_FILTER
                    )
                else:
                    logs.put_subscription_filter(
                        logGroupName=name,
                        filterName=SUBSCRIPTION_FILTER,
                        filterPattern="",
                        destinationArn=d["subscription"],
                    )
            to_set, to_remove = tag_delta(d.get("tags", {}), current.get("tags", {}))
            if to_set:
                logs.tag_resource(resourceArn=self._arn(name), tags=d["tags"])
            if to_remove:
                logs.untag_resource(resourceArn=self._arn(name), tagKeys=to_remove)

    def delete(self, resource: Resource) -> None:
        with sdk_errors("DeleteLogGroup", resource.name):
            try:
                logs_client().delete_log_group(logGroupName=resource.name)
            except ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        logs = logs_client()
        names = []
        with sdk_errors("DescribeLogGroups", spec_name):
            for page in logs.get_paginator("describe_log_groups").paginate():
                for group in page["logGroups"]:
                    name = group["logGroupName"]
                    tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
                    if tags.get(SPEC_TAG) == spec_name:
                        names.append(name)
        return names

    def refusals(self, resource: Resource) -> list[str]:
        return []  # nothing outside the resource decides whether it works

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        return [] if current.get("retention_days") else ["no retention: logs are kept forever"]
