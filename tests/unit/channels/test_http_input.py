"""opswire.channels.http_input: what each hostile body answers (the status and the message)."""

import base64
from typing import Any

import pytest

from opswire.channels.http_input import (
    BadInput,
    json_depth,
    json_object,
    request_body,
    request_headers,
    request_text,
)


def event(body: str | None, base64_body: bool = False) -> dict[str, Any]:
    return {"body": body, "isBase64Encoded": base64_body}


def refusal(call: Any) -> tuple[int, str]:
    with pytest.raises(BadInput) as caught:
        call()
    return caught.value.status, caught.value.message


def test_bodies_are_decoded_base64_or_text() -> None:
    assert request_body(event(base64.b64encode(b"\x00\xff").decode(), True), 10) == b"\x00\xff"
    assert request_body(event("exp=1&sig=ab"), 100) == b"exp=1&sig=ab"
    assert request_body(event(None), 10) == b""


@pytest.mark.parametrize(
    ("http", "status", "message"),
    [
        (event("not base64!", True), 400, "the request body is not valid base64"),
        (event(base64.b64encode(b"\x80abc").decode(), True), 400, "the request body is not UTF-8"),
        (event("\ud800"), 400, "the request body is not UTF-8"),
        (event("a" * 101), 413, "the request body is larger than 100 bytes"),
        (event("é" * 51), 413, "the request body is larger than 100 bytes"),
        (event(base64.b64encode(b"a" * 101).decode(), True), 413, "larger than 100 bytes"),
        (event(base64.b64encode(b"a" * 10_000).decode(), True), 413, "larger than 100 bytes"),
        ({"body": 12}, 400, "the request body is not text"),
    ],
    ids=["bad-base64", "not-utf8", "lone-surrogate", "long", "multibyte", "b64-long", "b64-huge",
         "not-text"],
)  # fmt: skip
def test_hostile_bodies_are_refused_with_a_clear_message(
    http: dict[str, Any], status: int, message: str
) -> None:
    got_status, got_message = refusal(lambda: request_text(http, 100))
    assert got_status == status
    assert message in got_message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff{}", "the request body is not UTF-8"),
        (b"{", "the body is not JSON"),
        (b"[1]", "the body is not a JSON object"),
        (b'"x"', "the body is not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "the JSON is nested deeper than 32"),
        (b'{"a":' * 33 + b"1" + b"}" * 33, "the JSON is nested deeper than 32"),
        (b"1" * 5000, "the body is not JSON"),  # beyond int's digit limit: ValueError
    ],
    ids=["not-utf8", "broken", "array", "string", "depth-bomb", "depth-33", "huge-int"],
)
def test_json_bodies_must_be_shallow_objects(raw: bytes, message: str) -> None:
    assert refusal(lambda: json_object(raw)) == (400, message)


def test_json_at_the_depth_limit_is_accepted() -> None:
    document = b'{"a":' * 31 + b"[1]" + b"}" * 31
    assert json_depth(json_object(document)) == 32


def test_headers_are_lower_cased_and_only_text() -> None:
    headers = {"X-Hub-Signature-256": "sha256=00", "X-Odd": 5}
    assert request_headers({"headers": headers}) == {"x-hub-signature-256": "sha256=00"}
    assert request_headers({"headers": None}) == {}
