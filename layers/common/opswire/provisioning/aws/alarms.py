"""CloudWatch metric alarms, notifying the stack's AlarmTopic."""

from typing import Any

from opswire.provisioning.aws.sdk import cloudwatch_client, sdk_errors, tag_dict, tag_list
from opswire.provisioning.resources import SPEC_TAG, Context, Resource, tag_delta


class AlarmDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        cw = cloudwatch_client()
        with sdk_errors("DescribeAlarms", resource.name):
            alarms = cw.describe_alarms(AlarmNames=[resource.name]).get("MetricAlarms", [])
            if not alarms:
                return None
            a = alarms[0]
            tags = tag_dict(cw.list_tags_for_resource(ResourceARN=a["AlarmArn"]).get("Tags", []))
        return {
            "namespace": a.get("Namespace"),
            "metric": a.get("MetricName"),
            "dimensions": dict(sorted(tag_dict(a.get("Dimensions", []), "Name", "Value").items())),
            "statistic": a.get("Statistic"),
            "period": a.get("Period"),
            "evaluation_periods": a.get("EvaluationPeriods"),
            "threshold": a.get("Threshold"),
            "comparison": a.get("ComparisonOperator"),
            "treat_missing_data": a.get("TreatMissingData", "missing"),
            "description": a.get("AlarmDescription", ""),
            "actions": list(a.get("AlarmActions", [])),
            "tags": tags,
            "arn": a["AlarmArn"],
        }

    def _put(self, resource: Resource, tags: dict[str, str] | None) -> None:
        d = resource.desired
        args: dict[str, Any] = {
            "AlarmName": resource.name,
            "AlarmDescription": d["description"],
            "Namespace": d["namespace"],
            "MetricName": d["metric"],
            "Dimensions": tag_list(d["dimensions"], "Name", "Value"),
            "Statistic": d["statistic"],
            "Period": d["period"],
            "EvaluationPeriods": d["evaluation_periods"],
            "Threshold": d["threshold"],
            "ComparisonOperator": d["comparison"],
            "TreatMissingData": d["treat_missing_data"],
            "AlarmActions": d["actions"],
            "OKActions": d["actions"],
        }
        if tags:
            args["Tags"] = tag_list(tags)
        cloudwatch_client().put_metric_alarm(**args)

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        with sdk_errors("PutMetricAlarm", resource.name):
            self._put(resource, tags)

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        merged = Resource(
            resource.kind,
            resource.name,
            {**{k: v for k, v in current.items() if k not in ("arn", "tags")}, **resource.desired},
        )
        with sdk_errors("PutMetricAlarm", resource.name):
            self._put(merged, None)
            to_set, to_remove = tag_delta(resource.desired.get("tags", {}), current["tags"])
            if to_set:
                cloudwatch_client().tag_resource(
                    ResourceARN=current["arn"], Tags=tag_list(resource.desired["tags"])
                )
            if to_remove:
                cloudwatch_client().untag_resource(ResourceARN=current["arn"], TagKeys=to_remove)

    def delete(self, resource: Resource) -> None:
        with sdk_errors("DeleteAlarms", resource.name):
            cloudwatch_client().delete_alarms(AlarmNames=[resource.name])

    def owned(self, spec_name: str) -> list[str]:
        cw = cloudwatch_client()
        names = []
        with sdk_errors("DescribeAlarms", spec_name):
            for page in cw.get_paginator("describe_alarms").paginate():
                for a in page.get("MetricAlarms", []):
                    tags = tag_dict(cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"])
                    if tags.get(SPEC_TAG) == spec_name:
                        names.append(a["AlarmName"])
        return names

    def refusals(self, resource: Resource) -> list[str]:
        return []  # nothing outside the resource decides whether it works

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        return [] if current.get("actions") else ["the alarm notifies nobody"]
