"""The ``_bulk`` answer when every item was indexed is counted on its bytes; any other answer
is parsed (opswire.log_shipping.aws.opensearch._all_indexed)."""

import orjson
import pytest

from opswire.log_shipping.aws.opensearch import _all_indexed


def _answer(errors: bool, items: list[object]) -> bytes:
    return orjson.dumps({"errors": errors, "items": items})


@pytest.mark.parametrize("count", [0, 1, 2, 10_000])
def test_an_all_indexed_answer_is_counted(count: int) -> None:
    items = [{("index", "create")[n % 2]: {"status": (201, 200)[n % 3 == 0]}} for n in range(count)]
    assert _all_indexed(_answer(False, items)) == count


@pytest.mark.parametrize(
    "answer",
    [
        _answer(True, [{"index": {"status": 201}}]),  # errors: parsed
        _answer(False, [{"index": {"status": 201}}, {"index": {"status": 429}}]),
        _answer(False, [{"index": {"status": 201, "error": {"type": "x"}}}]),
        _answer(False, [{"delete": {"status": 200}}]),
        orjson.dumps({"took": 3, "errors": False, "items": [{"index": {"status": 201}}]}),
        b'{"errors": false, "items": [{"index": {"status": 201}}]}',  # not compact: parsed
        b'{"errors":false,"items":[{"index":{"status":201}}{"index":{"status":201}}]}',
        b'{"errors":false,"items":[{"index":{"status":201}},,{"index":{"status":201}}]}',
        b'{"errors":false,"items":[,{"index":{"status":201}}]}',
        b'{"errors":false,"items":[{"index":{"status":201}},]}',
        b'{"errors":false,"items":[{"index":{"status":201}}]}trailing',
        b"",
    ],
)
def test_any_other_answer_is_left_to_the_parser(answer: bytes) -> None:
    assert _all_indexed(answer) is None
