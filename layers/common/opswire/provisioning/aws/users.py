"""IAM users under the spec's paths (``resources_base.user_path``), inside the permissions
boundary, and the secret their access key is written into. The key's secret part exists only
between CreateAccessKey and CreateSecret, in this module's local variables: it is never
returned, logged or kept in the execution's state."""

import json
from typing import Any

from botocore.exceptions import ClientError

from opswire.core.aws import iam_client, secretsmanager_client
from opswire.core.errors import ProvisioningError
from opswire.provisioning.aws.iam import (
    converge_policies,
    create_principal,
    detach_all_policies,
    put_boundary,
    read_principal,
)
from opswire.provisioning.aws.sdk import error_code, sdk_errors, tag_dict, tag_list
from opswire.provisioning.resources import SPEC_TAG, Context, Resource, tag_delta
from opswire.provisioning.resources_base import user_paths
from opswire.provisioning.resources_iam import ACCESS_KEY_KIND

ROTATION_KIND_TAG = "opswire:rotation-kind"
KEY_OF_TAG = "opswire:access-key-of"
"""On the key's secret instead of ``opswire:spec``: the secret belongs to the user (its
resource), not to the spec's ``secrets`` (which would list it as would-delete)."""


class UserDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        iam = iam_client()
        found = read_principal(
            "User", resource.name, iam.get_user, "list_attached_user_policies", iam.list_user_tags
        )
        if found is None:
            return None
        _, common = found
        state: dict[str, Any] = {
            "path": common["path"],
            "policies": common["policies"],
            "permissions_boundary": common["permissions_boundary"],
            "access_key_secret": None,
            "rotation_days": None,
            "rotation_function": None,
            "tags": common["tags"],
        }
        wanted = resource.desired.get("access_key_secret")
        if wanted:
            state.update(self._read_secret(resource, wanted))
        return state

    def _owner(self, resource: Resource) -> str:
        return f"{resource.desired.get('tags', {}).get(SPEC_TAG, '')}/{resource.name}"

    def _describe_ours(self, resource: Resource, name: str) -> dict[str, Any] | None:
        """The secret, when it exists and holds this user's key (another's is never touched)."""
        try:
            entry: dict[str, Any] = {**secretsmanager_client().describe_secret(SecretId=name)}
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise ProvisioningError(f"DescribeSecret {name} failed: {error_code(exc)}") from exc
        tags = tag_dict(list(entry.get("Tags", [])))
        if entry.get("DeletedDate") or tags.get(KEY_OF_TAG) != self._owner(resource):
            return None
        return entry

    def _read_secret(self, resource: Resource, name: str) -> dict[str, Any]:
        entry = self._describe_ours(resource, name)
        if entry is None:
            return {}
        enabled = bool(entry.get("RotationEnabled"))
        rules = entry.get("RotationRules", {})
        return {
            "access_key_secret": name,
            "rotation_days": rules.get("AutomaticallyAfterDays") if enabled else None,
            "rotation_function": entry.get("RotationLambdaARN") if enabled else None,
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        iam = iam_client()
        create_principal("User", resource, tags, iam.create_user, iam.attach_user_policy)
        if d.get("access_key_secret"):
            with sdk_errors("CreateUser", resource.name):
                self._key_into_secret(resource, tags)
                self._rotation(resource)

    def _key_into_secret(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        iam = iam_client()
        key = iam.create_access_key(UserName=resource.name)["AccessKey"]
        value = {
            "kind": ACCESS_KEY_KIND,
            "user_name": resource.name,
            "access_key_id": key["AccessKeyId"],
            "secret_access_key": key["SecretAccessKey"],
        }
        args: dict[str, Any] = {
            "Name": d["access_key_secret"],
            "Description": d["access_key"]["description"],
            "SecretString": json.dumps(value),
            "Tags": tag_list(self._secret_tags(resource, tags)),
        }
        if d["access_key"].get("kms_key"):
            args["KmsKeyId"] = d["access_key"]["kms_key"]
        try:
            secretsmanager_client().create_secret(**args)
        except ClientError:
            # nobody may hold a key that is not in the secret
            iam.delete_access_key(UserName=resource.name, AccessKeyId=key["AccessKeyId"])
            raise
        finally:
            del key, value, args

    def _secret_tags(self, resource: Resource, tags: dict[str, str]) -> dict[str, str]:
        spec = tags.get(SPEC_TAG, "")
        mine = {k: v for k, v in tags.items() if k != SPEC_TAG}
        return {**mine, ROTATION_KIND_TAG: ACCESS_KEY_KIND, KEY_OF_TAG: f"{spec}/{resource.name}"}

    def _rotation(self, resource: Resource) -> None:
        d = resource.desired
        if d.get("rotation_days") and d.get("rotation_function"):
            secretsmanager_client().rotate_secret(
                SecretId=d["access_key_secret"],
                RotationLambdaARN=d["rotation_function"],
                RotationRules={"AutomaticallyAfterDays": d["rotation_days"]},
                RotateImmediately=False,
            )

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        iam = iam_client()
        d = resource.desired
        name = resource.name
        with sdk_errors("update user", name):
            put_boundary("User", name, d, current, iam.put_user_permissions_boundary)
            converge_policies(
                "User", name, d, current, iam.attach_user_policy, iam.detach_user_policy
            )
            to_set, to_remove = tag_delta(d.get("tags", {}), current["tags"])
            if to_set:
                iam.tag_user(UserName=name, Tags=tag_list(d["tags"]))
            if to_remove:
                iam.untag_user(UserName=name, TagKeys=to_remove)
            if d.get("access_key_secret") and not current.get("access_key_secret"):
                self._key_into_secret(resource, {**current.get("tags", {}), **d.get("tags", {})})
                self._rotation(resource)
            elif d.get("access_key_secret") and (
                d.get("rotation_days") != current.get("rotation_days")
            ):
                if d.get("rotation_days"):
                    self._rotation(resource)
                else:
                    secretsmanager_client().cancel_rotate_secret(SecretId=d["access_key_secret"])

    def delete(self, resource: Resource) -> None:
        iam = iam_client()
        name = resource.name
        with sdk_errors("DeleteUser", name):
            secret = resource.desired.get("access_key_secret")
            if secret and self._describe_ours(resource, secret) is not None:
                secretsmanager_client().delete_secret(
                    SecretId=secret, ForceDeleteWithoutRecovery=True
                )
            try:
                for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
                detach_all_policies(
                    "User", name, "list_attached_user_policies", iam.detach_user_policy
                )
                iam.delete_user(UserName=name)
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        """The users under either path of the spec (``user_paths``): exactly that path, not
        one below it (another spec's path may be nested in it)."""
        iam = iam_client()
        names: list[str] = []
        for path in user_paths(self.ctx, spec_name):
            with sdk_errors("ListUsers", spec_name):
                pages = iam.get_paginator("list_users").paginate(PathPrefix=path)
                names += [
                    u["UserName"] for page in pages for u in page["Users"] if u["Path"] == path
                ]
        return names

    def refusals(self, resource: Resource) -> list[str]:
        """A user that exists under another path than the spec's. opswire does not move
        users (UpdateUser): a new path is a new ARN, and whatever names the old one (a key or
        bucket policy, a trust) would silently stop matching; the write function has no
        UpdateUser either. Turning a key's rotation on or off changes the path."""
        wanted = resource.desired["path"]
        name = resource.name
        try:
            user = iam_client().get_user(UserName=name)["User"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return []
            raise ProvisioningError(f"GetUser {name} failed: {error_code(exc)}") from exc
        have = user.get("Path", "/")
        if have == wanted:
            return []
        where = f"users[{name}]"
        with sdk_errors("ListUserTags", name):
            tags = tag_dict(iam_client().list_user_tags(UserName=name).get("Tags", []))
        spec = resource.desired.get("tags", {}).get(SPEC_TAG)
        if tags.get(SPEC_TAG) != spec:
            return [
                f"{where}: a user of this name exists under {have!r}, not made by this spec "
                "(IAM user names are unique in the account): not taken over, choose another name"
            ]
        return [
            f"{where}: the user is under {have!r} and belongs under {wanted!r} (a rotated "
            f"key's user is under RotatedIamUserPath, another under /opswire/): opswire does not "
            f"move users; move it yourself with `aws iam update-user --user-name {name} "
            f"--new-path {wanted}` (its ARN changes), or remove it from the spec, apply, and "
            "add it back (a new key)"
        ]

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        problems = []
        boundary = resource.desired.get("permissions_boundary")
        if boundary and current.get("permissions_boundary") != boundary:
            have = current.get("permissions_boundary") or "none"
            problems.append(f"permissions boundary is {have}, not {boundary}")
        with sdk_errors("ListAccessKeys", resource.name):
            keys = iam_client().list_access_keys(UserName=resource.name)["AccessKeyMetadata"]
        active = [k for k in keys if k.get("Status") == "Active"]
        if resource.desired.get("access_key_secret") is None and active:
            problems.append("the user has an access key the spec does not keep in a secret")
        if len(active) > 1:
            problems.append(f"the user has {len(active)} active access keys (rotation keeps one)")
        return problems
