"""Deployments on the local platform (issue 6): the GitHub webhook secret, the deploy config,
the ECS services it names, and ECS rollout semantics moto lacks.

- The webhook secret (parameter GitHubWebhookSecretName) is seeded from ``GITHUB_WEBHOOK_SECRET``,
  default ``LOCAL_GITHUB_WEBHOOK_SECRET`` (development only, documented in docs/deployments.md).
- The deploy config parameter gets ``examples/deploy-config.json`` unless the platform options
  give another value; every ECS target it names is created in moto (cluster, a task definition
  with its container, a service on it) so that a push can deploy at once; the alarms it
  watches are created in state OK.
- moto's UpdateService changes the service's task definition but not its deployments. Here a new
  task definition makes a new PRIMARY deployment on it, rollout COMPLETED; an image whose tag
  starts with ``LOCAL_FAILING_TAG_PREFIX`` makes the rollout fail the way the ECS deployment
  circuit breaker does: PRIMARY goes back to the previous revision, rolloutState FAILED.
- Every Elastic Beanstalk target is created too (application, an "initial" version, the
  environment Ready/Green on it); moto lacks versions and updates: opswire_local.moto_beanstalk
  adds them (tags starting with ``fail`` go Red, with ``revert`` EB goes back by itself).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from opswire_local.clients import aws_client
from opswire_local.template import ACCOUNT_ID, REGION

LOCAL_GITHUB_WEBHOOK_SECRET = "opswire-local-webhook-secret"
LOCAL_FAILING_TAG_PREFIX = "fail"
LOCAL_BEANSTALK_INITIAL_VERSION = "initial"
DEPLOY_CONFIG_LOGICAL_ID = "DeployConfigParameter"


def seed_secrets(secrets: Any, parameters: dict[str, str]) -> None:
    name = parameters.get("GitHubWebhookSecretName")
    if name:
        value = os.environ.get("GITHUB_WEBHOOK_SECRET") or LOCAL_GITHUB_WEBHOOK_SECRET
        secrets.create_secret(Name=name, SecretString=value)


def default_ssm_parameters(root: Path, given: dict[str, str]) -> dict[str, str]:
    """The example deploy config, unless the options give one."""
    example = root / "examples" / "deploy-config.json"
    if DEPLOY_CONFIG_LOGICAL_ID in given or not example.is_file():
        return given
    return {**given, DEPLOY_CONFIG_LOGICAL_ID: example.read_text(encoding="utf-8")}


def create_targets(config_json: str) -> None:
    """Create the ECS services the deploy config names (an existing one is left alone)."""
    ecs = aws_client("ecs")
    cloudwatch = aws_client("cloudwatch")
    try:
        config = json.loads(config_json)
    except ValueError:
        return
    for env in (config.get("environments") or {}).values():
        for alarm in env.get("alarms") or []:
            # The watched alarms, in OK (a test or `local send` may set one to ALARM).
            cloudwatch.put_metric_alarm(
                AlarmName=alarm,
                Namespace="opswire/demo",
                MetricName="Errors",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="local")
        target = env.get("target") or {}
        if target.get("type") == "beanstalk":
            create_beanstalk_environment(target["application"], target["environment_name"])
            continue
        if target.get("type", "ecs") != "ecs":
            continue
        cluster, service = target["cluster"], target["service"]
        ecs.create_cluster(clusterName=cluster)
        existing = ecs.describe_services(cluster=cluster, services=[service])["services"]
        if any(s.get("status") == "ACTIVE" for s in existing):
            continue
        definition = ecs.register_task_definition(
            family=service,
            containerDefinitions=[
                {
                    "name": target["container"],
                    "image": f"{target['image_repository']}:initial",
                    "memory": 512,
                    "essential": True,
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(
            cluster=cluster, serviceName=service, taskDefinition=definition, desiredCount=1
        )


def create_beanstalk_environment(application: str, environment: str) -> None:
    """The application, its "initial" version (EB's sample application: no bundle) and the
    environment running it, Ready and Green (an existing environment is left alone)."""
    from opswire_local.moto_beanstalk import settle

    eb = aws_client("elasticbeanstalk")
    known = eb.describe_applications(ApplicationNames=[application]).get("Applications", [])
    if not any(a.get("ApplicationName") == application for a in known):
        eb.create_application(ApplicationName=application)
    existing = eb.describe_environments(ApplicationName=application, EnvironmentNames=[environment])
    if existing.get("Environments"):
        return
    versions = eb.describe_application_versions(
        ApplicationName=application, VersionLabels=[LOCAL_BEANSTALK_INITIAL_VERSION]
    )
    if not versions.get("ApplicationVersions"):
        eb.create_application_version(
            ApplicationName=application, VersionLabel=LOCAL_BEANSTALK_INITIAL_VERSION
        )
    eb.create_environment(
        ApplicationName=application,
        EnvironmentName=environment,
        SolutionStackName="64bit Amazon Linux 2023 v4.6.0 running Docker",
        VersionLabel=LOCAL_BEANSTALK_INITIAL_VERSION,
    )
    settle(
        application,
        environment,
        version_label=LOCAL_BEANSTALK_INITIAL_VERSION,
        account_id=ACCOUNT_ID,
        region=REGION,
    )


@contextlib.contextmanager
def ecs_rollout_semantics() -> Iterator[None]:
    from moto.core.utils import utcnow
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.moto_api._internal import mock_random

    original = EC2ContainerServiceBackend.update_service

    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        cluster = service_properties.get("cluster", "default")
        name = str(service_properties.get("service", "")).split("/")[-1]
        requested = service_properties.get("task_definition")
        before = self._get_service(cluster, name).task_definition
        service = original(self, service_properties)
        if not requested:
            return service
        arn = service.task_definition
        definition = self.describe_task_definition(arn)
        failing = any(
            c.get("image", "").rpartition(":")[2].startswith(LOCAL_FAILING_TAG_PREFIX)
            for c in definition.container_definitions
        )
        now = utcnow()
        deployment = {
            **(service.deployments[0] if service.deployments else {}),
            "id": f"ecs-svc/{mock_random.randint(0, 32**12)}",
            "createdAt": now,
            "updatedAt": now,
            "status": "PRIMARY",
            "taskDefinition": arn,
            "rolloutState": "COMPLETED",
            "rolloutStateReason": "ECS deployment completed.",
        }
        if failing:
            # The circuit breaker: tasks never became healthy, ECS went back to the old revision.
            service.task_definition = before
            deployment.update(
                taskDefinition=before,
                rolloutState="FAILED",
                rolloutStateReason="ECS deployment circuit breaker: tasks failed "
                "to start; rolling back to the last completed deployment.",
            )
        service.deployments = [deployment]
        return service

    with mock.patch.object(EC2ContainerServiceBackend, "update_service", update_service):
        yield
