"""ECS for deployments: read the service, register a revision with a new image, update, observe.

SDK errors become EcsRetryableError (throttling, 5xx) or EcsError (everything else).
"""

from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opswire.core.errors import EcsError, EcsRetryableError

if TYPE_CHECKING:
    from types_boto3_ecs import ECSClient

_RETRYABLE = frozenset({"ThrottlingException", "ServerException", "ServiceUnavailableException"})
# What describe_task_definition returns that register_task_definition does not accept.
_READ_ONLY = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
    }
)


@cache
def ecs_client() -> "ECSClient":
    import boto3

    return boto3.client("ecs")


def _translate(exc: ClientError, what: str) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    message = f"ECS {what}: {code}"
    if code in _RETRYABLE:
        return EcsRetryableError(message)
    return EcsError(message)


class EcsServices:
    def describe_service(self, cluster: str, service: str) -> dict[str, Any]:
        try:
            response = ecs_client().describe_services(cluster=cluster, services=[service])
        except ClientError as exc:
            raise _translate(exc, "DescribeServices") from exc
        services = [s for s in response.get("services", []) if s.get("status") != "INACTIVE"]
        if not services:
            raise EcsError(f"ECS service {service} not found in cluster {cluster}")
        result: dict[str, Any] = dict(services[0])
        return result

    def register_with_image(self, task_definition: str, container: str, image: str) -> str:
        """Register a new revision of ``task_definition`` whose ``container`` runs ``image``;
        return its ARN. Everything else is copied from the given revision."""
        try:
            described = ecs_client().describe_task_definition(
                taskDefinition=task_definition, include=["TAGS"]
            )
        except ClientError as exc:
            raise _translate(exc, "DescribeTaskDefinition") from exc
        source: dict[str, Any] = dict(described["taskDefinition"])
        definition: dict[str, Any] = {k: v for k, v in source.items() if k not in _READ_ONLY}
        containers = definition.get("containerDefinitions", [])
        if not any(c.get("name") == container for c in containers):
            raise EcsError(f"task definition {task_definition} has no container {container!r}")
        definition["containerDefinitions"] = [
            {**c, "image": image} if c.get("name") == container else c for c in containers
        ]
        if described.get("tags"):
            definition["tags"] = described["tags"]
        try:
            registered = ecs_client().register_task_definition(**definition)
        except ClientError as exc:
            raise _translate(exc, "RegisterTaskDefinition") from exc
        return str(registered["taskDefinition"]["taskDefinitionArn"])

    def update_service(self, cluster: str, service: str, task_definition: str) -> None:
        try:
            ecs_client().update_service(
                cluster=cluster, service=service, taskDefinition=task_definition
            )
        except ClientError as exc:
            raise _translate(exc, "UpdateService") from exc
