"""S3 buckets: encryption, versioning, public access block, object ownership, the bucket
policy and placeholder folders. Undo empties the bucket (every version) before deleting it."""

import json
from typing import Any

from botocore.exceptions import ClientError

from opswire.core.aws import s3_client
from opswire.core.errors import ProvisioningError, ResourceConflictError
from opswire.provisioning.aws.sdk import error_code, sdk_errors, tag_dict, tag_list
from opswire.provisioning.resources import SPEC_TAG, Context, Resource, canonical, tag_delta


class BucketDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        s3 = s3_client()
        name = resource.name
        try:
            s3.head_bucket(Bucket=name)
        except ClientError as exc:
            code = error_code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                return None
            if code in ("403", "AccessDenied"):
                raise ResourceConflictError(f"bucket {name} exists in another account") from exc
            raise ProvisioningError(f"HeadBucket {name} failed: {code}") from exc
        state: dict[str, Any] = {}
        with sdk_errors("read bucket", name):
            state["tags"] = self._optional(
                lambda: tag_dict(s3.get_bucket_tagging(Bucket=name)["TagSet"]),
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
            if error_code(exc) == missing_code:
                return default
            raise

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        s3 = s3_client()
        name = resource.name
        with sdk_errors("CreateBucket", name):
            args: dict[str, Any] = {"Bucket": name}
            if self.ctx.region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": self.ctx.region}
            try:
                s3.create_bucket(**args)
            except ClientError as exc:
                if error_code(exc) == "BucketAlreadyExists":
                    raise ResourceConflictError(f"bucket name {name} is taken") from exc
                raise
            # The tags first: from here on, undo recognises the bucket as this execution's.
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(tags)})
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

        with sdk_errors("configure bucket", name):
            to_set, to_remove = tag_delta(d.get("tags", {}), (current or {}).get("tags", {}))
            if current is not None and (to_set or to_remove):
                # PutBucketTagging replaces the whole set: every tag that stays goes with it,
                # aws:* ones included (S3 refuses a set that drops a system tag).
                kept = {k: v for k, v in current["tags"].items() if k not in to_remove}
                s3.put_bucket_tagging(
                    Bucket=name, Tagging={"TagSet": tag_list({**kept, **d["tags"]})}
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
        with sdk_errors("DeleteBucket", name):
            # The bucket goes anyway: its policy first, so that none of its Deny statements
            # (this spec's or anyone's) stands in the way of emptying it.
            try:
                s3.delete_bucket_policy(Bucket=name)
            except ClientError as exc:
                if error_code(exc) != "NoSuchBucket":
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
                if error_code(exc) != "NoSuchBucket":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        s3 = s3_client()
        names = []
        with sdk_errors("ListBuckets", spec_name):
            for bucket in s3.list_buckets().get("Buckets", []):
                try:
                    tags = tag_dict(s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"])
                except ClientError:
                    continue
                if tags.get(SPEC_TAG) == spec_name:
                    names.append(bucket["Name"])
        return names

    def refusals(self, resource: Resource) -> list[str]:
        return []  # nothing outside the resource decides whether it works

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
