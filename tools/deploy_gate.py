"""The deploy gate: what `sam deploy` would do to template.yaml, without an AWS account.

1. translate the template with the real SAM translator for every samconfig profile and for
   parameter sets that turn every Condition on and off, and cfn-lint the result
   (tools/sam_translate.py, run in the SAM CLI's environment .tools/sam);
2. deploy the translated template into moto's CloudFormation (server mode, 127.0.0.1):
   create, update with changed parameters, delete (tests/deploy/).

moto crashes on ``Fn::If`` with ``AWS::NoValue`` inside IAM policies, so conditions are resolved
here first, for the parameters of the deploy (``resolve_conditions``).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAM_PYTHON = ROOT / ".tools" / "sam" / "bin" / "python"
TRANSLATE = ROOT / "tools" / "sam_translate.py"

# Where the packaged template's code and layer live (the tests upload a stub archive there).
ARTIFACT_BUCKET = "opswire-gate-artifacts"
CODE_KEY = "code.zip"
LAYER_KEY = "layer.zip"

# What a person types at the guided deploy (no safe default): test values.
REQUIRED = {"AlertEmail": "ops@example.com", "SenderEmail": "alerts@example.com"}

# Each Condition of the template on in at least one set and off in at least one
# (tests/deploy checks that against the template's Conditions).
CONDITION_SETS: dict[str, dict[str, str]] = {
    # RotatedIamUserPath "/": the write function gets no user outside /opswire/
    "all-off": {"OpsEventKinds": "", "RotatedIamUserPath": "/"},
    "all-on-sigv4": {
        "SubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b",
        "SecurityGroupIds": "sg-0a1b2c3d",
        "CreateExampleSecret": "true",
        "ProvisioningBoundaryArn": "arn:aws:iam::123456789012:policy/org/workload-boundary",
        "SlackAppSecretName": "opswire/slack-app",
        "GitHubTokenSecretName": "opswire/github-token",
        "DeployTaskRoleArns": "arn:aws:iam::123456789012:role/app-task",
        "DeployBeanstalkEnvironments": "shop/shop-prod",
        "OpenSearchEndpoint": "https://search-logs-abc.us-east-1.es.amazonaws.com",
        "OpenSearchResourceArn": "arn:aws:es:us-east-1:123456789012:domain/logs",
        "OpsEventKinds": "guardduty,health,securityhub,ecs-deployments,ecs-tasks,codepipeline,"
        "codebuild,backup,glue,rds,cost-anomaly,console-signin",
        "PublicApiLimits": "20,40,5",
        "AlarmLogGroupArns": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders,"
        "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/shop-api",
    },
    "aoss": {
        "OpenSearchEndpoint": "https://abc123.us-east-1.aoss.amazonaws.com",
        "OpenSearchAuth": "aoss",
        "ProvisioningManagedPolicies": "",
        "OpenSearchResourceArn": "arn:aws:aoss:us-east-1:123456789012:collection/abc123",
    },
    "basic-auth": {
        "OpenSearchEndpoint": "https://logs.example.com",
        "OpenSearchAuth": "basic",
    },
}


def profile_parameters(samconfig: Path = ROOT / "samconfig.toml") -> dict[str, dict[str, str]]:
    """parameter_overrides of every samconfig profile's deploy command."""
    config = tomllib.loads(samconfig.read_text())
    profiles: dict[str, dict[str, str]] = {}
    for name, section in config.items():
        if not isinstance(section, dict) or "deploy" not in section:
            continue
        overrides = section["deploy"].get("parameters", {}).get("parameter_overrides", "")
        if isinstance(overrides, list):
            overrides = " ".join(overrides)
        pairs = (item.split("=", 1) for item in shlex.split(overrides))
        profiles[name] = {key: value for key, value in pairs}
    return profiles


def gate_cases() -> list[dict[str, Any]]:
    """One case per (profile, condition set)."""
    return [
        {
            "name": f"{profile}-{set_name}",
            "parameters": {**REQUIRED, **overrides, **condition_parameters},
        }
        for profile, overrides in profile_parameters().items()
        for set_name, condition_parameters in CONDITION_SETS.items()
    ]


def translate(cases: list[dict[str, Any]], out_dir: Path, template: Path) -> tuple[int, str]:
    """Run tools/sam_translate.py in the SAM CLI environment; (exit status, its output)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cases_file = out_dir / "cases.json"
    cases_file.write_text(json.dumps(cases))
    completed = _in_sam_environment(
        TRANSLATE,
        str(cases_file),
        str(out_dir),
        f"--template={template}",
        f"--code-uri=s3://{ARTIFACT_BUCKET}/{CODE_KEY}",
        f"--layer-uri=s3://{ARTIFACT_BUCKET}/{LAYER_KEY}",
    )
    return completed.returncode, completed.stdout + completed.stderr


# ---- conditions ----------------------------------------------------------------------------------


class _Removed:
    """``Ref: AWS::NoValue`` or the false branch of a removed resource."""


_REMOVED = _Removed()


def evaluate_conditions(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, bool]:
    """Every Condition of ``template`` for these parameters (defaults for the rest), decided by
    the local platform's resolver: the one evaluator of template conditions in the project."""
    from opswire_local.template import Resolver, Template

    defaults = Template(path=Path("template"), document=dict(template)).parameter_defaults()
    conditions = template.get("Conditions") or {}
    resolver = Resolver({**defaults, **given}, stack_name="gate", conditions=conditions)
    return {name: resolver.condition(name) for name in conditions}


def resolve_conditions(template: dict[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    """The translated template with every Condition decided for these parameters."""
    truth = evaluate_conditions(template, given)

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            walked = [walk(item) for item in node]
            return [item for item in walked if item is not _REMOVED]
        if not isinstance(node, dict):
            return node
        if node == {"Ref": "AWS::NoValue"}:
            return _REMOVED
        if len(node) == 1 and "Fn::If" in node:
            name, when_true, when_false = node["Fn::If"]
            return walk(when_true if truth[name] else when_false)
        items = {key: walk(item) for key, item in node.items()}
        return {key: item for key, item in items.items() if item is not _REMOVED}

    resources = {
        name: resource
        for name, resource in template["Resources"].items()
        if truth.get(resource.get("Condition", ""), True)
    }
    outputs = {
        name: output
        for name, output in (template.get("Outputs") or {}).items()
        if truth.get(output.get("Condition", ""), True)
    }
    for section in (resources, outputs):
        for item in section.values():
            item.pop("Condition", None)
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if depends is not None:
            listed = [depends] if isinstance(depends, str) else depends
            kept = [name for name in listed if name in resources]
            if kept:
                resource["DependsOn"] = kept
            else:
                resource.pop("DependsOn")
    resolved = {key: value for key, value in template.items() if key != "Conditions"}
    resolved["Resources"] = walk(resources)
    resolved["Outputs"] = walk(outputs)
    return resolved


def guided_questions(template: Path) -> dict[str, list[str]]:
    """tools/guided_questions.py's report (run in the SAM CLI environment)."""
    completed = _in_sam_environment(ROOT / "tools" / "guided_questions.py", str(template))
    if completed.returncode != 0:
        raise RuntimeError(f"guided_questions.py failed:\n{completed.stderr}")
    report: dict[str, list[str]] = json.loads(completed.stdout.splitlines()[-1])
    return report


def _in_sam_environment(script: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run one of our scripts with the SAM CLI's interpreter (samtranslator, cfn-lint, samcli)."""
    if not SAM_PYTHON.exists():
        raise RuntimeError(f"{SAM_PYTHON} is missing: run `make .tools/sam`")
    return subprocess.run(
        [str(SAM_PYTHON), str(script), *arguments],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
    )
