"""Provisioning drivers over boto3: S3, ECR, IAM, Secrets Manager, KMS, CloudWatch Logs and
CloudWatch alarms. One class per kind, each ``Driver`` of ``opswire.provisioning.engine``.

SDK errors become ``ProvisioningRetryableError`` (throttling, 5xx) or ``ProvisioningError``
(``raise ... from``). Reads return the state in the shape of the resource's desired state.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from opswire.adapters.aws import (
    iam_client,
    logs_client,
    register_cache,
    s3_client,
    secretsmanager_client,
)
from opswire.errors import ProvisioningError, ProvisioningRetryableError, ResourceConflictError
from opswire.provisioning.resources import (
    SPEC_TAG,
    Context,
    Resource,
    canonical,
)

_RETRYABLE = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceFailure",
        "InternalError",
        "InternalFailure",
        "SlowDown",
        "OperationAbortedException",
        "ConcurrentModificationException",
    }
)


@cache
def ecr_client() -> Any:
    import boto3

    return boto3.client("ecr")


@cache
def kms_client() -> Any:
    import boto3

    return boto3.client("kms")


@cache
def cloudwatch_client() -> Any:
    import boto3

    return boto3.client("cloudwatch")


def clear_provisioning_clients() -> None:
    ecr_client.cache_clear()
    kms_client.cache_clear()
    cloudwatch_client.cache_clear()


register_cache(clear_provisioning_clients)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


@contextmanager
def _errors(action: str, subject: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = _code(exc)
        message = f"{action} {subject} failed: {code}"
        if (
            code in _RETRYABLE
            or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
        ):
            raise ProvisioningRetryableError(message) from exc
        raise ProvisioningError(message) from exc


def _tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[Any]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def _tag_dict(items: list[Any], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in items}


# ---- S3 ---------------------------------------------------------------------------------------
class BucketDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        s3 = s3_client()
        name = resource.name
        try:
            s3.head_bucket(Bucket=name)
        except ClientError as exc:
            code = _code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                return None
            if code in ("403", "AccessDenied"):
                raise ResourceConflictError(f"bucket {name} exists in another account") from exc
            raise ProvisioningError(f"HeadBucket {name} failed: {code}") from exc
        state: dict[str, Any] = {}
        with _errors("read bucket", name):
            state["tags"] = self._optional(
                lambda: _tag_dict(s3.get_bucket_tagging(Bucket=name)["TagSet"]),
                {},
                "NoSuchTagSet",
            )
            rules = self._optional(
                lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
                    "Rules"
                ],
                [],
                "ServerSideEncryptionConfigurationNotFoundError",
            )
            default = rules[0]["ApplyServerSideEncryptionByDefault"] if rules else {}
            state["encryption"] = {
                "algorithm": default.get("SSEAlgorithm"),
                "kms_key": default.get("KMSMasterKeyID"),
            }
            state["versioning"] = s3.get_bucket_versioning(Bucket=name).get("Status", "Suspended")
            state["public_access_block"] = self._optional(
                lambda: dict(
                    s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
                ),
                {
                    f: False
                    for f in (
                        "BlockPublicAcls",
                        "IgnorePublicAcls",
                        "BlockPublicPolicy",
                        "RestrictPublicBuckets",
                    )
                },
                "NoSuchPublicAccessBlockConfiguration",
            )
            state["ownership"] = self._optional(
                lambda: s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"][
                    0
                ]["ObjectOwnership"],
                None,
                "OwnershipControlsNotFoundError",
            )
            state["policy"] = self._optional(
                lambda: json.loads(s3.get_bucket_policy(Bucket=name)["Policy"]),
                None,
                "NoSuchBucketPolicy",
            )
            wanted = resource.desired.get("folders", [])
            present = []
            for folder in wanted:
                listed = s3.list_objects_v2(Bucket=name, Prefix=folder, MaxKeys=1)
                if listed.get("KeyCount", 0):
                    present.append(folder)
            state["folders"] = present
        return state

    @staticmethod
    def _optional(read: Any, default: Any, missing_code: str) -> Any:
        try:
            return read()
        except ClientError as exc:
            if _code(exc) == missing_code:
                return default
            raise

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        s3 = s3_client()
        name = resource.name
        with _errors("CreateBucket", name):
            args: dict[str, Any] = {"Bucket": name}
            if self.ctx.region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": self.ctx.region}
            try:
                s3.create_bucket(**args)
            except ClientError as exc:
                if _code(exc) == "BucketAlreadyExists":
                    raise ResourceConflictError(f"bucket name {name} is taken") from exc
                raise
            # The tags first: from here on, undo recognises the bucket as this execution's.
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tag_list(tags)})
        self._converge(resource, None)

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        self._converge(resource, current)

    def _converge(self, resource: Resource, current: dict[str, Any] | None) -> None:
        s3 = s3_client()
        name = resource.name
        d = resource.desired

        def changed(field: str) -> bool:
            return field in d and (
                current is None or canonical(current.get(field)) != canonical(d[field])
            )

        with _errors("configure bucket", name):
            if current is not None and changed("tags"):
                s3.put_bucket_tagging(
                    Bucket=name,
                    Tagging={"TagSet": _tag_list({**current.get("tags", {}), **d["tags"]})},
                )
            if changed("public_access_block"):
                s3.put_public_access_block(
                    Bucket=name, PublicAccessBlockConfiguration=d["public_access_block"]
                )
            if changed("ownership"):
                if d["ownership"] is None:
                    s3.delete_bucket_ownership_controls(Bucket=name)
                else:
                    s3.put_bucket_ownership_controls(
                        Bucket=name,
                        OwnershipControls={"Rules": [{"ObjectOwnership": d["ownership"]}]},
                    )
            if changed("encryption"):
                enc = d["encryption"]
                if enc.get("algorithm") is None:
                    s3.delete_bucket_encryption(Bucket=name)
                else:
                    default: dict[str, Any] = {"SSEAlgorithm": enc["algorithm"]}
                    if enc.get("kms_key"):
                        default["KMSMasterKeyID"] = enc["kms_key"]
                    s3.put_bucket_encryption(
                        Bucket=name,
                        ServerSideEncryptionConfiguration={  # type: ignore[misc,arg-type]
                            "Rules": [
                                {
                                    "ApplyServerSideEncryptionByDefault": default,
                                    "BucketKeyEnabled": enc["algorithm"] == "aws:kms",
                                }
                            ]
                        },
                    )
            if changed("versioning"):
                s3.put_bucket_versioning(
                    Bucket=name, VersioningConfiguration={"Status": d["versioning"]}
                )
            # Folders before the policy: its conditions apply to these uploads too.
            if changed("folders"):
                have = set(current.get("folders", [])) if current else set()
                for folder in d["folders"]:
                    if folder not in have:
                        s3.put_object(
                            Bucket=name,
                            Key=folder,
                            Body=b"",
                            ServerSideEncryption=d["encryption"]["algorithm"],
                            **(
                                {"SSEKMSKeyId": d["encryption"]["kms_key"]}
                                if d["encryption"].get("kms_key")
                                else {}
                            ),
                        )
            if changed("policy"):
                if d["policy"] is None:
                    s3.delete_bucket_policy(Bucket=name)
                else:
                    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(d["policy"]))

    def delete(self, resource: Resource) -> None:
        s3 = s3_client()
        name = resource.name
        with _errors("DeleteBucket", name):
            # The bucket goes anyway: its policy first, so that none of its Deny statements
            # (this spec's or anyone's) stands in the way of emptying it.
            try:
                s3.delete_bucket_policy(Bucket=name)
            except ClientError as exc:
                if _code(exc) != "NoSuchBucket":
                    raise
                return
            paginator = s3.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=name):
                objects = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                ]
                if objects:
                    answer = s3.delete_objects(Bucket=name, Delete={"Objects": objects})  # type: ignore[typeddict-item]
                    if answer.get("Errors"):
                        first = answer["Errors"][0]
                        raise ProvisioningError(
                            f"emptying bucket {name} failed: {first.get('Code')} "
                            f"on {first.get('Key')} ({len(answer['Errors'])} objects)"
                        )
            try:
                s3.delete_bucket(Bucket=name)
            except ClientError as exc:
                if _code(exc) != "NoSuchBucket":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        s3 = s3_client()
        names = []
        with _errors("ListBuckets", spec_name):
            for bucket in s3.list_buckets().get("Buckets", []):
                try:
                    tags = _tag_dict(s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"])
                except ClientError:
                    continue
                if tags.get(SPEC_TAG) == spec_name:
                    names.append(bucket["Name"])
        return names

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        """What every bucket must have, as far as its spec does not say otherwise explicitly."""
        problems = []
        d = resource.desired
        block = current.get("public_access_block", {})
        off = sorted(flag for flag, on in block.items() if not on)
        if off and all(d.get("public_access_block", {True: True}).values()):
            problems.append(f"public access not blocked: {', '.join(off)} off")
        if current.get("encryption", {}).get("algorithm") not in ("AES256", "aws:kms"):
            problems.append("default encryption is off")
        if (
            current.get("ownership") != "BucketOwnerEnforced"
            and d.get("ownership", "BucketOwnerEnforced") == "BucketOwnerEnforced"
        ):
            problems.append("object ownership is not BucketOwnerEnforced (ACLs still apply)")
        statements = (current.get("policy") or {}).get("Statement", [])
        wants_tls = any(
            s.get("Sid") == "DenyInsecureTransport"
            for s in (d.get("policy") or {}).get("Statement", [])
        )
        if wants_tls and not any(
            s.get("Effect") == "Deny"
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        ):
            problems.append("bucket policy does not deny non-TLS access")
        for s in statements:
            if s.get("Effect") == "Allow" and s.get("Principal") in ("*", {"AWS": "*"}):
                problems.append(f"bucket policy allows everyone ({s.get('Sid', 'no Sid')})")
        return problems


# ---- ECR --------------------------------------------------------------------------------------
class EcrDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        ecr = ecr_client()
        name = resource.name
        try:
            repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        except ClientError as exc:
            if _code(exc) == "RepositoryNotFoundException":
                return None
            raise ProvisioningError(f"DescribeRepositories {name} failed: {_code(exc)}") from exc
        with _errors("read repository", name):
            tags = _tag_dict(
                ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags", [])
            )
            try:
                text = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
                lifecycle = json.loads(text)
            except ClientError as exc:
                if _code(exc) != "LifecyclePolicyNotFoundException":
                    raise
                lifecycle = None
        return {
            "scan_on_push": repo.get("imageScanningConfiguration", {}).get("scanOnPush", False),
            "tag_mutability": repo.get("imageTagMutability", "MUTABLE"),
            "lifecycle_policy": lifecycle,
            "tags": tags,
            "arn": repo["repositoryArn"],
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        with _errors("CreateRepository", resource.name):
            ecr_client().create_repository(
                repositoryName=resource.name,
                imageTagMutability=d["tag_mutability"],
                imageScanningConfiguration={"scanOnPush": d["scan_on_push"]},
                encryptionConfiguration={"encryptionType": "AES256"},
                tags=_tag_list(tags),
            )
            if d.get("lifecycle_policy"):
                ecr_client().put_lifecycle_policy(
                    repositoryName=resource.name,
                    lifecyclePolicyText=json.dumps(d["lifecycle_policy"]),
                )

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        ecr = ecr_client()
        d = resource.desired
        name = resource.name
        with _errors("configure repository", name):
            if "scan_on_push" in d and d["scan_on_push"] != current["scan_on_push"]:
                ecr.put_image_scanning_configuration(
                    repositoryName=name,
                    imageScanningConfiguration={"scanOnPush": d["scan_on_push"]},
                )
            if "tag_mutability" in d and d["tag_mutability"] != current["tag_mutability"]:
                ecr.put_image_tag_mutability(
                    repositoryName=name, imageTagMutability=d["tag_mutability"]
                )
            if "lifecycle_policy" in d and canonical(d["lifecycle_policy"]) != canonical(
                current["lifecycle_policy"]
            ):
                if d["lifecycle_policy"] is None:
                    ecr.delete_lifecycle_policy(repositoryName=name)
                else:
                    ecr.put_lifecycle_policy(
                        repositoryName=name,
                        lifecyclePolicyText=json.dumps(d["lifecycle_policy"]),
                    )
            if "tags" in d:
                ecr.tag_resource(resourceArn=current["arn"], tags=_tag_list(d["tags"]))

    def delete(self, resource: Resource) -> None:
        with _errors("DeleteRepository", resource.name):
            try:
                ecr_client().delete_repository(repositoryName=resource.name, force=True)
            except ClientError as exc:
                if _code(exc) != "RepositoryNotFoundException":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        ecr = ecr_client()
        names = []
        with _errors("DescribeRepositories", spec_name):
            for page in ecr.get_paginator("describe_repositories").paginate():
                for repo in page["repositories"]:
                    tags = _tag_dict(
                        ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
                    )
                    if tags.get(SPEC_TAG) == spec_name:
                        names.append(repo["repositoryName"])
        return names

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        wanted = resource.desired.get("scan_on_push", True)
        return [] if current["scan_on_push"] or not wanted else ["scan on push is off"]


# ---- IAM --------------------------------------------------------------------------------------
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
            if _code(exc) == "NoSuchEntity":
                return None
            raise ProvisioningError(f"GetPolicy {arn} failed: {_code(exc)}") from exc
        with _errors("GetPolicyVersion", arn):
            version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])[
                "PolicyVersion"
            ]
            tags = _tag_dict(iam.list_policy_tags(PolicyArn=arn).get("Tags", []))
        return {
            "path": policy.get("Path", "/"),
            "description": policy.get("Description", ""),
            "document": _doc(version["Document"]),
            "tags": tags,
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        with _errors("CreatePolicy", resource.name):
            iam_client().create_policy(
                PolicyName=resource.name,
                Path=d["path"],
                Description=d["description"],
                PolicyDocument=json.dumps(d["document"]),
                Tags=_tag_list(tags),
            )

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        iam = iam_client()
        arn = self._arn(resource)
        d = resource.desired
        with _errors("update policy", arn):
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
            if "tags" in d:
                iam.tag_policy(PolicyArn=arn, Tags=_tag_list(d["tags"]))

    def delete(self, resource: Resource) -> None:
        iam = iam_client()
        arn = self._arn(resource)
        with _errors("DeletePolicy", arn):
            try:
                for entity in iam.list_entities_for_policy(PolicyArn=arn).get("PolicyRoles", []):
                    iam.detach_role_policy(RoleName=entity["RoleName"], PolicyArn=arn)
                for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                    if not version["IsDefaultVersion"]:
                        iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
                iam.delete_policy(PolicyArn=arn)
            except ClientError as exc:
                if _code(exc) != "NoSuchEntity":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        iam = iam_client()
        names = []
        with _errors("ListPolicies", spec_name):
            for page in iam.get_paginator("list_policies").paginate(
                Scope="Local", PathPrefix=f"/opswire/{spec_name}/"
            ):
                names += [p["PolicyName"] for p in page["Policies"]]
        return names

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        problems = []
        explicit = canonical(current["document"]) == canonical(resource.desired.get("document"))
        for statement in current["document"].get("Statement", []):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            wild = [a for a in actions if a == "*" or a.endswith(":*")]
            if wild and not explicit:
                problems.append(f"statement {statement.get('Sid', '?')} allows {wild}")
            if wild and explicit and statement.get("Resource") in ("*", ["*"]):
                problems.append(f"statement {statement.get('Sid', '?')} allows * on *")
        return problems


class RoleDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        iam = iam_client()
        name = resource.name
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except ClientError as exc:
            if _code(exc) == "NoSuchEntity":
                return None
            raise ProvisioningError(f"GetRole {name} failed: {_code(exc)}") from exc
        with _errors("read role", name):
            attached = [
                p["PolicyArn"]
                for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
                for p in page["AttachedPolicies"]
            ]
            tags = _tag_dict(iam.list_role_tags(RoleName=name).get("Tags", []))
            profiles = iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]
        return {
            "instance_profile": any(p["InstanceProfileName"] == name for p in profiles),
            "path": role.get("Path", "/"),
            "trust": _doc(role["AssumeRolePolicyDocument"]),
            "policies": sorted(attached),
            "max_session_seconds": role.get("MaxSessionDuration", 3600),
            "description": role.get("Description", ""),
            "tags": tags,
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        with _errors("CreateRole", resource.name):
            iam_client().create_role(
                RoleName=resource.name,
                Path=d["path"],
                AssumeRolePolicyDocument=json.dumps(d["trust"]),
                Description=d["description"],
                MaxSessionDuration=d["max_session_seconds"],
                Tags=_tag_list(tags),
            )
            for arn in d["policies"]:
                iam_client().attach_role_policy(RoleName=resource.name, PolicyArn=arn)
            if d.get("instance_profile"):
                self._add_profile(resource, tags)

    def _add_profile(self, resource: Resource, tags: dict[str, str]) -> None:
        iam = iam_client()
        try:
            iam.create_instance_profile(
                InstanceProfileName=resource.name,
                Path=resource.desired["path"],
                Tags=_tag_list(tags),
            )
        except ClientError as exc:
            if _code(exc) != "EntityAlreadyExists":
                raise
        iam.add_role_to_instance_profile(InstanceProfileName=resource.name, RoleName=resource.name)

    def _remove_profile(self, name: str) -> None:
        iam = iam_client()
        try:
            iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=name)
            iam.delete_instance_profile(InstanceProfileName=name)
        except ClientError as exc:
            if _code(exc) != "NoSuchEntity":
                raise

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        iam = iam_client()
        d = resource.desired
        name = resource.name
        with _errors("update role", name):
            if "trust" in d and canonical(d["trust"]) != canonical(current["trust"]):
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(d["trust"]))
            session = d.get("max_session_seconds", current["max_session_seconds"])
            description = d.get("description", current["description"])
            if (session, description) != (current["max_session_seconds"], current["description"]):
                iam.update_role(RoleName=name, Description=description, MaxSessionDuration=session)
            if "policies" in d:
                for arn in set(d["policies"]) - set(current["policies"]):
                    iam.attach_role_policy(RoleName=name, PolicyArn=arn)
                for arn in set(current["policies"]) - set(d["policies"]):
                    iam.detach_role_policy(RoleName=name, PolicyArn=arn)
            if "instance_profile" in d and d["instance_profile"] != current["instance_profile"]:
                if d["instance_profile"]:
                    self._add_profile(resource, d.get("tags", {}))
                else:
                    self._remove_profile(name)
            if "tags" in d:
                iam.tag_role(RoleName=name, Tags=_tag_list(d["tags"]))

    def delete(self, resource: Resource) -> None:
        iam = iam_client()
        name = resource.name
        with _errors("DeleteRole", name):
            try:
                for page in iam.get_paginator("list_attached_role_policies").paginate(
                    RoleName=name
                ):
                    for p in page["AttachedPolicies"]:
                        iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
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
                if _code(exc) != "NoSuchEntity":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        iam = iam_client()
        with _errors("ListRoles", spec_name):
            return [
                r["RoleName"]
                for page in iam.get_paginator("list_roles").paginate(
                    PathPrefix=f"/opswire/{spec_name}/"
                )
                for r in page["Roles"]
            ]

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        problems = []
        for statement in current["trust"].get("Statement", []):
            principal = statement.get("Principal")
            if principal in ("*", {"AWS": "*"}):
                problems.append("trust policy lets anyone assume the role")
        return problems


# ---- KMS --------------------------------------------------------------------------------------
class KmsKeyDriver:
    """A customer managed key behind ``alias/<name>``. Undo schedules its deletion (7 days,
    the minimum KMS allows) and removes the alias."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _key_id(self, alias: str) -> str | None:
        try:
            meta = kms_client().describe_key(KeyId=f"alias/{alias}")["KeyMetadata"]
        except ClientError as exc:
            if _code(exc) == "NotFoundException":
                return None
            raise ProvisioningError(f"DescribeKey alias/{alias} failed: {_code(exc)}") from exc
        if meta.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
            return None
        return str(meta["KeyId"])

    def read(self, resource: Resource) -> dict[str, Any] | None:
        key_id = self._key_id(resource.name)
        if key_id is None:
            return None
        kms = kms_client()
        with _errors("read key", resource.name):
            meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
            rotation = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
            tags = _tag_dict(
                kms.list_resource_tags(KeyId=key_id).get("Tags", []), "TagKey", "TagValue"
            )
        return {
            "description": meta.get("Description", ""),
            "rotation": rotation,
            "tags": tags,
            "key_id": key_id,
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        kms = kms_client()
        d = resource.desired
        with _errors("CreateKey", resource.name):
            key_id = kms.create_key(
                Description=d["description"],
                Tags=_tag_list(tags, "TagKey", "TagValue"),
            )["KeyMetadata"]["KeyId"]
            try:
                kms.create_alias(AliasName=f"alias/{resource.name}", TargetKeyId=key_id)
            except ClientError:
                kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
                raise
            if d["rotation"]:
                kms.enable_key_rotation(KeyId=key_id)

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        kms = kms_client()
        d = resource.desired
        key_id = current["key_id"]
        with _errors("update key", resource.name):
            if "description" in d and d["description"] != current["description"]:
                kms.update_key_description(KeyId=key_id, Description=d["description"])
            if "rotation" in d and d["rotation"] != current["rotation"]:
                if d["rotation"]:
                    kms.enable_key_rotation(KeyId=key_id)
                else:
                    kms.disable_key_rotation(KeyId=key_id)
            if "tags" in d:
                kms.tag_resource(KeyId=key_id, Tags=_tag_list(d["tags"], "TagKey", "TagValue"))

    def delete(self, resource: Resource) -> None:
        key_id = self._key_id(resource.name)
        if key_id is None:
            return
        kms = kms_client()
        with _errors("ScheduleKeyDeletion", resource.name):
            kms.delete_alias(AliasName=f"alias/{resource.name}")
            kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    def owned(self, spec_name: str) -> list[str]:
        kms = kms_client()
        names = []
        with _errors("ListAliases", spec_name):
            for page in kms.get_paginator("list_aliases").paginate():
                for alias in page["Aliases"]:
                    if alias["AliasName"].startswith("alias/aws/") or "TargetKeyId" not in alias:
                        continue
                    tags = _tag_dict(
                        kms.list_resource_tags(KeyId=alias["TargetKeyId"]).get("Tags", []),
                        "TagKey",
                        "TagValue",
                    )
                    if tags.get(SPEC_TAG) == spec_name:
                        names.append(alias["AliasName"].removeprefix("alias/"))
        return names

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        return [] if current["rotation"] else ["key rotation is off"]


# ---- CloudWatch Logs --------------------------------------------------------------------------
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
        with _errors("DescribeLogGroups", name):
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
        with _errors("CreateLogGroup", resource.name):
            args: dict[str, Any] = {"logGroupName": resource.name, "tags": tags}
            if d.get("kms_key"):
                args["kmsKeyId"] = d["kms_key"]
            logs_client().create_log_group(**args)
        self.update(resource, {"retention_days": None, "subscription": None, "tags": tags})

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        logs = logs_client()
        d = resource.desired
        name = resource.name
        with _errors("configure log group", name):
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
            if "tags" in d and any(
                current.get("tags", {}).get(k) != v for k, v in d["tags"].items()
            ):
                logs.tag_resource(resourceArn=self._arn(name), tags=d["tags"])

    def delete(self, resource: Resource) -> None:
        with _errors("DeleteLogGroup", resource.name):
            try:
                logs_client().delete_log_group(logGroupName=resource.name)
            except ClientError as exc:
                if _code(exc) != "ResourceNotFoundException":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        logs = logs_client()
        names = []
        with _errors("DescribeLogGroups", spec_name):
            for page in logs.get_paginator("describe_log_groups").paginate():
                for group in page["logGroups"]:
                    name = group["logGroupName"]
                    tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
                    if tags.get(SPEC_TAG) == spec_name:
                        names.append(name)
        return names

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        return [] if current.get("retention_days") else ["no retention: logs are kept forever"]


# ---- Secrets Manager --------------------------------------------------------------------------
class SecretDriver:
    """The initial value is generated by Secrets Manager (GetRandomPassword) and never logged
    or returned. Rotation goes through the stack's rotation function."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        sm = secretsmanager_client()
        try:
            entry = sm.describe_secret(SecretId=resource.name)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return None
            raise ProvisioningError(f"DescribeSecret {resource.name} failed: {_code(exc)}") from exc
        if entry.get("DeletedDate"):
            return None
        rules = entry.get("RotationRules", {})
        enabled = bool(entry.get("RotationEnabled"))
        return {
            "description": entry.get("Description", ""),
            "kms_key": self._alias(entry.get("KmsKeyId")),
            "rotation_days": rules.get("AutomaticallyAfterDays") if enabled else None,
            "rotation_function": entry.get("RotationLambdaARN") if enabled else None,
            "tags": _tag_dict(list(entry.get("Tags", []))),
        }

    def _alias(self, key: str | None) -> str | None:
        """The key as ``alias/<name>`` when it has an alias (that is how the spec names it)."""
        if not key or key.startswith("alias/"):
            return key
        if ":alias/" in key:
            return "alias/" + key.split(":alias/", 1)[1]
        with _errors("ListAliases", key):
            aliases = kms_client().list_aliases(KeyId=key).get("Aliases", [])
        return str(aliases[0]["AliasName"]) if aliases else key

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        sm = secretsmanager_client()
        d = resource.desired
        generate = d.get("generate", {})
        with _errors("CreateSecret", resource.name):
            value = sm.get_random_password(
                PasswordLength=generate.get("length", 32),
                ExcludePunctuation=generate.get("exclude_punctuation", True),
            )["RandomPassword"]
            args: dict[str, Any] = {
                "Name": resource.name,
                "Description": d["description"],
                "SecretString": json.dumps(
                    {generate.get("key", "value"): value, "kind": generate.get("kind", "generic")}
                ),
                "Tags": _tag_list(tags),
            }
            if d.get("kms_key"):
                args["KmsKeyId"] = d["kms_key"]
            sm.create_secret(**args)
        self.update(
            resource,
            {"description": d["description"], "kms_key": d.get("kms_key"), "rotation_days": None,
             "rotation_function": None, "tags": tags},
        )  # fmt: skip

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        sm = secretsmanager_client()
        d = resource.desired
        name = resource.name
        with _errors("configure secret", name):
            changes: dict[str, Any] = {}
            if "description" in d and d["description"] != current.get("description"):
                changes["Description"] = d["description"]
            if "kms_key" in d and d["kms_key"] != current.get("kms_key") and d["kms_key"]:
                changes["KmsKeyId"] = d["kms_key"]
            if changes:
                sm.update_secret(SecretId=name, **changes)
            rotation = (d.get("rotation_days"), d.get("rotation_function"))
            if "rotation_days" in d and rotation != (
                current.get("rotation_days"),
                current.get("rotation_function"),
            ):
                if d["rotation_days"]:
                    sm.rotate_secret(
                        SecretId=name,
                        RotationLambdaARN=d["rotation_function"],
                        RotationRules={"AutomaticallyAfterDays": d["rotation_days"]},
                        RotateImmediately=False,
                    )
                else:
                    sm.cancel_rotate_secret(SecretId=name)
            if "tags" in d and any(
                current.get("tags", {}).get(k) != v for k, v in d["tags"].items()
            ):
                sm.tag_resource(SecretId=name, Tags=_tag_list(d["tags"]))

    def delete(self, resource: Resource) -> None:
        with _errors("DeleteSecret", resource.name):
            try:
                secretsmanager_client().delete_secret(
                    SecretId=resource.name, ForceDeleteWithoutRecovery=True
                )
            except ClientError as exc:
                if _code(exc) != "ResourceNotFoundException":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        sm = secretsmanager_client()
        with _errors("ListSecrets", spec_name):
            return [
                s["Name"]
                for page in sm.get_paginator("list_secrets").paginate(
                    Filters=[
                        {"Key": "tag-key", "Values": [SPEC_TAG]},
                        {"Key": "tag-value", "Values": [spec_name]},
                    ]
                )
                for s in page["SecretList"]
                if _tag_dict(list(s.get("Tags", []))).get(SPEC_TAG) == spec_name
            ]

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        problems = []
        if resource.desired.get("kms_key") and not current.get("kms_key"):
            problems.append("not encrypted with the spec's KMS key")
        if resource.desired.get("rotation_days") and not current.get("rotation_days"):
            problems.append("rotation is off")
        return problems


# ---- CloudWatch alarms ------------------------------------------------------------------------
class AlarmDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        cw = cloudwatch_client()
        with _errors("DescribeAlarms", resource.name):
            alarms = cw.describe_alarms(AlarmNames=[resource.name]).get("MetricAlarms", [])
            if not alarms:
                return None
            a = alarms[0]
            tags = _tag_dict(cw.list_tags_for_resource(ResourceARN=a["AlarmArn"]).get("Tags", []))
        return {
            "namespace": a.get("Namespace"),
            "metric": a.get("MetricName"),
            "dimensions": dict(sorted(_tag_dict(a.get("Dimensions", []), "Name", "Value").items())),
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
            "Dimensions": _tag_list(d["dimensions"], "Name", "Value"),
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
            args["Tags"] = _tag_list(tags)
        cloudwatch_client().put_metric_alarm(**args)

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        with _errors("PutMetricAlarm", resource.name):
            self._put(resource, tags)

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        merged = Resource(
            resource.kind,
            resource.name,
            {**{k: v for k, v in current.items() if k not in ("arn", "tags")}, **resource.desired},
        )
        with _errors("PutMetricAlarm", resource.name):
            self._put(merged, None)
            if "tags" in resource.desired:
                cloudwatch_client().tag_resource(
                    ResourceARN=current["arn"], Tags=_tag_list(resource.desired["tags"])
                )

    def delete(self, resource: Resource) -> None:
        with _errors("DeleteAlarms", resource.name):
            cloudwatch_client().delete_alarms(AlarmNames=[resource.name])

    def owned(self, spec_name: str) -> list[str]:
        cw = cloudwatch_client()
        names = []
        with _errors("DescribeAlarms", spec_name):
            for page in cw.get_paginator("describe_alarms").paginate():
                for a in page.get("MetricAlarms", []):
                    tags = _tag_dict(cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"])
                    if tags.get(SPEC_TAG) == spec_name:
                        names.append(a["AlarmName"])
        return names

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        return [] if current.get("actions") else ["the alarm notifies nobody"]


def aws_drivers(ctx: Context, spec_name: str) -> dict[str, Any]:
    """The real drivers, one per kind (``opswire.provisioning.engine.Drivers``)."""
    return {
        "kms_key": KmsKeyDriver(ctx),
        "bucket": BucketDriver(ctx),
        "ecr_repository": EcrDriver(ctx),
        "log_group": LogGroupDriver(ctx),
        "secret": SecretDriver(ctx),
        "policy": PolicyDriver(ctx, spec_name),
        "role": RoleDriver(ctx),
        "alarm": AlarmDriver(ctx),
    }
