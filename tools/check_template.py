"""Static checks of template.yaml that neither `sam validate --lint` nor cfn-lint make.

(a) every AWS::Serverless::StateMachine has its DefinitionUri file, the file is JSON, every
    ${Placeholder} in it has a DefinitionSubstitutions key and every key is used;
(b) every AWS::Serverless::Function has its CodeUri directory, and its Handler imports in a fresh
    interpreter with sys.path = [CodeUri, <layer ContentUri>..., ...] and names a callable;
(c) every function runs python3.13 on arm64, and every layer is built for python3.13 on arm64;
(d) every error name a state machine's Retry/Catch `ErrorEquals` lists is States.* / Lambda.* or
    an exception class defined in an ``errors.py`` of the template's layers (a misspelt name
    would never match, and the retry or catch would silently never happen).

Usage: python tools/check_template.py [template.yaml]. Prints one line per check; exits 1 on any
failure. bench/cold_start.py reuses function_specs and import_env.
"""

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opswire_local.template import load_template

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = "python3.13"
ARCHITECTURES = ["arm64"]

# Step Functions replaces ${Name} with the DefinitionSubstitutions value for Name.
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


# ---- loading: the local platform's loader (short-form intrinsics, Globals) ------------------


def resources_of_type(template: dict[str, Any], type_: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, resource)
        for name, resource in template["Resources"].items()
        if isinstance(resource, dict) and resource.get("Type") == type_
    ]


def function_property(template: dict[str, Any], properties: dict[str, Any], key: str) -> Any:
    """A function property, falling back to Globals.Function like SAM does."""
    if key in properties:
        return properties[key]
    return (template.get("Globals") or {}).get("Function", {}).get(key)


@dataclass(frozen=True)
class FunctionSpec:
    """What it takes to import one function's handler locally."""

    name: str
    code_uri: Path | None
    layer_dirs: tuple[Path, ...]
    handler: str | None

    @property
    def module(self) -> str:
        return (self.handler or "").rpartition(".")[0]

    @property
    def attribute(self) -> str:
        return (self.handler or "").rpartition(".")[2]

    @property
    def sys_path(self) -> list[str]:
        return [str(self.code_uri), *map(str, self.layer_dirs)]


def _layer_dirs(template: dict[str, Any], layers: Any, base_dir: Path) -> tuple[Path, ...]:
    """ContentUri of each layer given as !Ref to an AWS::Serverless::LayerVersion of the
    template (BuildMethod python3.x puts that directory on sys.path in Lambda, /opt/python)."""
    dirs = []
    for layer in layers or []:
        ref = layer.get("Ref") if isinstance(layer, dict) else None
        resource = template["Resources"].get(ref) if isinstance(ref, str) else None
        if resource and resource.get("Type") == "AWS::Serverless::LayerVersion":
            content_uri = resource.get("Properties", {}).get("ContentUri")
            if isinstance(content_uri, str):
                dirs.append(base_dir / content_uri)
    return tuple(dirs)


def function_specs(template: dict[str, Any], base_dir: Path) -> list[FunctionSpec]:
    specs = []
    for name, resource in resources_of_type(template, "AWS::Serverless::Function"):
        properties = resource.get("Properties") or {}
        code_uri = function_property(template, properties, "CodeUri")
        handler = function_property(template, properties, "Handler")
        layers = function_property(template, properties, "Layers")
        specs.append(
            FunctionSpec(
                name=name,
                code_uri=base_dir / code_uri if isinstance(code_uri, str) else None,
                layer_dirs=_layer_dirs(template, layers, base_dir),
                handler=handler if isinstance(handler, str) else None,
            )
        )
    return specs


def import_env() -> dict[str, str]:
    """Environment of the child interpreters: enough for import-time Powertools code, no AWS."""
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # never wait on an instance-metadata lookup
    env["POWERTOOLS_TRACE_DISABLED"] = "true"
    env["POWERTOOLS_METRICS_NAMESPACE"] = "opswire"
    env.setdefault("POWERTOOLS_SERVICE_NAME", "opswire")
    return env


# ---- checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    ok: bool
    subject: str
    message: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.subject}: {self.message}"


def check_state_machines(template: dict[str, Any], base_dir: Path) -> list[Result]:
    results = []
    for name, resource in resources_of_type(template, "AWS::Serverless::StateMachine"):
        subject = f"state machine {name}"
        properties = resource.get("Properties") or {}
        uri = properties.get("DefinitionUri")
        if not isinstance(uri, str):
            results.append(Result(False, subject, "DefinitionUri must name a local .asl.json"))
            continue
        path = base_dir / uri
        if not path.is_file():
            results.append(Result(False, subject, f"DefinitionUri {uri} does not exist"))
            continue
        text = path.read_text(encoding="utf-8")
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            results.append(Result(False, subject, f"{uri} is not valid JSON: {exc}"))
            continue
        # ${!Name} is an escaped literal in CloudFormation substitution, not a placeholder.
        used = {m for m in _PLACEHOLDER.findall(text) if not m.startswith("!")}
        given = set(properties.get("DefinitionSubstitutions") or {})
        missing, unused = sorted(used - given), sorted(given - used)
        problems = []
        if missing:
            problems.append(f"placeholders without a DefinitionSubstitutions key: {missing}")
        if unused:
            problems.append(f"DefinitionSubstitutions keys not used in {uri}: {unused}")
        if problems:
            results.append(Result(False, subject, "; ".join(problems)))
        else:
            results.append(Result(True, subject, f"{uri}, {len(used)} placeholders substituted"))
    return results


# Runs in a fresh interpreter: argv = [module, attribute, sys.path entries...].
_IMPORT_CHILD = """\
import importlib, sys
module, attribute, *paths = sys.argv[1:]
sys.path[:0] = paths
handler = getattr(importlib.import_module(module), attribute, None)
if not callable(handler):
    sys.exit(f"{module}.{attribute} is missing or not callable")
"""


def import_handler(spec: FunctionSpec) -> str | None:
    """Import the handler in a fresh interpreter; return None, or why it failed."""
    # -I: isolated mode, so neither the working directory nor PYTHONPATH can hide a missing file.
    command = [sys.executable, "-I", "-c", _IMPORT_CHILD, spec.module, spec.attribute]
    completed = subprocess.run(
        [*command, *spec.sys_path],
        env=import_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode == 0:
        return None
    lines = completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"]
    return lines[-1]  # the exception line of the traceback


def check_functions(template: dict[str, Any], base_dir: Path) -> list[Result]:
    results = []
    for spec in function_specs(template, base_dir):
        subject = f"function {spec.name}"
        if spec.code_uri is None or not spec.code_uri.is_dir():
            results.append(Result(False, subject, f"CodeUri {spec.code_uri} is not a directory"))
            continue
        if not spec.module or not spec.attribute:
            results.append(Result(False, subject, f"Handler {spec.handler!r} is not module.func"))
            continue
        error = import_handler(spec)
        if error:
            results.append(Result(False, subject, f"handler {spec.handler} fails: {error}"))
        else:
            results.append(Result(True, subject, f"handler {spec.handler} imports, callable"))
    return results


def check_runtimes(template: dict[str, Any]) -> list[Result]:
    results = []
    for name, resource in resources_of_type(template, "AWS::Serverless::Function"):
        properties = resource.get("Properties") or {}
        runtime = function_property(template, properties, "Runtime")
        architectures = function_property(template, properties, "Architectures")
        ok = runtime == RUNTIME and architectures == ARCHITECTURES
        results.append(Result(ok, f"runtime {name}", f"{runtime} on {architectures}"))
    for name, resource in resources_of_type(template, "AWS::Serverless::LayerVersion"):
        metadata = resource.get("Metadata") or {}
        method, arch = metadata.get("BuildMethod"), metadata.get("BuildArchitecture")
        ok = method == RUNTIME and arch == ARCHITECTURES[0]
        results.append(Result(ok, f"layer {name}", f"BuildMethod {method} on {arch}"))
    return results


def layer_error_names(template: dict[str, Any], base_dir: Path) -> set[str]:
    """The class names defined in any ``errors.py`` under the template's layers' ContentUri."""
    names: set[str] = set()
    for _, resource in resources_of_type(template, "AWS::Serverless::LayerVersion"):
        content_uri = (resource.get("Properties") or {}).get("ContentUri")
        if not isinstance(content_uri, str):
            continue
        for path in sorted((base_dir / content_uri).rglob("errors.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names |= {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    return names


def _error_equals(node: Any) -> list[str]:
    """Every name in every ErrorEquals list of an ASL document (nested states included)."""
    if isinstance(node, list):
        return [name for item in node for name in _error_equals(item)]
    if not isinstance(node, dict):
        return []
    found = [str(name) for name in node.get("ErrorEquals") or []]
    return found + [name for value in node.values() for name in _error_equals(value)]


def check_error_names(template: dict[str, Any], base_dir: Path) -> list[Result]:
    known = layer_error_names(template, base_dir)
    results = []
    for name, resource in resources_of_type(template, "AWS::Serverless::StateMachine"):
        uri = (resource.get("Properties") or {}).get("DefinitionUri")
        path = base_dir / uri if isinstance(uri, str) else None
        if path is None or not path.is_file():
            continue  # check_state_machines reports it
        try:
            used = _error_equals(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError:
            continue
        ours = {e for e in used if not e.startswith(("States.", "Lambda."))}
        unknown = sorted(ours - known)
        subject = f"error names of {name}"
        if unknown:
            results.append(Result(False, subject, f"not exception classes of the layer: {unknown}"))
        else:
            results.append(Result(True, subject, f"{len(ours)} names, each a class in errors.py"))
    return results


def run_checks(template_path: Path) -> list[Result]:
    template = load_template(template_path)
    base_dir = template_path.parent
    return [
        *check_state_machines(template, base_dir),
        *check_error_names(template, base_dir),
        *check_functions(template, base_dir),
        *check_runtimes(template),
    ]


def main(argv: list[str]) -> int:
    template_path = Path(argv[0]) if argv else ROOT / "template.yaml"
    results = run_checks(template_path.resolve())
    for result in results:
        print(result.line())
    failures = [r for r in results if not r.ok]
    if failures:
        print(f"check_template: {len(failures)} of {len(results)} checks failed in {template_path}")
        return 1
    print(f"check_template: all {len(results)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
