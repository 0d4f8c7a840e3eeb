"""The deploy config document from SSM Parameter Store (Powertools Parameters, cached)."""

from pydantic import ValidationError

from opswire.deployments.config import DeployConfig
from opswire.errors import ConfigurationError


def load_deploy_config(name: str, max_age: int) -> DeployConfig:
    from aws_lambda_powertools.utilities import parameters

    try:
        document = parameters.get_parameter(name, transform="json", max_age=max_age)
    except (
        parameters.exceptions.GetParameterError,
        parameters.exceptions.TransformParameterError,
    ) as exc:
        raise ConfigurationError(f"deploy config {name!r} could not be read") from exc
    try:
        return DeployConfig.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise ConfigurationError(f"deploy config {name!r} is invalid: {problems}") from exc
