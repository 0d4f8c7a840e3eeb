"""tools/check_template.py reports each kind of template mistake, and passes the real template."""

import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

# tools/ is a directory of scripts, imported as a namespace package
sys.path.insert(0, str(REPO_ROOT))

from tools import check_template

ASL = '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${FnArn}", "End": true}}}'


def write_project(tmp_path: Path, template: str, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    template_path = tmp_path / "template.yaml"
    template_path.write_text(textwrap.dedent(template), encoding="utf-8")
    return template_path


def failures(template_path: Path) -> list[str]:
    return [r.line() for r in check_template.run_checks(template_path) if not r.ok]


def state_machine_template(substitutions: str) -> str:
    return f"""\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Workflow:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: flow.asl.json
              DefinitionSubstitutions: {substitutions}
        """


def test_short_form_intrinsics_load_as_long_form(tmp_path: Path) -> None:
    template_path = write_project(
        tmp_path,
        """\
        Resources:
          Topic:
            Type: AWS::SNS::Topic
            Properties:
              DisplayName: !Sub "${AWS::StackName}-alarms"
              Endpoint: !Select [0, !Split [",", !Ref Emails]]
              Arn: !GetAtt Queue.Arn
        """,
        {},
    )
    properties = check_template.load_template(template_path)["Resources"]["Topic"]["Properties"]
    assert properties["DisplayName"] == {"Fn::Sub": "${AWS::StackName}-alarms"}
    assert properties["Endpoint"] == {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Emails"}]}]}
    assert properties["Arn"] == {"Fn::GetAtt": ["Queue", "Arn"]}


def test_placeholder_without_substitution_is_reported(tmp_path: Path) -> None:
    template_path = write_project(
        tmp_path, state_machine_template("{Other: x, FnArnTypo: y}"), {"flow.asl.json": ASL}
    )
    (failure,) = [line for line in failures(template_path) if "without a Definition" in line]
    assert "['FnArn']" in failure


def test_unused_substitution_is_reported(tmp_path: Path) -> None:
    template_path = write_project(
        tmp_path, state_machine_template("{FnArn: x, Unused: y}"), {"flow.asl.json": ASL}
    )
    assert failures(template_path) == [
        "FAIL  state machine Workflow: DefinitionSubstitutions keys not used in "
        "flow.asl.json: ['Unused']"
    ]


RETRYING_ASL = """{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn",
  "Retry": [{"ErrorEquals": ["Lambda.ServiceException", "SlackRetryableError"]}],
  "Catch": [{"ErrorEquals": ["States.ALL", "SlackDeliveryEror"], "Next": "B"}], "End": true},
  "B": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "C", "States": {"C": {
    "Type": "Task", "Resource": "arn", "End": true,
    "Retry": [{"ErrorEquals": ["ConfigurationErr"]}]}}}]}}}"""
LAYER_TEMPLATE = """\
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Layer:
        Type: AWS::Serverless::LayerVersion
        Properties:
          ContentUri: layer/
      Workflow:
        Type: AWS::Serverless::StateMachine
        Properties:
          DefinitionUri: flow.asl.json
    """
ERRORS_PY = (
    "class SlackRetryableError(Exception): ...\n"
    "class SlackDeliveryError(Exception): ...\n"
    "class ConfigurationError(Exception): ...\n"
)


def test_error_names_that_no_exception_class_has_are_reported(tmp_path: Path) -> None:
    files = {"flow.asl.json": RETRYING_ASL, "layer/pkg/core/errors.py": ERRORS_PY}
    (failure,) = [line for line in failures(write_project(tmp_path, LAYER_TEMPLATE, files))
                  if "error names" in line]  # fmt: skip
    assert failure == (
        "FAIL  error names of Workflow: not exception classes of the layer: "
        "['ConfigurationErr', 'SlackDeliveryEror']"
    )


def test_error_names_defined_in_the_layer_pass(tmp_path: Path) -> None:
    fixed = RETRYING_ASL.replace("Eror", "Error").replace(
        'ConfigurationErr"', 'ConfigurationError"'
    )
    files = {"flow.asl.json": fixed, "layer/pkg/core/errors.py": ERRORS_PY}
    assert not [line for line in failures(write_project(tmp_path, LAYER_TEMPLATE, files))
                if "error names" in line]  # fmt: skip


def test_missing_or_invalid_definition_is_reported(tmp_path: Path) -> None:
    template_path = write_project(tmp_path, state_machine_template("{FnArn: x}"), {})
    assert "does not exist" in failures(template_path)[0]
    template_path = write_project(
        tmp_path, state_machine_template("{FnArn: x}"), {"flow.asl.json": ASL + ","}
    )
    assert "is not valid JSON" in failures(template_path)[0]


FUNCTION_TEMPLATE = textwrap.dedent("""\
    Transform: AWS::Serverless-2016-10-31
    Globals:
      Function:
        Runtime: python3.13
        Architectures: [arm64]
        Handler: app.handler
        Layers: [!Ref Layer]
    Resources:
      Layer:
        Type: AWS::Serverless::LayerVersion
        Properties:
          ContentUri: layer/
        Metadata:
          BuildMethod: python3.13
          BuildArchitecture: arm64
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: fn/
    """)


def test_handler_that_imports_from_its_layer_passes(tmp_path: Path) -> None:
    files = {
        "fn/app.py": "from shared import greet\n\ndef handler(event, context):\n    return greet\n",
        "layer/shared.py": "greet = 'hi'\n",
    }
    assert failures(write_project(tmp_path, FUNCTION_TEMPLATE, files)) == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import opswire_module_that_does_not_exist\n", "ModuleNotFoundError"),
        ("raise RuntimeError('boom at import')\n", "RuntimeError: boom at import"),
        ("handler = 42\n", "app.handler is missing or not callable"),
        ("def other(event, context):\n    pass\n", "app.handler is missing or not callable"),
    ],
)
def test_handler_that_does_not_import_is_reported(tmp_path: Path, code: str, expected: str) -> None:
    template_path = write_project(tmp_path, FUNCTION_TEMPLATE, {"fn/app.py": code, "layer/x": ""})
    (failure,) = failures(template_path)
    assert failure.startswith("FAIL  function Fn: handler app.handler fails:")
    assert expected in failure


def test_missing_code_uri_is_reported(tmp_path: Path) -> None:
    template_path = write_project(tmp_path, FUNCTION_TEMPLATE, {"layer/x": ""})
    (failure,) = failures(template_path)
    assert "is not a directory" in failure


def test_wrong_runtime_or_architecture_is_reported(tmp_path: Path) -> None:
    template = FUNCTION_TEMPLATE.replace("CodeUri: fn/", "CodeUri: fn/\n      Runtime: python3.12")
    template = template.replace("BuildArchitecture: arm64", "BuildArchitecture: x86_64")
    files = {"fn/app.py": "def handler(event, context):\n    pass\n", "layer/x": ""}
    assert failures(write_project(tmp_path, template, files)) == [
        "FAIL  runtime Fn: python3.12 on ['arm64']",
        "FAIL  layer Layer: BuildMethod python3.13 on x86_64",
    ]


def test_real_template_passes() -> None:
    assert failures(REPO_ROOT / "template.yaml") == []
