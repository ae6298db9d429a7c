"""The IAM check in front of moto (a WSGI middleware in the moto server's process).

A request signed with the temporary credentials of a role session (what STS ``AssumeRole`` handed a
function's worker) is authorized against that role's policies as moto's IAM model holds them now
(inline policies and attached managed policies): every action and resource the call needs
(``infra.runtime.iam.calls``) must be allowed (``infra.runtime.iam.policy``). A denied call gets the
answer AWS gives, in the service's protocol: ``AccessDenied`` (SQS) or ``AccessDeniedException``, with
the principal, the action and the resource in the message. A request signed with any other key (the
runtime's own ``testing`` key, an operator's, a test's) is the account's administrator and passes.

``GET /_hssync/iam`` answers ``{"enforcing": true}``, so the runtime can tell this moto enforces IAM.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

from infra.runtime.iam.calls import Call, needs
from infra.runtime.iam.policy import Decision, denial_message, evaluate

__all__ = ["STATUS_PATH", "Directory", "IamEnforcer", "MotoDirectory", "Principal"]

STATUS_PATH = "/_hssync/iam"
_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# services whose JSON protocol still reports the error code of their former query protocol
_QUERY_COMPATIBLE = frozenset({"sqs"})

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Principal:
    """A role session: ``arn:aws:sts::<account>:assumed-role/<role>/<session>`` and its policies."""

    arn: str
    account: str
    documents: tuple[Mapping[str, Any], ...]


class Directory(Protocol):
    def principal(self, access_key_id: str) -> Principal | None:
        """The role session these credentials belong to; None for any other key."""
        ...

    def secret_arn(self, secret_id: str, region: str, account: str) -> str | None: ...


@functools.lru_cache(maxsize=1024)
def _document(text: str) -> Mapping[str, Any]:
    document: Mapping[str, Any] = json.loads(text)
    return document


def _policy_text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


class MotoDirectory:
    """Role sessions, role policies and secrets as moto (in this process) holds them."""

    def __init__(self) -> None:
        self._sessions: dict[str, tuple[str, str, str]] = {}  # key id -> (account, role arn, session)

    def _session(self, access_key_id: str) -> tuple[str, str, str] | None:
        if access_key_id in self._sessions:
            return self._sessions[access_key_id]
        from moto.sts.models import sts_backends

        for account in list(sts_backends.keys()):
            assumed = sts_backends[account]["aws"].get_assumed_role_from_access_key(access_key_id)
            if assumed is not None:
                session = (str(account), str(assumed.role_arn), str(assumed.session_name))
                self._sessions[access_key_id] = session
                return session
        return None

    def principal(self, access_key_id: str) -> Principal | None:
        if not access_key_id.startswith("ASIA"):  # only STS hands out temporary keys
            return None
        session = self._session(access_key_id)
        if session is None:
            return None
        account, role_arn, session_name = session
        role_name = role_arn.rsplit("/", 1)[-1]
        arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
        return Principal(arn, account, tuple(self._role_documents(account, role_name)))

    @staticmethod
    def _role_documents(account: str, role_name: str) -> list[Mapping[str, Any]]:
        from moto.iam.models import iam_backends

        try:
            role = iam_backends[account]["aws"].get_role(role_name)
        except Exception:  # a deleted role: its sessions are allowed nothing
            return []
        documents = [_document(_policy_text(text)) for text in role.policies.values()]
        for policy in role.managed_policies.values():
            default = next((v for v in policy.versions if v.is_default), None)
            if default is not None:
                documents.append(_document(_policy_text(default.document)))
        return documents

    def secret_arn(self, secret_id: str, region: str, account: str) -> str | None:
        from moto.secretsmanager.models import secretsmanager_backends

        try:
            return str(secretsmanager_backends[account][region].secrets[secret_id].arn)
        except (KeyError, AttributeError):
            return None


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back for the application."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
    body: bytes = stream.read(length) if length else stream.read() if chunked else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


def operation_and_params(environ: dict[str, Any], body: bytes) -> tuple[str | None, dict[str, Any]]:
    """The operation and the parameters of a JSON, query or RPC v2 request."""
    if environ.get("HTTP_CONTENT_ENCODING") == "gzip" and body:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            body = b""
    content_type = str(environ.get("CONTENT_TYPE") or "")
    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    if "json" in content_type:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return (target.rsplit(".", 1)[-1] or None), params if isinstance(params, dict) else {}
    form = parse_qs(str(environ.get("QUERY_STRING") or ""))
    if "x-www-form-urlencoded" in content_type:
        form.update(parse_qs(body.decode("utf-8", "replace")))
    flat = {key: values[0] for key, values in form.items()}
    if "Action" in flat:
        return str(flat["Action"]), flat
    path = str(environ.get("PATH_INFO") or "")
    if "/operation/" in path:  # Smithy RPC v2: /service/<Service>/operation/<Operation>
        return path.rsplit("/", 1)[-1], {}
    return (target.rsplit(".", 1)[-1] or None), flat


class IamEnforcer:
    """See the module docstring. ``directory`` defaults to moto's models in this process."""

    def __init__(self, app: WsgiApp, directory: Directory | None = None) -> None:
        self.app = app
        self.directory: Directory = directory or MotoDirectory()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATUS_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"enforcing": true}']
        credential = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION") or ""))
        if credential is None:
            return self.app(environ, start_response)
        access_key_id, region, service = credential.groups()
        principal = self.directory.principal(access_key_id)
        if principal is None:
            return self.app(environ, start_response)
        operation, params = operation_and_params(environ, read_body(environ))
        json_protocol = "json" in str(environ.get("CONTENT_TYPE") or "")
        if operation is None:
            message = f"User: {principal.arn} made a {service} call the local IAM check cannot identify"
            return _denied(start_response, service, message, json_protocol)
        call = Call(service, operation, region, principal.account, params)
        for need in needs(call, self.directory.secret_arn):
            decision = evaluate(principal.documents, need.action, need.resource)
            if decision is not Decision.ALLOW:
                message = denial_message(principal.arn, need.action, need.resource, decision)
                return _denied(start_response, service, message, json_protocol)
        return self.app(environ, start_response)


def _denied(start_response: StartResponse, service: str, message: str, json_protocol: bool) -> list[bytes]:
    """AWS's answer to a denied call, in the protocol the client speaks."""
    request_id = str(uuid.uuid4())
    if json_protocol:
        body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException", "message": message})
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)]
        status = "400 Bad Request"
        if service in _QUERY_COMPATIBLE:
            headers.append(("x-amzn-query-error", "AccessDenied;Sender"))
            status = "403 Forbidden"
    else:
        escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{escaped}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        status = "403 Forbidden"
    data = body.encode()
    start_response(status, [*headers, ("Content-Length", str(len(data)))])
    return [data]
