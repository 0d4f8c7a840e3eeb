"""ECR repositories: scan on push, tag mutability, the lifecycle policy."""

import json
from typing import Any

from botocore.exceptions import ClientError

from opswire.core.errors import ProvisioningError
from opswire.provisioning.aws.sdk import ecr_client, error_code, sdk_errors, tag_dict, tag_list
from opswire.provisioning.resources import SPEC_TAG, Context, Resource, canonical, tag_delta


class EcrDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, resource: Resource) -> dict[str, Any] | None:
        ecr = ecr_client()
        name = resource.name
        try:
            repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        except ClientError as exc:
            if error_code(exc) == "RepositoryNotFoundException":
                return None
            raise ProvisioningError(
                f"DescribeRepositories {name} failed: {error_code(exc)}"
            ) from exc
        with sdk_errors("read repository", name):
            tags = tag_dict(
                ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags", [])
            )
            try:
                text = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
                lifecycle = json.loads(text)
            except ClientError as exc:
                if error_code(exc) != "LifecyclePolicyNotFoundException":
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
        with sdk_errors("CreateRepository", resource.name):
            ecr_client().create_repository(
                repositoryName=resource.name,
                imageTagMutability=d["tag_mutability"],
                imageScanningConfiguration={"scanOnPush": d["scan_on_push"]},
                encryptionConfiguration={"encryptionType": "AES256"},
                tags=tag_list(tags),
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
        with sdk_errors("configure repository", name):
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
            to_set, to_remove = tag_delta(d.get("tags", {}), current["tags"])
            if to_set:
                ecr.tag_resource(resourceArn=current["arn"], tags=tag_list(d["tags"]))
            if to_remove:
                ecr.untag_resource(resourceArn=current["arn"], tagKeys=to_remove)

    def delete(self, resource: Resource) -> None:
        with sdk_errors("DeleteRepository", resource.name):
            try:
                ecr_client().delete_repository(repositoryName=resource.name, force=True)
            except ClientError as exc:
                if error_code(exc) != "RepositoryNotFoundException":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        ecr = ecr_client()
        names = []
        with sdk_errors("DescribeRepositories", spec_name):
            for page in ecr.get_paginator("describe_repositories").paginate():
                for repo in page["repositories"]:
                    tags = tag_dict(
                        ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
                    )
                    if tags.get(SPEC_TAG) == spec_name:
                        names.append(repo["repositoryName"])
        return names

    def refusals(self, resource: Resource) -> list[str]:
        return []  # nothing outside the resource decides whether it works

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        wanted = resource.desired.get("scan_on_push", True)
        return [] if current["scan_on_push"] or not wanted else ["scan on push is off"]
