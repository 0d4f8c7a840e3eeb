"""IAM customer managed policies (under the spec's path) and roles, with their instance profile;
what roles and users (``users.UserDriver``) do alike, each with the IAM calls of its kind."""

import json
from collections.abc import Callable
from typing import Any, Literal

from botocore.exceptions import ClientError

from opswire.core.aws import iam_client
from opswire.core.errors import ProvisioningError
from opswire.provisioning.aws.sdk import error_code, sdk_errors, tag_dict, tag_list
from opswire.provisioning.resources import Context, Resource, canonical, tag_delta
from opswire.provisioning.spec_iam import (
    anyone_may_assume,
    web_identity_unscoped,
    wildcard_actions,
    wildcard_on_everything,
)

AttachedPolicies = Literal["list_attached_role_policies", "list_attached_user_policies"]
"""The paginator that lists a role's, or a user's, attached managed policies."""


def _doc(value: Any) -> Any:
    """IAM returns documents URL-encoded text (boto3 decodes to a dict) or as text."""
    if isinstance(value, str):
        from urllib.parse import unquote

        return json.loads(unquote(value))
    return value


class PolicyDriver:
    def __init__(self, ctx: Context, spec_name: str) -> None:
        self.ctx = ctx
        self.spec_name = spec_name

    def _arn(self, resource: Resource) -> str:
        path = resource.desired.get("path", f"/opswire/{self.spec_name}/")
        return f"arn:{self.ctx.partition}:iam::{self.ctx.account}:policy{path}{resource.name}"

    def read(self, resource: Resource) -> dict[str, Any] | None:
        iam = iam_client()
        arn = self._arn(resource)
        try:
            policy = iam.get_policy(PolicyArn=arn)["Policy"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise ProvisioningError(f"GetPolicy {arn} failed: {error_code(exc)}") from exc
        with sdk_errors("GetPolicyVersion", arn):
            version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])[
                "PolicyVersion"
            ]
            tags = tag_dict(iam.list_policy_tags(PolicyArn=arn).get("Tags", []))
        return {
            "path": policy.get("Path", "/"),
            "description": policy.get("Description", ""),
            "document": _doc(version["Document"]),
            "tags": tags,
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        with sdk_errors("CreatePolicy", resource.name):
            iam_client().create_policy(
                PolicyName=resource.name,
                Path=d["path"],
                Description=d["description"],
                PolicyDocument=json.dumps(d["document"]),
                Tags=tag_list(tags),
            )

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        iam = iam_client()
        arn = self._arn(resource)
        d = resource.desired
        with sdk_errors("update policy", arn):
            if "document" in d and canonical(d["document"]) != canonical(current["document"]):
                versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
                old = sorted(
                    (v for v in versions if not v["IsDefaultVersion"]),
                    key=lambda v: v["CreateDate"],
                )
                if len(versions) >= 5 and old:  # IAM keeps at most five versions
                    iam.delete_policy_version(PolicyArn=arn, VersionId=old[0]["VersionId"])
                iam.create_policy_version(
                    PolicyArn=arn, PolicyDocument=json.dumps(d["document"]), SetAsDefault=True
                )
            to_set, to_remove = tag_delta(d.get("tags", {}), current["tags"])
            if to_set:
                iam.tag_policy(PolicyArn=arn, Tags=tag_list(d["tags"]))
            if to_remove:
                iam.untag_policy(PolicyArn=arn, TagKeys=to_remove)

    def delete(self, resource: Resource) -> None:
        iam = iam_client()
        arn = self._arn(resource)
        with sdk_errors("DeletePolicy", arn):
            try:
                for entity in iam.list_entities_for_policy(PolicyArn=arn).get("PolicyRoles", []):
                    iam.detach_role_policy(RoleName=entity["RoleName"], PolicyArn=arn)
                for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                    if not version["IsDefaultVersion"]:
                        iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
                iam.delete_policy(PolicyArn=arn)
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        iam = iam_client()
        names = []
        with sdk_errors("ListPolicies", spec_name):
            for page in iam.get_paginator("list_policies").paginate(
                Scope="Local", PathPrefix=f"/opswire/{spec_name}/"
            ):
                names += [p["PolicyName"] for p in page["Policies"]]
        return names

    def refusals(self, resource: Resource) -> list[str]:
        return []  # nothing outside the resource decides whether it works

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        problems = []
        explicit = canonical(current["document"]) == canonical(resource.desired.get("document"))
        for statement in current["document"].get("Statement", []):
            wild = wildcard_actions(statement.get("Action"))
            everything = wildcard_on_everything(statement)
            if everything:  # the spec validator refuses the same (spec.ExplicitStatement)
                problems.append(f"statement {statement.get('Sid', '?')} {everything}")
            elif wild and not explicit:
                problems.append(f"statement {statement.get('Sid', '?')} allows {wild}")
        return problems


def read_principal(
    kind: Literal["Role", "User"],
    name: str,
    get: Callable[..., Any],
    list_attached: AttachedPolicies,
    list_tags: Callable[..., Any],
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """What a role and a user have alike, read with the calls of its kind (``iam.get_role``,
    the ``list_attached_role_policies`` paginator, ``iam.list_role_tags``; the user's for a
    user): the principal as IAM returns it, and its ``path``, ``policies`` (attached, sorted),
    ``permissions_boundary`` and ``tags``. None when it does not exist."""
    iam = iam_client()
    by_name: dict[str, Any] = {f"{kind}Name": name}
    try:
        principal: dict[str, Any] = get(**by_name)[kind]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise ProvisioningError(f"Get{kind} {name} failed: {error_code(exc)}") from exc
    with sdk_errors(f"read {kind.lower()}", name):
        attached = [
            p["PolicyArn"]
            for page in iam.get_paginator(list_attached).paginate(**by_name)
            for p in page["AttachedPolicies"]
        ]
        tags = tag_dict(list_tags(**by_name).get("Tags", []))
    return principal, {
        "path": principal.get("Path", "/"),
        "policies": sorted(attached),
        "permissions_boundary": principal.get("PermissionsBoundary", {}).get(
            "PermissionsBoundaryArn"
        ),
        "tags": tags,
    }


def create_principal(
    kind: Literal["Role", "User"],
    resource: Resource,
    tags: dict[str, str],
    create: Callable[..., Any],
    attach: Callable[..., Any],
    **fields: Any,
) -> None:
    """Creates a role or user (``iam.create_role`` with the role's own ``fields``; the user's
    calls for a user) under its path, inside the spec's permissions boundary, and attaches its
    ``policies``."""
    d = resource.desired
    args: dict[str, Any] = {
        f"{kind}Name": resource.name,
        "Path": d["path"],
        **fields,
        "Tags": tag_list(tags),
    }
    if d.get("permissions_boundary"):  # the write role may create no role or user without it
        args["PermissionsBoundary"] = d["permissions_boundary"]
    with sdk_errors(f"Create{kind}", resource.name):
        create(**args)
        for arn in d["policies"]:
            attach(**{f"{kind}Name": resource.name}, PolicyArn=arn)


def put_boundary(
    kind: Literal["Role", "User"],
    name: str,
    desired: dict[str, Any],
    current: dict[str, Any],
    put: Callable[..., Any],
) -> None:
    """Puts the spec's permissions boundary on a role or user that has none or another
    (``iam.put_role_permissions_boundary``; the user's for a user); never removes one."""
    boundary = desired.get("permissions_boundary")
    if boundary and boundary != current.get("permissions_boundary"):
        put(**{f"{kind}Name": name}, PermissionsBoundary=boundary)


def converge_policies(
    kind: Literal["Role", "User"],
    name: str,
    desired: dict[str, Any],
    current: dict[str, Any],
    attach: Callable[..., Any],
    detach: Callable[..., Any],
) -> None:
    """Attaches the spec's policies a role or user lacks and detaches the others
    (``iam.attach_role_policy``, ``iam.detach_role_policy``; the user's for a user)."""
    if "policies" in desired:
        for arn in set(desired["policies"]) - set(current["policies"]):
            attach(**{f"{kind}Name": name}, PolicyArn=arn)
        for arn in set(current["policies"]) - set(desired["policies"]):
            detach(**{f"{kind}Name": name}, PolicyArn=arn)


def detach_all_policies(
    kind: Literal["Role", "User"],
    name: str,
    list_attached: AttachedPolicies,
    detach: Callable[..., Any],
) -> None:
    """Detaches every policy attached to a role or user, before it is deleted (the
    ``list_attached_role_policies`` paginator, ``iam.detach_role_policy``; the user's for a
    user)."""
    by_name: dict[str, Any] = {f"{kind}Name": name}
    for page in iam_client().get_paginator(list_attached).paginate(**by_name):
        for p in page["AttachedPolicies"]:
            detach(**by_name, PolicyArn=p["PolicyArn"])


class RoleDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        iam = iam_client()
        name = resource.name
        found = read_principal(
            "Role", name, iam.get_role, "list_attached_role_policies", iam.list_role_tags
        )
        if found is None:
            return None
        role, common = found
        with sdk_errors("read role", name):
            profiles = iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]
        return {
            "instance_profile": any(p["InstanceProfileName"] == name for p in profiles),
            "path": common["path"],
            "trust": _doc(role["AssumeRolePolicyDocument"]),
            "policies": common["policies"],
            "max_session_seconds": role.get("MaxSessionDuration", 3600),
            "description": role.get("Description", ""),
            "permissions_boundary": common["permissions_boundary"],
            "tags": common["tags"],
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        iam = iam_client()
        create_principal(
            "Role",
            resource,
            tags,
            iam.create_role,
            iam.attach_role_policy,
            AssumeRolePolicyDocument=json.dumps(d["trust"]),
            Description=d["description"],
            MaxSessionDuration=d["max_session_seconds"],
        )
        if d.get("instance_profile"):
            with sdk_errors("CreateRole", resource.name):
                self._add_profile(resource, tags)

    def _add_profile(self, resource: Resource, tags: dict[str, str]) -> None:
        iam = iam_client()
        try:
            iam.create_instance_profile(
                InstanceProfileName=resource.name,
                Path=resource.desired["path"],
                Tags=tag_list(tags),
            )
        except ClientError as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
        iam.add_role_to_instance_profile(InstanceProfileName=resource.name, RoleName=resource.name)

    def _remove_profile(self, name: str) -> None:
        iam = iam_client()
        try:
            iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=name)
            iam.delete_instance_profile(InstanceProfileName=name)
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        iam = iam_client()
        d = resource.desired
        name = resource.name
        with sdk_errors("update role", name):
            put_boundary("Role", name, d, current, iam.put_role_permissions_boundary)
            if "trust" in d and canonical(d["trust"]) != canonical(current["trust"]):
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(d["trust"]))
            session = d.get("max_session_seconds", current["max_session_seconds"])
            description = d.get("description", current["description"])
            if (session, description) != (current["max_session_seconds"], current["description"]):
                iam.update_role(RoleName=name, Description=description, MaxSessionDuration=session)
            converge_policies(
                "Role", name, d, current, iam.attach_role_policy, iam.detach_role_policy
            )
            if "instance_profile" in d and d["instance_profile"] != current["instance_profile"]:
                if d["instance_profile"]:
                    self._add_profile(resource, d.get("tags", {}))
                else:
                    self._remove_profile(name)
            to_set, to_remove = tag_delta(d.get("tags", {}), current["tags"])
            if to_set:
                iam.tag_role(RoleName=name, Tags=tag_list(d["tags"]))
            if to_remove:
                iam.untag_role(RoleName=name, TagKeys=to_remove)

    def delete(self, resource: Resource) -> None:
        iam = iam_client()
        name = resource.name
        with sdk_errors("DeleteRole", name):
            try:
                detach_all_policies(
                    "Role", name, "list_attached_role_policies", iam.detach_role_policy
                )
                for profile in iam.list_instance_profiles_for_role(RoleName=name)[
                    "InstanceProfiles"
                ]:
                    iam.remove_role_from_instance_profile(
                        InstanceProfileName=profile["InstanceProfileName"], RoleName=name
                    )
                    if profile["InstanceProfileName"] == name:  # ours: same name
                        iam.delete_instance_profile(InstanceProfileName=name)
                for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                    iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
                iam.delete_role(RoleName=name)
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        iam = iam_client()
        with sdk_errors("ListRoles", spec_name):
            return [
                r["RoleName"]
                for page in iam.get_paginator("list_roles").paginate(
                    PathPrefix=f"/opswire/{spec_name}/"
                )
                for r in page["Roles"]
            ]

    def refusals(self, resource: Resource) -> list[str]:
        return []  # nothing outside the resource decides whether it works

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        problems = []
        for statement in current["trust"].get("Statement", []):
            principal = statement.get("Principal")
            if anyone_may_assume(principal):
                problems.append("trust policy lets anyone assume the role")
            unscoped = web_identity_unscoped(statement)
            if unscoped:
                problems.append(unscoped)
        boundary = resource.desired.get("permissions_boundary")
        if boundary and current.get("permissions_boundary") != boundary:
            have = current.get("permissions_boundary") or "none"
            problems.append(f"permissions boundary is {have}, not {boundary}")
        return problems
