"""SNS topics (encrypted, with their subscriptions), named as the spec names them."""

import json
from typing import Any

from botocore.exceptions import ClientError

from opswire.core.errors import ProvisioningError
from opswire.provisioning.aws.sdk import (
    error_code,
    lambda_client,
    sdk_errors,
    sns_client,
    sqs_client,
    tag_dict,
    tag_list,
)
from opswire.provisioning.delivery import (
    DELIVERY_ACTIONS,
    arn_part,
    lets_topic_deliver,
    other_account,
    undeliverable,
)
from opswire.provisioning.resources import SPEC_TAG, Context, Resource, tag_delta

PENDING = "PendingConfirmation"
MISSING_ENDPOINT = {
    "AWS.SimpleQueueService.NonExistentQueue": "the queue does not exist",
    "QueueDoesNotExist": "the queue does not exist",
    "ResourceNotFoundException": "the function has no resource-based policy (or does not exist)",
}
"""The SDK's answers that mean SNS has nothing to deliver to (or no permission to)."""


class TopicDriver:
    """Subscriptions are compared as ``protocol:endpoint``; an email subscription stays
    ``PendingConfirmation`` until its owner confirms it (it counts as subscribed, and cannot be
    unsubscribed: SNS deletes unconfirmed ones after three days)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _arn(self, name: str) -> str:
        return f"arn:{self.ctx.partition}:sns:{self.ctx.region}:{self.ctx.account}:{name}"

    def _subscriptions(self, arn: str) -> dict[str, str]:
        """``protocol:endpoint`` -> subscription ARN (or PendingConfirmation)."""
        found: dict[str, str] = {}
        pages = sns_client().get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
        for page in pages:
            for sub in page.get("Subscriptions", []):
                found[f"{sub['Protocol']}:{sub['Endpoint']}"] = sub["SubscriptionArn"]
        return found

    def read(self, resource: Resource) -> dict[str, Any] | None:
        arn = self._arn(resource.name)
        sns = sns_client()
        try:
            attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        except ClientError as exc:
            if error_code(exc) in ("NotFound", "NotFoundException"):
                return None
            raise ProvisioningError(f"GetTopicAttributes {arn} failed: {error_code(exc)}") from exc
        with sdk_errors("read topic", resource.name):
            subscriptions = sorted(self._subscriptions(arn))
            tags = tag_dict(sns.list_tags_for_resource(ResourceArn=arn).get("Tags", []))
        return {
            "kms_key": attributes.get("KmsMasterKeyId") or None,
            "subscriptions": subscriptions,
            "tags": tags,
        }

    def _subscribe(self, arn: str, keys: set[str]) -> None:
        for key in sorted(keys):
            protocol, endpoint = key.split(":", 1)
            sns_client().subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        with sdk_errors("CreateTopic", resource.name):
            arn = sns_client().create_topic(
                Name=resource.name,
                Attributes={"KmsMasterKeyId": d["kms_key"]},
                Tags=tag_list(tags),
            )["TopicArn"]
            self._subscribe(arn, set(d["subscriptions"]))

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        sns = sns_client()
        arn = self._arn(resource.name)
        d = resource.desired
        with sdk_errors("update topic", resource.name):
            if "kms_key" in d and d["kms_key"] != current["kms_key"]:
                sns.set_topic_attributes(
                    TopicArn=arn, AttributeName="KmsMasterKeyId", AttributeValue=d["kms_key"]
                )
            if "subscriptions" in d:
                self._subscribe(arn, set(d["subscriptions"]) - set(current["subscriptions"]))
                for key, sub_arn in self._subscriptions(arn).items():
                    if key not in d["subscriptions"] and sub_arn != PENDING:
                        sns.unsubscribe(SubscriptionArn=sub_arn)
            to_set, to_remove = tag_delta(d.get("tags", {}), current["tags"])
            if to_set:
                sns.tag_resource(ResourceArn=arn, Tags=tag_list(d["tags"]))
            if to_remove:
                sns.untag_resource(ResourceArn=arn, TagKeys=to_remove)

    def delete(self, resource: Resource) -> None:
        with sdk_errors("DeleteTopic", resource.name):  # its subscriptions go with it
            sns_client().delete_topic(TopicArn=self._arn(resource.name))

    def owned(self, spec_name: str) -> list[str]:
        sns = sns_client()
        names = []
        with sdk_errors("ListTopics", spec_name):
            for page in sns.get_paginator("list_topics").paginate():
                for topic in page.get("Topics", []):
                    arn = topic["TopicArn"]
                    tags = tag_dict(sns.list_tags_for_resource(ResourceArn=arn).get("Tags", []))
                    if tags.get(SPEC_TAG) == spec_name:
                        names.append(arn.rsplit(":", 1)[1])
        return names

    def refusals(self, resource: Resource) -> list[str]:
        """Subscriptions SNS could not deliver to: a queue or function whose policy does not
        let this topic send or invoke (``opswire.provisioning.delivery``)."""
        topic_arn = self._arn(resource.name)
        problems = []
        for key in resource.desired.get("subscriptions", []):
            protocol, endpoint = key.split(":", 1)
            if protocol not in DELIVERY_ACTIONS:
                continue
            if arn_part(endpoint, 4) != self.ctx.account:
                problems.append(other_account(protocol, endpoint, topic_arn))
                continue
            why = self._no_delivery(protocol, endpoint, topic_arn)
            if why:
                problems.append(undeliverable(protocol, endpoint, topic_arn, why))
        return problems

    def _no_delivery(self, protocol: str, endpoint: str, topic_arn: str) -> str | None:
        """Why the endpoint's policy does not let the topic deliver (None: it does)."""
        with sdk_errors("read the policy of", endpoint):
            try:
                text = self._endpoint_policy(protocol, endpoint)
            except ClientError as exc:
                if error_code(exc) not in MISSING_ENDPOINT:
                    raise
                return MISSING_ENDPOINT[error_code(exc)]
        if lets_topic_deliver(json.loads(text) if text else None, protocol, endpoint, topic_arn):
            return None
        policy = "queue policy" if protocol == "sqs" else "function's resource-based policy"
        return f"its {policy} does not allow {DELIVERY_ACTIONS[protocol]} to this topic"

    def _endpoint_policy(self, protocol: str, endpoint: str) -> str | None:
        """The queue's policy or the function's resource-based policy (JSON text), if any."""
        region = arn_part(endpoint, 3)
        if protocol == "lambda":
            return str(lambda_client(region).get_policy(FunctionName=endpoint)["Policy"])
        sqs = sqs_client(region)
        url = sqs.get_queue_url(
            QueueName=arn_part(endpoint, 5), QueueOwnerAWSAccountId=self.ctx.account
        )["QueueUrl"]
        found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        policy = found.get("Attributes", {}).get("Policy")
        return str(policy) if policy else None

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        encrypted = [] if current.get("kms_key") else ["the topic is not encrypted"]
        return encrypted + self.refusals(resource)
