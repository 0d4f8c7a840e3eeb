"""The deployment table: webhook deliveries (conditional writes) and deployment records.

One table, key ``pk``: ``delivery#<X-GitHub-Delivery>`` and ``body#<SHA-256 of the body>``
items (expire after 30 days), ``commit#<repository>#<environment>#<commit>`` items (claimed by
the webhook, ``status`` = succeeded once a deployment of it succeeded; kept),
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

    # ---- replays (opswire.deployments.replay) --------------------------------------------------
    def record_body(self, digest: str, delivery_id: str) -> bool:
        now = int(time.time())
        item = {
            "pk": {"S": f"body#{digest}"},
            "delivery": {"S": delivery_id},
            "received_at": {"N": str(now)},
            "ttl": {"N": str(now + _DELIVERY_TTL_SECONDS)},
        }
        return self._put_new(item, "recording the body digest")

    def forget_body(self, digest: str, delivery_id: str) -> None:
        self._delete_if(f"body#{digest}", "delivery", delivery_id, "forgetting the body digest")

    def claim_commit(self, key: str, deployment_id: str) -> str:
        """Conditional put: no claim yet, or none that succeeded. Refused: the id of the
        deployment that succeeded (ReturnValuesOnConditionCheckFailure, no read needed)."""
        try:
            dynamodb_client().put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": f"commit#{key}"},
                    "status": {"S": "claimed"},
                    "deployment_id": {"S": deployment_id},
                    "claimed_at": {"N": str(int(time.time()))},
                },
                ConditionExpression="attribute_not_exists(pk) OR #status <> :succeeded",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":succeeded": {"S": "succeeded"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise _translate(exc, "claiming the commit") from exc
            response: dict[str, Any] = dict(exc.response)
            old = response.get("Item") or {}
            return str(old.get("deployment_id", {}).get("S") or "an earlier deployment")
        return ""

    def forget_commit(self, key: str, deployment_id: str) -> None:
        self._delete_if(f"commit#{key}", "deployment_id", deployment_id, "forgetting the claim")

    def mark_deployed(self, key: str, deployment_id: str, at: str) -> None:
        """``deployment_id`` deployed the commit ``key`` successfully (the webhook refuses it
        from now on)."""
        try:
            dynamodb_client().put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": f"commit#{key}"},
                    "status": {"S": "succeeded"},
                    "deployment_id": {"S": deployment_id},
                    "deployed_at": {"S": at},
                },
            )
        except ClientError as exc:
            raise _translate(exc, "recording the deployed commit") from exc

    def _put_new(self, item: dict[str, Any], what: str) -> bool:
        try:
            dynamodb_client().put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise _translate(exc, what) from exc
        return True

    def _delete_if(self, pk: str, attribute: str, value: str, what: str) -> None:
        """Delete ``pk`` only while ``attribute`` is ``value`` (never another request's item)."""
        try:
            dynamodb_client().delete_item(
                TableName=self.table_name,
                Key={"pk": {"S": pk}},
                ConditionExpression="#a = :v",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":v": {"S": value}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise _translate(exc, what) from exc

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
