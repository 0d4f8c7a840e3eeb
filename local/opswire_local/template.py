"""Read template.yaml the way CloudFormation would, far enough to run the stack locally.

Loads the SAM template (short-form intrinsic tags included), merges ``Globals.Function`` into
every function, and resolves the intrinsic functions a template of ours uses (Ref, GetAtt, Sub,
Join, Select, Split) against the physical ids the local platform assigns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class TemplateError(Exception):
    """The template uses something the local platform cannot resolve."""


class _CfnLoader(yaml.CSafeLoader):
    """libyaml's parser (PyYAML's wheels include it): 10x faster than the pure-Python one on
    template.yaml, which every platform start reads."""


def _intrinsic(loader: _CfnLoader, tag: str, node: yaml.Node) -> dict[str, Any]:
    """``!Tag value`` -> ``{"Fn::Tag": value}`` (``!Ref``/``!Condition`` keep their short key)."""
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag == "GetAtt":  # !GetAtt Resource.Attribute == Fn::GetAtt: [Resource, Attribute]
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {tag if tag in ("Ref", "Condition") else f"Fn::{tag}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return document


@dataclass
class Template:
    """A loaded template with Globals merged in."""

    path: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Template:
        return cls(path=path, document=load_template(path))

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.document["Resources"])

    def parameter_defaults(self) -> dict[str, str]:
        params = self.document.get("Parameters") or {}
        return {name: str(spec["Default"]) for name, spec in params.items() if "Default" in spec}

    def resources_of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == type_name
        }

    def shared_environment(self) -> dict[str, str]:
        """The ``POWERTOOLS_*`` variables of ``Globals.Function`` that are plain strings: what
        every function's process has before its first import."""
        globals_ = (self.document.get("Globals") or {}).get("Function") or {}
        variables = (globals_.get("Environment") or {}).get("Variables") or {}
        return {
            key: value
            for key, value in variables.items()
            if key.startswith("POWERTOOLS_") and isinstance(value, str)
        }

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """The function's properties with ``Globals.Function`` merged in (SAM's rules: maps merge,
        the function's own scalars and lists win)."""
        globals_ = dict((self.document.get("Globals") or {}).get("Function") or {})
        own = dict(self.resources[logical_id].get("Properties") or {})
        merged = _merge_globals(globals_, own)
        return merged


def _merge_globals(globals_: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    merged = dict(globals_)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_globals(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class PhysicalResource:
    """What ``Ref`` and ``GetAtt`` answer for one created resource."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


_NO_VALUE = object()


class Resolver:
    """Resolves intrinsic functions against parameters and created resources."""

    def __init__(
        self,
        parameters: Mapping[str, str],
        stack_name: str,
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self.parameters = dict(parameters)
        self.stack_name = stack_name
        self.conditions = dict(conditions or {})
        self.resources: dict[str, PhysicalResource] = {}
        self.pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::StackName": stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def condition(self, name: str) -> bool:
        """Evaluate the template condition ``name`` (Equals, Not, And, Or, Condition)."""
        if name not in self.conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return self._truth(self.conditions[name])

    def _truth(self, expression: Any) -> bool:
        ((key, argument),) = expression.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return bool(str(left) == str(right))
        if key == "Fn::Not":
            return not self._truth(argument[0])
        if key == "Fn::And":
            return all(self._truth(item) for item in argument)
        if key == "Fn::Or":
            return any(self._truth(item) for item in argument)
        if key == "Condition":
            return self.condition(argument)
        raise TemplateError(f"unsupported condition function {key}")

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name].ref
        raise TemplateError(f"Ref to unknown or not-yet-created {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None or attribute not in resource.attributes:
            raise TemplateError(f"GetAtt {logical_id}.{attribute} cannot be resolved locally")
        return resource.attributes[attribute]

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsics; ``Ref: AWS::NoValue`` removes the list item or key, as in CFN."""
        if isinstance(value, list):
            items = (self.resolve(item) for item in value)
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and argument == "AWS::NoValue":
                return _NO_VALUE
            handler = self._intrinsics().get(key)
            if handler is not None:
                return handler(argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _intrinsics(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": lambda arg: self.ref(arg),
            "Fn::GetAtt": lambda arg: self.get_att(arg[0], arg[1]),
            "Fn::Sub": self._sub,
            "Fn::Join": lambda arg: str(arg[0]).join(str(x) for x in self.resolve(arg[1])),
            "Fn::Select": lambda arg: self.resolve(arg[1])[int(self.resolve(arg[0]))],
            "Fn::Split": lambda arg: str(self.resolve(arg[1])).split(arg[0]),
            "Fn::If": lambda arg: self.resolve(arg[1] if self.condition(arg[0]) else arg[2]),
        }

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] not in self.pseudo:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))


def references(value: Any) -> set[str]:
    """Logical ids (and parameter names) that ``value`` refers to through intrinsics."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt" and isinstance(item, list):
                found.add(str(item[0]))
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                for name in re.findall(r"\$\{([^}!]+)\}", str(text)):
                    found.add(name.split(".", 1)[0])
                if isinstance(item, list):
                    found |= references(item[1])
            else:
                found |= references(item)
    return found


def creation_order(template: Template) -> list[str]:
    """Logical ids in an order where every resource comes after the resources it references.

    A log group that names its function (``!Sub /aws/lambda/${Fn}``) is created after the function;
    a reference cycle is a template error, as in CloudFormation.
    """
    resources = template.resources
    dependencies = {
        logical_id: {
            ref
            for ref in references(resource.get("Properties") or {}) | set(_depends_on(resource))
            if ref in resources and ref != logical_id
        }
        for logical_id, resource in resources.items()
    }
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in ordered:
            return
        if logical_id in visiting:
            raise TemplateError(f"circular reference through {logical_id}")
        visiting.add(logical_id)
        for dependency in sorted(dependencies[logical_id]):
            visit(dependency)
        visiting.discard(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn") or []
    return [depends] if isinstance(depends, str) else list(depends)
