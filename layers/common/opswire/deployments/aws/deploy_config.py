"""The deploy config document from SSM Parameter Store (Powertools Parameters, cached)."""

from opswire.core.parameters import load_json_document
from opswire.deployments.config import DeployConfig


def load_deploy_config(name: str, max_age: int) -> DeployConfig:
    return load_json_document(name, DeployConfig, "deploy config", max_age)
