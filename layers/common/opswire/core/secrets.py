"""Secret values from Secrets Manager through Powertools Parameters (cached for ``max_age``)."""

from opswire.core.errors import ConfigurationError


def get_secret_string(name: str, max_age: int) -> str:
    """Return the AWSCURRENT value of secret ``name``. The value is never logged."""
    # Imported here, like every boto3-backed client: boto3 loads on the first AWS call, not at
    # module import (see opswire.core.aws).
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(name, max_age=max_age)
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigurationError(f"secret {name!r} could not be read") from exc
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"secret {name!r} is empty or binary")
    return value.strip()
