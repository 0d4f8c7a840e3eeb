"""IAM OpenID Connect identity providers (GitHub Actions' by default), named by their host."""

from typing import Any

from botocore.exceptions import ClientError

from opswire.core.aws import iam_client
from opswire.core.errors import ProvisioningError
from opswire.provisioning.aws.sdk import error_code, sdk_errors, tag_dict, tag_list
from opswire.provisioning.resources import SPEC_TAG, Context, Resource, tag_delta
from opswire.provisioning.resources_iam import oidc_provider_arn


class OidcProviderDriver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _arn(self, resource: Resource) -> str:
        return oidc_provider_arn(self.ctx, resource.name)

    def read(self, resource: Resource) -> dict[str, Any] | None:
        arn = self._arn(resource)
        try:
            got = iam_client().get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise ProvisioningError(f"GetOpenIDConnectProvider {arn} failed") from exc
        return {
            "audiences": sorted(got.get("ClientIDList", [])),
            "thumbprints": sorted(t.lower() for t in got.get("ThumbprintList", [])),
            "tags": tag_dict(got.get("Tags", [])),
        }

    def create(self, resource: Resource, tags: dict[str, str]) -> None:
        d = resource.desired
        args: dict[str, Any] = {
            "Url": d["url"],
            "ClientIDList": d["audiences"],
            "Tags": tag_list(tags),
        }
        if d.get("thumbprints"):  # none: IAM trusts the provider's CA (GitHub)
            args["ThumbprintList"] = d["thumbprints"]
        with sdk_errors("CreateOpenIDConnectProvider", resource.name):
            iam_client().create_open_id_connect_provider(**args)

    def update(self, resource: Resource, current: dict[str, Any]) -> None:
        iam = iam_client()
        arn = self._arn(resource)
        d = resource.desired
        with sdk_errors("update OIDC provider", resource.name):
            for audience in set(d.get("audiences", [])) - set(current["audiences"]):
                iam.add_client_id_to_open_id_connect_provider(
                    OpenIDConnectProviderArn=arn, ClientID=audience
                )
            for audience in set(current["audiences"]) - set(d.get("audiences", [])):
                iam.remove_client_id_from_open_id_connect_provider(
                    OpenIDConnectProviderArn=arn, ClientID=audience
                )
            if d.get("thumbprints") and d["thumbprints"] != current["thumbprints"]:
                iam.update_open_id_connect_provider_thumbprint(
                    OpenIDConnectProviderArn=arn, ThumbprintList=d["thumbprints"]
                )
            to_set, to_remove = tag_delta(d.get("tags", {}), current["tags"])
            if to_set:
                iam.tag_open_id_connect_provider(
                    OpenIDConnectProviderArn=arn, Tags=tag_list(d["tags"])
                )
            if to_remove:
                iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=to_remove)

    def delete(self, resource: Resource) -> None:
        arn = self._arn(resource)
        with sdk_errors("DeleteOpenIDConnectProvider", resource.name):
            try:
                iam_client().delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise

    def owned(self, spec_name: str) -> list[str]:
        iam = iam_client()
        names = []
        with sdk_errors("ListOpenIDConnectProviders", spec_name):
            for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
                arn = entry["Arn"]
                tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)
                if tag_dict(tags.get("Tags", [])).get(SPEC_TAG) == spec_name:
                    names.append(arn.split(":oidc-provider/", 1)[1])
        return names

    def refusals(self, resource: Resource) -> list[str]:
        return []  # nothing outside the resource decides whether it works

    def posture(self, resource: Resource, current: dict[str, Any]) -> list[str]:
        return [] if current["audiences"] else ["the provider accepts no audience"]
