"""Generic secrets and API keys: a new random value, optionally tested against an HTTPS endpoint.

Secret JSON::

    {"kind": "generic", "value": "...",
     "length": 40, "exclude_characters": "\\"'", "exclude_punctuation": false,
     "value_key": "value",
     "test_url": "https://api.example.com/v1/ping", "test_header": "Authorization",
     "test_header_prefix": "Bearer "}

Only ``kind`` is required. The new value replaces ``value_key`` (default ``value``); every other
field is kept. Without ``test_url`` the test step only checks that the value is there.
"""

from typing import Protocol

from opswire.core.errors import RotationConfigurationError, RotationTestFailedError
from opswire.rotation.model import RotationContext, SecretValue

DEFAULT_LENGTH = 32
MIN_LENGTH, MAX_LENGTH = 8, 4096


class PasswordGenerator(Protocol):
    def random_password(
        self, length: int, exclude_characters: str, exclude_punctuation: bool
    ) -> str: ...


class EndpointChecker(Protocol):
    def status_with_header(self, url: str, header: str, value: str) -> int:
        """GET ``url`` with ``header: value``; return the HTTP status. ``value`` is secret."""
        ...


def password_settings(
    value: SecretValue, what: str, length_key: str, default_exclude: str = ""
) -> tuple[int, str, bool]:
    length = value.get(length_key, DEFAULT_LENGTH)
    if not isinstance(length, int) or isinstance(length, bool):
        raise RotationConfigurationError(f"{what}: {length_key!r} must be an integer")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise RotationConfigurationError(
            f"{what}: {length_key!r} must be between {MIN_LENGTH} and {MAX_LENGTH}"
        )
    exclude = value.get("exclude_characters", default_exclude)
    if not isinstance(exclude, str):
        raise RotationConfigurationError(f"{what}: 'exclude_characters' must be a string")
    punctuation = value.get("exclude_punctuation", False)
    if not isinstance(punctuation, bool):
        raise RotationConfigurationError(f"{what}: 'exclude_punctuation' must be true or false")
    return length, exclude, punctuation


class GenericStrategy:
    """``generic`` (alias ``api-key``)."""

    def __init__(self, passwords: PasswordGenerator, endpoints: EndpointChecker) -> None:
        self._passwords = passwords
        self._endpoints = endpoints

    def create(self, ctx: RotationContext) -> SecretValue:
        what = ctx.secret
        key = _value_key(ctx.current, what)
        length, exclude, punctuation = password_settings(ctx.current, what, "length")
        _test_settings(ctx.current, what)  # a bad test configuration fails before any change
        new = self._passwords.random_password(length, exclude, punctuation)
        return ctx.current.with_changes(**{key: new})

    def set(self, ctx: RotationContext) -> str:
        return "nothing to install: the secret itself is the source of truth"

    def test(self, ctx: RotationContext) -> str:
        pending = ctx.require_pending()
        key = _value_key(pending, ctx.secret)
        value = pending.get(key)
        if not isinstance(value, str) or not value:
            raise RotationTestFailedError(f"{ctx.secret}: AWSPENDING has no {key!r}")
        settings = _test_settings(pending, ctx.secret)
        if settings is None:
            return "no test_url: checked that the new value is present"
        url, header, prefix = settings
        status = self._endpoints.status_with_header(url, header, prefix + value)
        if not 200 <= status < 300:
            raise RotationTestFailedError(
                f"{ctx.secret}: the test endpoint {url} refused the new value (HTTP {status})"
            )
        return f"the test endpoint accepted the new value (HTTP {status})"

    def after_promotion(self, ctx: RotationContext) -> str:
        return ""

    def discard(self, ctx: RotationContext, value: SecretValue) -> None:
        return None  # nothing outside the secret was changed by create


def _value_key(value: SecretValue, what: str) -> str:
    key = value.get("value_key", "value")
    if not isinstance(key, str) or not key or key == "kind":
        raise RotationConfigurationError(f"{what}: 'value_key' must name a field")
    return key


def _test_settings(value: SecretValue, what: str) -> tuple[str, str, str] | None:
    url = value.get("test_url")
    if url is None:
        return None
    if not isinstance(url, str) or not url.startswith("https://"):
        raise RotationConfigurationError(f"{what}: 'test_url' must be an https:// URL")
    header = value.get("test_header", "Authorization")
    prefix = value.get("test_header_prefix", "Bearer ")
    if not isinstance(header, str) or not header or not isinstance(prefix, str):
        raise RotationConfigurationError(
            f"{what}: 'test_header' and 'test_header_prefix' must be strings"
        )
    return url, header, prefix
