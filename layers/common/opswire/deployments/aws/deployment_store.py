"""The deployment table: webhook deliveries (conditional writes) and deployment records.

One table, key ``pk``: ``delivery#<X-GitHub-Delivery>`` items (expire after 30 days),
``deployment#<id>`` records (the history: GSI ``history``, partition ``kind`` = "deployment",
sort ``created_at``; only records carry ``kind``) and ``lock#<target key>`` items (one
deployment per target at a time; owner + ``expires_at``). Values are plain JSON in attribute
``doc`` so that the record model stays in the domain (opswire.deployments.record).
"""

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from opswire.core.aws import dynamodb_client
from opswire.core.errors import DeploymentStoreError, DeploymentStoreRetryableError

_DELIVERY_TTL_SECONDS = 30 * 86400
HISTORY_INDEX = "history"
_RECORD_KIND = "deployment"
_LOCK_TTL_GRACE_SECONDS = 86400
"""An abandoned lock item is deleted by DynamoDB TTL this long after it expired."""
_RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "InternalServerError",
        "RequestLimitExceeded",
        "TransactionConflictException",
    }
)


def _translate(exc: ClientError, what: str) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    if code in _RETRYABLE:
        return DeploymentStoreRetryableError(f"{what}: {code}")
    return DeploymentStoreError(f"{what}: {code}")


class DeploymentStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    # ---- deliveries ----------------------------------------------------------------------------
    def record(self, delivery_id: str, event: str, repository: str) -> bool:
        now = int(time.time())
        try:
            dynamodb_client().put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": f"delivery#{delivery_id}"},
                    "event": {"S": event},
                    "repository": {"S": repository},
                    "received_at": {"N": str(now)},
                    "ttl": {"N": str(now + _DELIVERY_TTL_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise _translate(exc, "recording the delivery") from exc
        return True

    def forget(self, delivery_id: str) -> None:
        try:
            dynamodb_client().delete_item(
                TableName=self.table_name, Key={"pk": {"S": f"delivery#{delivery_id}"}}
            )
        except ClientError as exc:
            raise _translate(exc, "forgetting the delivery") from exc

    # ---- deployment records --------------------------------------------------------------------
    def get(self, deployment_id: str) -> dict[str, Any] | None:
        try:
            item = (
                dynamodb_client()
                .get_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": f"deployment#{deployment_id}"}},
                    ConsistentRead=True,
                )
                .get("Item")
            )
        except ClientError as exc:
            raise _translate(exc, "reading the deployment") from exc
        if not item:
            return None
        document: dict[str, Any] = json.loads(item["doc"]["S"])
        return document

    def put(self, deployment_id: str, document: dict[str, Any], expected_version: int) -> None:
        """Write the record if nobody else wrote it since version ``expected_version``
        (0 = it must not exist yet)."""
        version = expected_version + 1
        document = {**document, "version": version}
        names = {"#v": "version"}
        if expected_version == 0:
            condition = "attribute_not_exists(pk)"
            values: dict[str, Any] = {}
            names = {}
        else:
            condition = "#v = :expected"
            values = {":expected": {"N": str(expected_version)}}
        item: dict[str, Any] = {
            "pk": {"S": f"deployment#{deployment_id}"},
            "doc": {"S": json.dumps(document, sort_keys=True)},
            "version": {"N": str(version)},
        }
        created_at = str(document.get("created_at") or "")
        if created_at:  # index keys cannot be empty strings
            item["kind"] = {"S": _RECORD_KIND}
            item["created_at"] = {"S": created_at}
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": condition,
        }
        if names:
            arguments["ExpressionAttributeNames"] = names
        if values:
            arguments["ExpressionAttributeValues"] = values
        try:
            dynamodb_client().put_item(**arguments)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise DeploymentStoreRetryableError(
                    f"deployment {deployment_id} changed concurrently"
                ) from exc
            raise _translate(exc, "writing the deployment") from exc

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recent deployment records, newest first: a Query of the ``history`` index (eventually
        consistent, like any GSI read)."""
        documents: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": HISTORY_INDEX,
            "KeyConditionExpression": "#kind = :kind",
            "ExpressionAttributeNames": {"#kind": "kind"},
            "ExpressionAttributeValues": {":kind": {"S": _RECORD_KIND}},
            "ScanIndexForward": False,
        }
        try:
            while len(documents) < limit:
                arguments["Limit"] = limit - len(documents)
                page = dynamodb_client().query(**arguments)
                documents.extend(json.loads(item["doc"]["S"]) for item in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise _translate(exc, "listing deployments") from exc
        return documents[:limit]

    # ---- per-target locks ----------------------------------------------------------------------
    def acquire_lock(self, key: str, owner: str, expires_at: int, now: int) -> tuple[str, str]:
        """Conditional put: free, expired, or already ours. Returns (holder, replaced owner)."""
        try:
            response = dynamodb_client().put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": f"lock#{key}"},
                    "owner": {"S": owner},
                    "acquired_at": {"N": str(now)},
                    "expires_at": {"N": str(expires_at)},
                    "ttl": {"N": str(expires_at + _LOCK_TTL_GRACE_SECONDS)},
                },
                ConditionExpression=(
                    "attribute_not_exists(pk) OR #owner = :owner OR #expires < :now"
                ),
                ExpressionAttributeNames={"#owner": "owner", "#expires": "expires_at"},
                ExpressionAttributeValues={":owner": {"S": owner}, ":now": {"N": str(now)}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise _translate(exc, "taking the deployment lock") from exc
            return self.lock_holder(key), ""
        previous = str(response.get("Attributes", {}).get("owner", {}).get("S", ""))
        return owner, previous if previous != owner else ""

    def lock_holder(self, key: str) -> str:
        """The owner of the lock on ``key`` ("" when free)."""
        try:
            item = dynamodb_client().get_item(
                TableName=self.table_name, Key={"pk": {"S": f"lock#{key}"}}, ConsistentRead=True
            )
        except ClientError as exc:
            raise _translate(exc, "reading the deployment lock") from exc
        return str(item.get("Item", {}).get("owner", {}).get("S", ""))

    def release_lock(self, key: str, owner: str) -> bool:
        try:
            dynamodb_client().delete_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"lock#{key}"}},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise _translate(exc, "releasing the deployment lock") from exc
        return True
