"""KMS customer managed keys, each behind its alias."""

import json
from typing import Any

from botocore.exceptions import ClientError

from opswire.core.errors import ProvisioningError
from opswire.provisioning.aws.sdk import error_code, kms_client, sdk_errors, tag_dict, tag_list
from opswire.provisioning.resources import SPEC_TAG, Context, Resource, canonical, tag_delta
from opswire.provisioning.spec_iam import anyone_may_assume


class KmsKeyDriver:
    """A customer managed key behind ``alias/<name>``. Undo schedules its deletion (7 days,
    the minimum KMS allows) and removes the alias."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _key_id(self, alias: str) -> str | None:
        try:
            meta = kms_client().describe_key(KeyId=f"alias/{alias}")["KeyMetadata"]
        except ClientError as exc:
            if error_code(exc) == "NotFoundException":
                return None
            raise ProvisioningError(f"DescribeKey alias/{alias} failed: {error_code(exc)}") from exc
        if meta.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
            return None
        return str(meta["KeyId"])

    def read(self, resource: Resource) -> dict[str, Any] | None:
        key_id = self._key_id(resource.name)
        if key_id is None:
            return None
        kms = kms_client()
        with sdk_errors("read key", resource.name):
            meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
            rotation = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
            tags = tag_dict(
                kms.list_resource_tags(KeyId=key_id).get("Tags", []), "TagKey", "TagValue"
            )
            policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
        return {
            "description": meta.get("Description", ""),
            "rotation": rotation,
            "key_policy": policy,
            "tags": tags,
            "key_id": key_id,
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        kms = kms_client()
        d = resource.desired
        with sdk_errors("CreateKey", resource.name):
            key_id = kms.create_key(
                Description=d["description"],
                Tags=tag_list(tags, "TagKey", "TagValue"),
            )["KeyMetadata"]["KeyId"]
            try:
                kms.create_alias(AliasName=f"alias/{resource.name}", TargetKeyId=key_id)
            except ClientError:
                kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
                raise
            if d["rotation"]:
                kms.enable_key_rotation(KeyId=key_id)
            if len(d.get("key_policy", {}).get("Statement", [])) > 1:
                # Put once the key carries its tags: KMS's lockout check then finds the write
                # role's kms:PutKeyPolicy (allowed on the stack's tagged keys) in the new policy.
                kms.put_key_policy(
                    KeyId=key_id, PolicyName="default", Policy=json.dumps(d["key_policy"])
                )

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        kms = kms_client()
        d = resource.desired
        key_id = current["key_id"]
        with sdk_errors("update key", resource.name):
            if "description" in d and d["description"] != current["description"]:
                kms.update_key_description(KeyId=key_id, Description=d["description"])
            if "rotation" in d and d["rotation"] != current["rotation"]:
                if d["rotation"]:
                    kms.enable_key_rotation(KeyId=key_id)
                else:
                    kms.disable_key_rotation(KeyId=key_id)
            if d.get("key_policy") and canonical(d["key_policy"]) != canonical(
                current.get("key_policy")
            ):
                kms.put_key_policy(
                    KeyId=key_id, PolicyName="default", Policy=json.dumps(d["key_policy"])
                )
            to_set, to_remove = tag_delta(d.get("tags", {}), current["tags"])
            if to_set:
                kms.tag_resource(KeyId=key_id, Tags=tag_list(d["tags"], "TagKey", "TagValue"))
            if to_remove:
                kms.untag_resource(KeyId=key_id, TagKeys=to_remove)

    def delete(self, resource: Resource) -> None:
        key_id = self._key_id(resource.name)
        if key_id is None:
            return
        kms = kms_client()
        with sdk_errors("ScheduleKeyDeletion", resource.name):
            kms.delete_alias(AliasName=f"alias/{resource.name}")
            kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    def owned(self, spec_name: str) -> list[str]:
        kms = kms_client()
        names = []
        with sdk_errors("ListAliases", spec_name):
            for page in kms.get_paginator("list_aliases").paginate():
                for alias in page["Aliases"]:
                    if alias["AliasName"].startswith("alias/aws/") or "TargetKeyId" not in alias:
                        continue
                    tags = tag_dict(
                        kms.list_resource_tags(KeyId=alias["TargetKeyId"]).get("Tags", []),
                        "TagKey",
                        "TagValue",
                    )
                    if tags.get(SPEC_TAG) == spec_name:
                        names.append(alias["AliasName"].removeprefix("alias/"))
        return names

    def refusals(self, resource: Resource) -> list[str]:
        return []  # nothing outside the resource decides whether it works

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        problems = [] if current["rotation"] else ["key rotation is off"]
        for statement in (current.get("key_policy") or {}).get("Statement", []):
            if anyone_may_assume(statement.get("Principal")) and not statement.get("Condition"):
                problems.append(f"key policy statement {statement.get('Sid', '?')} allows anyone")
        return problems
