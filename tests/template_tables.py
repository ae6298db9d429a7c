"""Tables built from template.yaml for the tests, so they cannot drift from what deploys.

``create_table_from_template`` reads one ``AWS::DynamoDB::Table`` resource and creates the table
with the same key schema, attribute definitions, billing mode, indexes, stream and TTL setting.
CloudFormation short tags (``!Ref``, ``!Sub``, ``!GetAtt`` ...) are tolerated while loading; a
property that is still an unresolved intrinsic where a literal is needed is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shared.state.dynamo import DynamoDBClient

_USED_PROPERTIES = (
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "SSESpecification",
    "StreamSpecification",
    "TimeToLiveSpecification",
)


class Intrinsic:
    """A CloudFormation intrinsic function left unresolved, e.g. ``!Ref StateTable``."""

    def __init__(self, tag: str, value: Any) -> None:
        self.tag = tag
        self.value = value

    def __repr__(self) -> str:
        return f"{self.tag} {self.value!r}"


class _TemplateLoader(yaml.SafeLoader):
    pass


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Intrinsic:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return Intrinsic("!" + tag_suffix, value)


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        template = yaml.load(handle, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(template, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return template


def table_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource = template.get("Resources", {}).get(logical_id)
    if not isinstance(resource, dict) or resource.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(f"{logical_id} is not an AWS::DynamoDB::Table resource of the template")
    properties = resource.get("Properties", {})
    _reject_intrinsics(properties, _USED_PROPERTIES)
    return dict(properties)


def create_table_request(properties: dict[str, Any], table_name: str) -> dict[str, Any]:
    """The CreateTable request equivalent to the resource's properties."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    for name in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(name):
            request[name] = properties[name]
    sse = properties.get("SSESpecification")
    if sse:
        request["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled"))}
        if sse.get("SSEType"):
            request["SSESpecification"]["SSEType"] = sse["SSEType"]
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    return request


def create_table_from_template(
    dynamodb_client: DynamoDBClient,
    template_path: str | Path,
    logical_id: str,
    table_name: str | None = None,
) -> str:
    """Create the table the template's ``logical_id`` resource describes; returns its name.

    The name is ``table_name`` if given, else the resource's literal ``TableName``, else the logical
    id. Waits until the table is active, then applies the template's TTL specification.
    """
    properties = table_properties(load_template(template_path), logical_id)
    declared = properties.get("TableName")
    name = table_name or (declared if isinstance(declared, str) else logical_id)
    dynamodb_client.create_table(**create_table_request(properties, name))
    dynamodb_client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb_client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    return name


def _reject_intrinsics(properties: dict[str, Any], names: tuple[str, ...]) -> None:
    def walk(value: Any, path: str) -> None:
        if isinstance(value, Intrinsic):
            raise ValueError(f"{path} uses {value!r}, which cannot be resolved outside CloudFormation")
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}")
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{path}[{index}]")

    for name in names:
        if name in properties:
            walk(properties[name], name)
