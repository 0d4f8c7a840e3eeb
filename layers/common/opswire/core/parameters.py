"""Configuration documents from SSM Parameter Store (Powertools Parameters, cached)."""

from pydantic import BaseModel, ValidationError

from opswire.core.errors import ConfigurationError


def load_json_document[M: BaseModel](name: str, model: type[M], what: str, max_age: int) -> M:
    """The JSON document in parameter ``name``, validated as ``model``; ``what`` names it in
    errors ("routing table", "deploy config")."""
    from aws_lambda_powertools.utilities import parameters

    try:
        document = parameters.get_parameter(name, transform="json", max_age=max_age)
    except (
        parameters.exceptions.GetParameterError,
        parameters.exceptions.TransformParameterError,
    ) as exc:
        raise ConfigurationError(f"{what} {name!r} could not be read") from exc
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = validation_problems(exc, limit=5)
        raise ConfigurationError(f"{what} {name!r} is invalid: {problems}") from exc


def validation_problems(exc: ValidationError, limit: int | None = None) -> str:
    """``exc``'s errors in one line, ``field.path: message; ...`` (the first ``limit``); an error
    of the whole document (not an object, ...) is named ``document``."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'document'}: {e['msg']}" for e in exc.errors()[:limit]
    )
