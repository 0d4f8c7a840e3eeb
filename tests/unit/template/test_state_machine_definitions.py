"""Every state machine definition of the repository parses with moto's ASL parser, the one the
local platform runs (it validates a definition only when an execution of it first starts)."""

import re
from pathlib import Path

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from tests.conftest import REPO_ROOT

DEFINITIONS = sorted((REPO_ROOT / "statemachines").glob("*.asl.json"))


def substituted(definition: str) -> str:
    """DefinitionSubstitutions as the stack makes them: ARNs, and the queue's URL."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("QueueUrl"):
            return f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}"
        if name.endswith("TopicArn"):
            return f"arn:aws:sns:us-east-1:123456789012:{name}"
        return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"

    return re.sub(r"\$\{([A-Za-z]+)\}", value, definition)


def test_there_are_definitions() -> None:
    assert len(DEFINITIONS) >= 3


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_the_definition_parses(path: Path) -> None:
    program = AmazonStateLanguageParser.parse(substituted(path.read_text(encoding="utf-8")))[0]
    assert program is not None


def test_a_broken_definition_is_refused() -> None:
    with pytest.raises(Exception, match=r"(?i)state|parse|token|mismatch|extraneous"):
        AmazonStateLanguageParser.parse('{"StartAt": "A", "States": {"A": {"Type": "Nope"}}}')
