"""Read CloudFormation/SAM YAML: the short intrinsic tags (``!Ref``, ``!GetAtt``, ``!Sub``...) become
the long JSON forms (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``), as CloudFormation itself reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_FUNCTION_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
)


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that knows the CloudFormation short tags."""


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node!r}", node.start_mark)


def _construct_ref(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _node_value(loader, node)}


def _construct_condition(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _node_value(loader, node)}


def _construct_getatt(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {"Fn::GetAtt": value}


def _function_constructor(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _node_value(loader, node)}

    return construct


_CfnLoader.add_constructor("!Ref", _construct_ref)
_CfnLoader.add_constructor("!Condition", _construct_condition)
_CfnLoader.add_constructor("!GetAtt", _construct_getatt)
for _tag in _FUNCTION_TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _function_constructor(_tag))


def load_cfn_yaml(text: str) -> dict[str, Any]:
    """Parse a template's text (YAML or JSON) into plain data with long-form intrinsics."""
    data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError("a template must be a mapping at the top level")
    return data


def load_cfn_file(path: Path) -> dict[str, Any]:
    return load_cfn_yaml(path.read_text(encoding="utf-8"))
