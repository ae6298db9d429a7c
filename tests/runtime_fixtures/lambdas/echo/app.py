"""Behind a Function URL: answers according to the request path."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> Any:
    path = event["rawPath"]
    if path == "/string":
        return "plain text"
    if path == "/object":
        return {"hello": "world"}
    if path == "/error":
        raise RuntimeError("the handler failed")
    if path == "/binary":
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/octet-stream"},
            "body": base64.b64encode(b"\x00\x01\x02").decode(),
            "isBase64Encoded": True,
        }
    if path == "/config":
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["SECRET_ARN"])
        parameter = boto3.client("ssm").get_parameter(Name=os.environ["PARAMETER_NAME"])
        return {"secret": secret["SecretString"], "parameter": parameter["Parameter"]["Value"]}
    return {
        "statusCode": 201,
        "headers": {"X-Echo": "yes", "Content-Type": "application/json"},
        "cookies": ["first=1; Path=/", "second=2"],
        "body": json.dumps({"event": event, "env": dict(os.environ)}),
    }
