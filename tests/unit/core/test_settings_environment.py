"""How a settings model reads the environment (opswire.core.settings._Settings): names,
aliases, precedence; and that loading settings stays light on a cold start."""

import json
import subprocess
import sys
import types
import typing
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, ValidationError

from opswire.core import settings as settings_module
from opswire.core.settings import LogShippingSettings, clear_settings_cache, load_settings
from tests.conftest import REPO_ROOT

REGION_NAMES = ("OPENSEARCH_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")


@pytest.fixture(autouse=True)
def shipping_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        *REGION_NAMES,
        "OPENSEARCH_ENDPOINT",
        "LOG_GZIP_LEVEL",
        "STACK_SETTINGS_PARAMETER",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_DLQ_BUCKET", "dead-letters")
    clear_settings_cache()
    yield
    clear_settings_cache()


def test_a_field_is_read_from_its_name_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_DLQ_BUCKET")
    monkeypatch.setenv("Log_Dlq_Bucket", "mixed-case")
    monkeypatch.setenv("log_gzip_level", "4")
    settings = LogShippingSettings()
    assert (settings.log_dlq_bucket, settings.log_gzip_level) == ("mixed-case", 4)


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        ({}, "us-east-1"),
        ({"AWS_DEFAULT_REGION": "eu-west-3"}, "eu-west-3"),
        ({"AWS_DEFAULT_REGION": "eu-west-3", "AWS_REGION": "eu-west-1"}, "eu-west-1"),
        ({"AWS_REGION": "eu-west-1", "OPENSEARCH_REGION": "ap-south-1"}, "ap-south-1"),
    ],
)
def test_alias_choices_are_tried_in_order(
    monkeypatch: pytest.MonkeyPatch, present: dict[str, str], expected: str
) -> None:
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    assert LogShippingSettings().aws_region == expected


def test_the_field_name_of_an_aliased_field_is_not_an_environment_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("aws_region_unrelated", "x")
    assert LogShippingSettings().aws_region == "eu-west-1"


def test_values_are_validated_from_their_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_INSTALL_INDEX_TEMPLATE", "false")
    monkeypatch.setenv("LOG_REQUEST_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", " search.example.com/ ")
    settings = LogShippingSettings()
    assert settings.log_install_index_template is False
    assert settings.log_request_timeout_seconds == 2.5
    assert settings.opensearch_endpoint == "https://search.example.com"
    monkeypatch.setenv("LOG_INSTALL_INDEX_TEMPLATE", "maybe")
    with pytest.raises(ValidationError, match="log_install_index_template"):
        LogShippingSettings()


def test_an_empty_value_counts_and_is_not_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_INDEX_TEMPLATE_NAME", "")
    with pytest.raises(ValidationError, match="log_index_template_name"):
        LogShippingSettings()


def test_keyword_arguments_win_over_the_environment() -> None:
    assert LogShippingSettings(log_dlq_bucket="given").log_dlq_bucket == "given"
    assert LogShippingSettings().log_dlq_bucket == "dead-letters"


def test_load_settings_reads_what_the_model_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert load_settings(LogShippingSettings).aws_region == "eu-central-1"


def _settings_models() -> list[type[BaseModel]]:
    base = settings_module._Settings
    return [
        value
        for value in vars(settings_module).values()
        if isinstance(value, type) and issubclass(value, base) and value is not base
    ]


def _is_scalar(annotation: object) -> bool:
    if typing.get_origin(annotation) is typing.Literal:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return all(_is_scalar(arg) for arg in typing.get_args(annotation))
    return annotation in (str, int, float, bool, type(None))


def test_every_settings_field_is_a_scalar_an_environment_string_validates_to() -> None:
    models = _settings_models()
    assert len(models) >= 10  # the models were found
    wrong = [
        f"{model.__name__}.{name}: {field.annotation}"
        for model in models
        for name, field in model.model_fields.items()
        if not _is_scalar(field.annotation)
    ]
    assert wrong == []


def test_loading_one_model_imports_no_pydantic_settings_and_builds_only_that_model() -> None:
    """A cold start: the settings module imports neither pydantic-settings nor asyncio, and
    validators are built for the loaded model only (defer_build)."""
    program = """
import json, os, sys
os.environ["LOG_DLQ_BUCKET"] = "b"
from opswire.core import settings
settings.load_settings(settings.LogShippingSettings)
built = sorted(
    name for name, value in vars(settings).items()
    if isinstance(value, type) and issubclass(value, settings._Settings)
    and value is not settings._Settings and value.__pydantic_complete__
)
print(json.dumps({"imported": [m for m in ("pydantic_settings", "asyncio") if m in sys.modules],
                  "built": built}))
"""
    completed = subprocess.run(
        [sys.executable, "-c", program],
        env={"PYTHONPATH": str(REPO_ROOT / "layers" / "common")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(completed.stdout) == {"imported": [], "built": ["LogShippingSettings"]}
