"""IAM in the local runtime, its pure parts: policy evaluation, what a call is authorized against, and
each function's execution role as SAM makes it from ``template.yaml`` (no moto, no processes)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from infra.runtime.cfn_yaml import load_cfn_file
from infra.runtime.iam.calls import Call, Need, needs
from infra.runtime.iam.enforcer import IamEnforcer, Principal
from infra.runtime.iam.policy import Decision, denial_message, evaluate, matches_resource
from infra.runtime.iam.roles import ExecutionRole, execution_roles
from infra.runtime.template import Template

ROOT = Path(__file__).resolve().parents[2]
PARAMETERS = {"HubSpotPortalId": "62515", "SalesforceOrgId": "00D000000000001AAA"}
ACCOUNT = "123456789012"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:hssync-ChangesQueue"
FORM = "application/x-www-form-urlencoded"


def _allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]}


def _deny(action: Any, resource: Any) -> dict[str, Any]:
    return {"Statement": {"Effect": "Deny", "Action": action, "Resource": resource}}


# -- evaluation ------------------------------------------------------------------------------------
def test_an_allow_allows_and_nothing_else_does():
    documents = [_allow("sqs:SendMessage*", QUEUE)]
    assert evaluate(documents, "sqs:SendMessage", QUEUE) is Decision.ALLOW
    assert evaluate(documents, "sqs:sendmessagebatch", QUEUE) is Decision.ALLOW  # actions ignore case
    assert evaluate(documents, "sqs:ReceiveMessage", QUEUE) is Decision.IMPLICIT_DENY
    assert evaluate(documents, "sqs:SendMessage", QUEUE + "-dlq") is Decision.IMPLICIT_DENY
    assert evaluate(documents, "sqs:SendMessage", QUEUE.upper()) is Decision.IMPLICIT_DENY  # ARNs do not
    assert evaluate([], "sqs:SendMessage", QUEUE) is Decision.IMPLICIT_DENY


def test_an_explicit_deny_wins_over_any_allow():
    documents = [_allow("*", "*"), _deny(["dynamodb:DeleteItem", "dynamodb:Scan"], "*")]
    assert (
        evaluate(documents, "dynamodb:Scan", "arn:aws:dynamodb:us-east-1:1:table/t") is Decision.EXPLICIT_DENY
    )
    assert evaluate(documents, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t") is Decision.ALLOW


def test_not_action_and_not_resource():
    documents = [
        {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Deny", "Action": "sqs:*", "NotResource": QUEUE}]},
    ]
    assert evaluate(documents, "sqs:SendMessage", QUEUE) is Decision.ALLOW
    assert evaluate(documents, "sqs:SendMessage", QUEUE + "2") is Decision.EXPLICIT_DENY
    assert evaluate(documents, "iam:CreateRole", "*") is Decision.IMPLICIT_DENY


def test_wildcards_match_within_an_arn_part_and_across_the_resource():
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:hssync/hubspot-AbCdEf"
    assert matches_resource(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:hssync/hubspot-*", secret)
    assert not matches_resource(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:hssync/sales*", secret)
    assert matches_resource(
        "arn:aws:dynamodb:*:*:table/t/index/*", "arn:aws:dynamodb:eu-west-1:1:table/t/index/i"
    )
    assert matches_resource("arn:aws:sqs:us-east-1:?23456789012:q", f"arn:aws:sqs:us-east-1:{ACCOUNT}:q")
    # a wildcard in the region or the account does not reach into the resource
    assert matches_resource("arn:aws:sqs:*:*:q", f"arn:aws:sqs:us-east-1:{ACCOUNT}:q")
    assert not matches_resource("arn:aws:sqs:*:*:q", f"arn:aws:sqs:us-east-1:{ACCOUNT}:other:q")
    assert matches_resource("*", "*")
    assert not matches_resource(QUEUE, "*")
    assert not matches_resource(
        "arn:aws:sqs:us-east-1:1:q.x", "arn:aws:sqs:us-east-1:1:qyx"
    )  # "." is literal


def test_a_condition_never_allows_and_always_denies():
    conditional = {"Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}
    assert evaluate([_allow("sqs:*", "*", **conditional)], "sqs:SendMessage", QUEUE) is Decision.IMPLICIT_DENY
    deny = {"Statement": [{"Effect": "Deny", "Action": "sqs:*", "Resource": "*", **conditional}]}
    assert evaluate([_allow("*", "*"), deny], "sqs:SendMessage", QUEUE) is Decision.EXPLICIT_DENY


def test_the_denial_message_is_the_one_aws_gives():
    principal = f"arn:aws:sts::{ACCOUNT}:assumed-role/r/f"
    assert denial_message(principal, "sqs:SendMessage", QUEUE, Decision.IMPLICIT_DENY) == (
        f"User: {principal} is not authorized to perform: sqs:SendMessage on resource: {QUEUE} "
        "because no identity-based policy allows the sqs:SendMessage action"
    )
    assert denial_message(principal, "sqs:SendMessage", QUEUE, Decision.EXPLICIT_DENY).endswith(
        "with an explicit deny in an identity-based policy"
    )


# -- what a call is authorized against -------------------------------------------------------------
def _needs(service: str, operation: str, **params: Any) -> list[tuple[str, str]]:
    def secret_arn(secret_id: str, region: str, account: str) -> str | None:
        known = f"arn:aws:secretsmanager:{region}:{account}:secret:hssync/hubspot-AbCdEf"
        return known if secret_id in ("hssync/hubspot", known) else None

    call = Call(service, operation, "us-east-1", ACCOUNT, params)
    return [(n.action, n.resource) for n in needs(call, secret_arn)]


def test_sqs_calls_name_the_queue_and_batches_need_the_single_action():
    url = f"http://127.0.0.1:5005/{ACCOUNT}/hssync-ChangesQueue"
    assert _needs("sqs", "SendMessageBatch", QueueUrl=url) == [("sqs:SendMessage", QUEUE)]
    assert _needs("sqs", "DeleteMessageBatch", QueueUrl=url) == [("sqs:DeleteMessage", QUEUE)]
    assert _needs("sqs", "ReceiveMessage", QueueUrl=url) == [("sqs:ReceiveMessage", QUEUE)]
    assert _needs("sqs", "GetQueueUrl", QueueName="hssync-ChangesQueue") == [("sqs:GetQueueUrl", QUEUE)]
    assert _needs("sqs", "ListQueues") == [("sqs:ListQueues", "*")]


def test_dynamodb_calls_name_every_table_they_touch():
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table"
    assert _needs("dynamodb", "Query", TableName="t", IndexName="i") == [
        ("dynamodb:Query", f"{table}/t/index/i")
    ]
    assert _needs("dynamodb", "BatchWriteItem", RequestItems={"a": [], "b": []}) == [
        ("dynamodb:BatchWriteItem", f"{table}/a"),
        ("dynamodb:BatchWriteItem", f"{table}/b"),
    ]
    items = [{"Put": {"TableName": "a"}}, {"ConditionCheck": {"TableName": "b"}}]
    assert _needs("dynamodb", "TransactWriteItems", TransactItems=items) == [
        ("dynamodb:PutItem", f"{table}/a"),
        ("dynamodb:ConditionCheckItem", f"{table}/b"),
    ]


def test_parameters_and_secrets_are_named_by_their_arns():
    parameter = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter"
    assert _needs("ssm", "GetParameter", Name="/hssync/config") == [
        ("ssm:GetParameter", f"{parameter}/hssync/config")
    ]
    assert _needs("ssm", "GetParameters", Names=["a", "/b"]) == [
        ("ssm:GetParameters", f"{parameter}/a"),
        ("ssm:GetParameters", f"{parameter}/b"),
    ]
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret"
    assert _needs("secretsmanager", "GetSecretValue", SecretId="hssync/hubspot") == [
        ("secretsmanager:GetSecretValue", f"{secret}:hssync/hubspot-AbCdEf")  # the full ARN, with its suffix
    ]
    assert _needs("secretsmanager", "GetSecretValue", SecretId="missing") == [
        ("secretsmanager:GetSecretValue", f"{secret}:missing")
    ]


def test_other_services_are_checked_against_any_resource():
    assert _needs("monitoring", "PutMetricData") == [("cloudwatch:PutMetricData", "*")]
    assert _needs("sts", "GetCallerIdentity") == []  # needs no permission at all
    assert needs(Call("logs", "PutLogEvents", "us-east-1", ACCOUNT), lambda *_: None) == [
        Need("logs:PutLogEvents", "*")
    ]


# -- the template's execution roles ----------------------------------------------------------------
@pytest.fixture(scope="module")
def roles() -> dict[str, ExecutionRole]:
    template = Template.load(ROOT / "template.yaml", parameters=PARAMETERS)
    found = execution_roles(template)
    assert all(role is not None for role in found.values())
    return {function: role for function, role in found.items() if role is not None}


def _arn(kind: str, name: str) -> str:
    return {
        "queue": f"arn:aws:sqs:us-east-1:{ACCOUNT}:hssync-{name}",
        "table": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/hssync-{name}",
        "parameter": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter{name}",
        "secret": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-AbCdEf",
    }[kind]


def _may(role: ExecutionRole, action: str, kind: str, name: str) -> bool:
    return evaluate(role.documents(), action, _arn(kind, name)) is Decision.ALLOW


def test_the_roles_are_what_sam_makes_of_the_template(roles):
    dedupe = roles["DedupeFunction"]
    assert dedupe.name == "hssync-DedupeFunctionRole"
    assert dedupe.trust_policy["Statement"][0]["Principal"] == {"Service": ["lambda.amazonaws.com"]}
    assert set(dedupe.managed_policy_arns) == {
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",  # every function
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",  # Tracing: Active
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",  # its SQS event source
    }
    # SQSSendMessagePolicy, expanded from SAM's own definition
    (statement,) = dict(dedupe.policies)["DedupeFunctionRolePolicy0"]["Statement"]
    assert statement == {
        "Action": ["sqs:SendMessage*"],
        "Effect": "Allow",
        "Resource": _arn("queue", "OwnersQueue"),
    }
    assert "AWSLambdaSQSQueueExecutionRole" not in " ".join(
        roles["InboundWebhookFunction"].managed_policy_arns
    )


def test_the_gaps_issue_11_found_are_closed(roles):
    assert _may(roles["ApplyFunction"], "ssm:GetParameter", "parameter", "/hssync/config")
    assert _may(roles["DedupeFunction"], "sqs:SendMessage", "queue", "ChangesQueue")  # held, deferred
    assert _may(roles["InboundWebhookFunction"], "sqs:SendMessage", "queue", "ChangesDeadLetterQueue")


def test_a_function_may_send_to_every_queue_it_is_given(roles):
    template = Template.load(ROOT / "template.yaml", parameters=PARAMETERS)
    for function, role in roles.items():
        raw = template.properties(function)["Environment"]["Variables"]
        queues = [v["Ref"] for k, v in raw.items() if k.endswith("_QUEUE_URL")]
        # a function that hands nothing on sends its failed runs to its own dead-letter queue
        dead_letter = template.properties(function).get("DeadLetterQueue")
        if dead_letter:
            queues.append(dead_letter["TargetArn"]["Fn::GetAtt"][0])
        assert queues, function
        for queue in queues:
            assert _may(role, "sqs:SendMessage", "queue", queue), (function, queue)


@pytest.mark.parametrize(
    ("function", "action", "kind", "name"),
    [
        ("InboundWebhookFunction", "dynamodb:GetItem", "table", "StateTable"),
        ("InboundWebhookFunction", "secretsmanager:GetSecretValue", "secret", "hssync/salesforce"),
        ("DedupeFunction", "sqs:SendMessage", "queue", "WritesQueue"),
        ("DedupeFunction", "dynamodb:GetItem", "table", "IdempotencyTable"),
        ("OwnersFunction", "ssm:GetParameter", "parameter", "/hssync/config"),
        ("ApplyFunction", "dynamodb:Scan", "table", "IdempotencyTable"),
        ("ApplyFunction", "ssm:PutParameter", "parameter", "/hssync/config"),
        ("PollFunction", "sqs:SendMessage", "queue", "OwnersQueue"),
        ("EmailEventsFunction", "sqs:SendMessage", "queue", "WritesQueue"),
        ("EmailEventsFunction", "dynamodb:Scan", "table", "StateTable"),
        ("EmailEventsFunction", "dynamodb:DeleteItem", "table", "StateTable"),
        ("EmailEventsFunction", "dynamodb:GetItem", "table", "IdempotencyTable"),
    ],
)
def test_what_a_role_does_not_allow(roles, function, action, kind, name):
    assert not _may(roles[function], action, kind, name)


def test_every_sqs_event_source_may_poll_its_queue(roles):
    for function, queue in [
        ("InboundEventsFunction", "SalesforceEventsQueue"),
        ("PollFunction", "PollRequestsQueue"),
        ("DedupeFunction", "ChangesQueue"),
        ("OwnersFunction", "OwnersQueue"),
        ("ApplyFunction", "WritesQueue"),
    ]:
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            assert _may(roles[function], action, "queue", queue), (function, action)


def test_removing_a_permission_from_the_template_denies_what_it_allowed():
    data = copy.deepcopy(load_cfn_file(ROOT / "template.yaml"))
    policies = data["Resources"]["DedupeFunction"]["Properties"]["Policies"]
    changes = {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["ChangesQueue", "QueueName"]}}}
    policies.remove(changes)
    role = execution_roles(Template(data, root=ROOT, parameters=PARAMETERS))["DedupeFunction"]
    assert role is not None
    assert not _may(role, "sqs:SendMessage", "queue", "ChangesQueue")
    assert _may(role, "sqs:SendMessage", "queue", "OwnersQueue")


# -- the check in front of moto --------------------------------------------------------------------
class _Directory:
    def principal(self, access_key_id: str) -> Principal | None:
        if access_key_id != "ASIAFUNCTION00000000":
            return None
        return Principal(
            f"arn:aws:sts::{ACCOUNT}:assumed-role/r/f", ACCOUNT, (_allow("sqs:SendMessage", QUEUE),)
        )

    def secret_arn(self, secret_id: str, region: str, account: str) -> str | None:
        return None


def _signed(key: str, service: str) -> dict[str, str]:
    credential = f"{key}/20261207/us-east-1/{service}/aws4_request"
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0"}


@pytest.fixture
def moto_behind_the_check() -> tuple[Client, list[bytes]]:
    seen: list[bytes] = []

    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    return Client(IamEnforcer(moto, _Directory())), seen


def test_the_check_passes_allowed_calls_and_other_keys_on_to_moto(moto_behind_the_check):
    client, seen = moto_behind_the_check
    body = json.dumps({"QueueUrl": f"http://moto/{ACCOUNT}/hssync-ChangesQueue", "MessageBody": "x"})
    headers = {**_signed("ASIAFUNCTION00000000", "sqs"), "X-Amz-Target": "AmazonSQS.SendMessage"}
    allowed = client.post("/", data=body, headers=headers, content_type="application/x-amz-json-1.0")
    assert allowed.status_code == 200
    assert seen == [body.encode()]  # moto gets the body the check read
    admin = client.post(
        "/", data="{}", headers=_signed("testing", "dynamodb"), content_type="application/json"
    )
    assert admin.status_code == 200
    assert client.get("/_hssync/iam").json == {"enforcing": True}


def test_the_check_answers_a_denial_in_the_clients_protocol(moto_behind_the_check):
    client, seen = moto_behind_the_check
    headers = {**_signed("ASIAFUNCTION00000000", "dynamodb"), "X-Amz-Target": "DynamoDB_20120810.Scan"}
    denied = client.post(
        "/", data='{"TableName": "t"}', headers=headers, content_type="application/x-amz-json-1.0"
    )
    assert denied.status_code == 400
    error = json.loads(denied.data)
    assert error["__type"].endswith("#AccessDeniedException")
    assert f"dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t" in error["message"]
    form = "Action=GetQueueUrl&QueueName=other&Version=2012-11-05"
    query = client.post("/", data=form, headers=_signed("ASIAFUNCTION00000000", "sqs"), content_type=FORM)
    assert query.status_code == 403
    assert b"<Code>AccessDenied</Code>" in query.data
    assert b"sqs:GetQueueUrl on resource: arn:aws:sqs:us-east-1:" in query.data
    unknown = client.get("/2015-03-31/functions", headers=_signed("ASIAFUNCTION00000000", "lambda"))
    assert unknown.status_code == 403
    assert seen == []  # none reached moto
