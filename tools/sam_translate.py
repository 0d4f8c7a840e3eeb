"""Translate template.yaml with the real SAM translator and cfn-lint the result.

This is what CloudFormation does on `sam deploy` (the AWS::Serverless transform), which
`sam validate --lint` does not do. It runs in the SAM CLI's own environment (.tools/sam, which
ships samtranslator and cfn-lint) and has no opswire imports.

    .tools/sam/bin/python tools/sam_translate.py CASES.json OUT_DIR --code-uri S3URI \
        --layer-uri S3URI [--template template.yaml]

CASES.json is a list of {"name": str, "parameters": {str: str}}. For every case it writes
OUT_DIR/<name>.json: {"name", "parameters", "transform_errors", "template", "lint": [...]}.
`template` is the translated CloudFormation of the *packaged* form (code and layer as S3 URIs,
as `sam package` leaves them) except that state machine definitions are inlined (moto ignores
definitions in S3; the translator emits DefinitionString instead of DefinitionS3Location, which
is the only difference). cfn-lint runs once per distinct translated template. Exit status 1 when
any case has a transform error or a cfn-lint error (warnings are reported, not fatal).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

# The translator resolves AWS::Region; no credentials are needed.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from cfnlint.api import ManualArgs, lint
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class _NoManagedPolicies:
    """Managed policy names would need IAM (ListPolicies); the template names none by name."""

    def load(self) -> dict[str, str]:
        return {}


def packaged(template: dict[str, Any], root: Path, code_uri: str, layer_uri: str) -> dict[str, Any]:
    """The template as `sam package` leaves it, with state machine definitions inlined."""
    result = copy.deepcopy(template)
    for resource in result["Resources"].values():
        properties = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function":
            properties["CodeUri"] = code_uri
        elif kind == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = layer_uri
        elif kind == "AWS::Serverless::StateMachine" and "DefinitionUri" in properties:
            definition = json.loads((root / properties.pop("DefinitionUri")).read_text())
            properties["Definition"] = definition
    return result


def translate(
    template: dict[str, Any], parameters: dict[str, str]
) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        return transform(copy.deepcopy(template), dict(parameters), _NoManagedPolicies()), []
    except InvalidDocumentException as exc:
        return None, [str(cause) for cause in exc.causes]


def lint_findings(translated: dict[str, Any]) -> list[dict[str, str]]:
    matches = lint(json.dumps(translated), config=ManualArgs(regions=["us-east-1"]))
    return [
        {
            "rule": match.rule.id,
            "level": "error" if match.rule.id.startswith("E") else "warning",
            "message": match.message,
            "path": "/".join(str(part) for part in (match.path or [])),
        }
        for match in matches
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--code-uri", required=True, help="s3:// URI of every function's code")
    parser.add_argument("--layer-uri", required=True, help="s3:// URI of every layer's content")
    args = parser.parse_args(argv)

    template = yaml_parse(args.template.read_text())
    root = args.template.resolve().parent
    source = packaged(template, root, args.code_uri, args.layer_uri)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    lint_cache: dict[str, list[dict[str, str]]] = {}
    failed = False
    for case in json.loads(args.cases.read_text()):
        translated, errors = translate(source, case["parameters"])
        findings: list[dict[str, str]] = []
        if translated is not None:
            digest = hashlib.sha256(json.dumps(translated, sort_keys=True).encode()).hexdigest()
            if digest not in lint_cache:
                lint_cache[digest] = lint_findings(translated)
            findings = lint_cache[digest]
        result = {**case, "transform_errors": errors, "template": translated, "lint": findings}
        (args.out_dir / f"{case['name']}.json").write_text(json.dumps(result, indent=1))
        lint_errors = [f for f in findings if f["level"] == "error"]
        failed = failed or bool(errors) or bool(lint_errors)
        status = "FAILED" if errors or lint_errors else "ok"
        print(
            f"{case['name']}: transform {'error' if errors else 'ok'}, "
            f"cfn-lint {len(lint_errors)} errors {len(findings) - len(lint_errors)} warnings"
            f" - {status}"
        )
        for line in errors + [f"{f['rule']} {f['message']}" for f in lint_errors]:
            print(f"  {line}")
    print(f"{len(lint_cache)} distinct translated templates linted")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
