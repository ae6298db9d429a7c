"""IAM enforced by the local runtime against moto: each function calls AWS as its execution role (as
SAM makes it from the template), a call its role does not allow is denied as AWS denies it, and a
function whose call is denied fails visibly. Removing a permission from ``template.yaml`` breaks the
call it allowed."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.runtime import LocalRuntime, MotoServer, Template
from infra.runtime.cfn_yaml import load_cfn_file
from infra.runtime.sqs_poller import LONG_POLL_SECONDS, lambda_record

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PARAMETERS = {"HubSpotPortalId": "62515", "SalesforceOrgId": "00D000000000001AAA"}
ACCOUNT = "123456789012"
SQS_EXECUTION_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer(port=0) as server:
        yield server


def _template_data(path: Path, drop: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    data = copy.deepcopy(load_cfn_file(path))
    if drop is not None:
        drop(data)
    return data


def _stack(
    moto: MotoServer, name: str, data: dict[str, Any], root: Path = ROOT, **kwargs: Any
) -> LocalRuntime:
    parameters = PARAMETERS if root == ROOT else None
    template = Template(data, root=root, parameters=parameters, stack_name=name)
    return LocalRuntime(template, aws_endpoint=moto.endpoint_url, **kwargs)


def _without_policy(function: str, policy: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def drop(data: dict[str, Any]) -> None:
        data["Resources"][function]["Properties"]["Policies"].remove(policy)

    return drop


def _client(runtime: LocalRuntime, function: str, service: str) -> Any:
    return runtime.clients.client(service, runtime.function_credentials(function))


def _denied(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return dict(raised.value.response)


CHANGES_POLICY = {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["ChangesQueue", "QueueName"]}}}


@pytest.fixture(scope="module")
def hssync(moto: MotoServer) -> Iterator[LocalRuntime]:
    """The product's template, provisioned (roles and sessions included), no function running."""
    runtime = _stack(moto, "iam", _template_data(ROOT / "template.yaml"), functions=[])
    runtime.start()
    yield runtime
    runtime.stop()


def test_a_function_calls_aws_as_a_session_of_its_role(hssync: LocalRuntime):
    identity = _client(hssync, "DedupeFunction", "sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/iam-DedupeFunctionRole/iam-DedupeFunction"
    role = hssync.clients.iam.get_role(RoleName="iam-DedupeFunctionRole")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": ["lambda.amazonaws.com"]
    }
    attached = hssync.clients.iam.list_attached_role_policies(RoleName="iam-DedupeFunctionRole")
    assert SQS_EXECUTION_ROLE in {p["PolicyArn"] for p in attached["AttachedPolicies"]}
    # the runtime's own credentials are the account's administrator
    assert hssync.clients.sqs.list_queues()["QueueUrls"]


def test_what_the_role_allows_works_and_anything_else_is_denied_as_aws_denies_it(hssync: LocalRuntime):
    sqs = _client(hssync, "DedupeFunction", "sqs")
    sqs.send_message(QueueUrl=hssync.queue_url("OwnersQueue"), MessageBody="plan")
    sqs.send_message_batch(
        QueueUrl=hssync.queue_url("ChangesQueue"), Entries=[{"Id": "1", "MessageBody": "held"}]
    )
    writes = hssync.queue_url("WritesQueue")
    response = _denied(lambda: sqs.send_message(QueueUrl=writes, MessageBody="plan"))
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/iam-DedupeFunctionRole/iam-DedupeFunction is not "
        "authorized to perform: sqs:SendMessage on resource: "
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:iam-WritesQueue "
        "because no identity-based policy allows the sqs:SendMessage action"
    )
    dynamodb = _client(hssync, "InboundWebhookFunction", "dynamodb")
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    response = _denied(lambda: dynamodb.get_item(TableName="iam-StateTable", Key=key))
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert "dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:" in response["Error"]["Message"]
    assert "item" not in _client(hssync, "DedupeFunction", "dynamodb").get_item(
        TableName="iam-StateTable", Key=key
    )


def test_the_gaps_issue_11_found_are_closed(hssync: LocalRuntime):
    hssync.clients.ssm.put_parameter(Name="/hssync/config", Value="version: 1", Type="String", Overwrite=True)
    ssm = _client(hssync, "ApplyFunction", "ssm")
    assert ssm.get_parameter(Name="/hssync/config")["Parameter"]["Value"] == "version: 1"
    _client(hssync, "DedupeFunction", "sqs").send_message(
        QueueUrl=hssync.queue_url("ChangesQueue"), MessageBody="deferred"
    )
    _client(hssync, "InboundWebhookFunction", "sqs").send_message(
        QueueUrl=hssync.queue_url("ChangesDeadLetterQueue"), MessageBody="invalid"
    )


def test_secrets_are_authorized_by_their_full_arn(hssync: LocalRuntime):
    for name in ("hssync/hubspot", "hssync/salesforce"):
        hssync.clients.secretsmanager.create_secret(Name=name, SecretString="{}")
    secrets = _client(hssync, "InboundWebhookFunction", "secretsmanager")
    assert (
        secrets.get_secret_value(SecretId="hssync/hubspot")["SecretString"] == "{}"
    )  # secret:hssync/hubspot-*
    response = _denied(lambda: secrets.get_secret_value(SecretId="hssync/salesforce"))
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert ":secret:hssync/salesforce-" in response["Error"]["Message"]


def test_removing_a_permission_from_the_template_denies_the_call(moto: MotoServer):
    data = _template_data(ROOT / "template.yaml", _without_policy("DedupeFunction", CHANGES_POLICY))
    runtime = _stack(moto, "removed", data, functions=[])
    runtime.provision()
    sqs = _client(runtime, "DedupeFunction", "sqs")
    changes = runtime.queue_url("ChangesQueue")
    response = _denied(lambda: sqs.send_message(QueueUrl=changes, MessageBody="held"))
    assert response["Error"]["Code"] == "AccessDenied"
    assert (
        f"sqs:SendMessage on resource: arn:aws:sqs:us-east-1:{ACCOUNT}:removed-ChangesQueue"
        in (response["Error"]["Message"])
    )
    sqs.send_message(QueueUrl=runtime.queue_url("OwnersQueue"), MessageBody="plan")  # the rest stands


def _change_event(record_id: str) -> dict[str, Any]:
    header = {"entityName": "Lead", "changeType": "UPDATE", "recordIds": [record_id],
              "commitTimestamp": 1764360000000, "transactionKey": "t", "sequenceNumber": 1}  # fmt: skip
    body = json.dumps({"version": "0", "id": "e1", "detail-type": "LeadChangeEvent",
                       "source": "aws.partner/salesforce.com/00D000000000001AAA/0YLxx0000000001",
                       "account": ACCOUNT, "time": "2026-11-28T20:00:00Z", "region": "us-east-1",
                       "resources": [], "detail": {"payload": {"ChangeEventHeader": header}}})  # fmt: skip
    sent = str(int(time.time() * 1000))
    attributes = {
        "SentTimestamp": sent,
        "ApproximateFirstReceiveTimestamp": sent,
        "ApproximateReceiveCount": "1",
    }
    message = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": body, "Attributes": attributes}
    return {"Records": [lambda_record(message, f"arn:aws:sqs:us-east-1:{ACCOUNT}:events", "us-east-1")]}


@pytest.mark.parametrize("permitted", [True, False], ids=["permitted", "denied"])
def test_a_denied_call_fails_the_function_visibly(moto: MotoServer, tmp_path: Path, permitted: bool):
    drop = None if permitted else _without_policy("InboundEventsFunction", CHANGES_POLICY)
    stack = f"events{int(permitted)}"
    runtime = _stack(
        moto,
        stack,
        _template_data(ROOT / "template.yaml", drop),
        functions=["InboundEventsFunction"],
        log_dir=tmp_path,
    )
    with runtime:
        result = runtime.invoke("InboundEventsFunction", _change_event("00Q000000000001AAA"))
        queued = runtime.clients.sqs.receive_message(
            QueueUrl=runtime.queue_url("ChangesQueue"), WaitTimeSeconds=0
        )
    assert result.ok
    log = (tmp_path / "InboundEventsFunction.log").read_text()
    if permitted:
        assert result.payload == {"batchItemFailures": []}
        assert len(queued["Messages"]) == 1
        assert "AccessDenied" not in log
        return
    assert result.payload == {"batchItemFailures": [{"itemIdentifier": "m1"}]}  # SQS delivers it again
    assert "Messages" not in queued
    assert "relaying the batch failed" in log
    assert "An error occurred (AccessDenied) when calling the SendMessageBatch operation" in log
    assert f"sqs:SendMessage on resource: arn:aws:sqs:us-east-1:{ACCOUNT}:{stack}-ChangesQueue" in log


def test_an_unhandled_denial_is_the_invocation_error(moto: MotoServer):
    echo_reads_the_parameter = {"SSMParameterReadPolicy": {"ParameterName": {"Ref": "ConfigParameter"}}}
    data = _template_data(
        FIXTURES / "template.yaml", _without_policy("EchoFunction", echo_reads_the_parameter)
    )
    with _stack(
        moto, "echo", data, root=FIXTURES, functions=["EchoFunction"], secrets={"ConfigSecret": "s"}
    ) as rt:
        result = rt.invoke("EchoFunction", {"rawPath": "/config"})
    assert not result.ok
    assert result.error_kind == "Unhandled"
    message = result.payload["errorMessage"]
    assert message.startswith(
        "An error occurred (AccessDeniedException) when calling the GetParameter operation"
    )
    assert (
        f"ssm:GetParameter on resource: arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/CFN-ConfigParameter-echo"
        in message
    )


def test_the_role_is_read_at_every_call(hssync: LocalRuntime):
    """An explicit deny put on the role applies at once, as it would in AWS (give or take a few seconds)."""
    sqs = _client(hssync, "OwnersFunction", "sqs")
    writes = hssync.queue_url("WritesQueue")
    sqs.send_message(QueueUrl=writes, MessageBody="plan")
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sqs:*", "Resource": "*"}]}
    iam = hssync.clients.iam
    iam.put_role_policy(
        RoleName="iam-OwnersFunctionRole", PolicyName="lockdown", PolicyDocument=json.dumps(deny)
    )
    try:
        response = _denied(lambda: sqs.send_message(QueueUrl=writes, MessageBody="plan"))
        assert response["Error"]["Message"].endswith("with an explicit deny in an identity-based policy")
    finally:
        iam.delete_role_policy(RoleName="iam-OwnersFunctionRole", PolicyName="lockdown")
    sqs.send_message(QueueUrl=writes, MessageBody="plan")


def test_the_sqs_event_source_polls_with_the_functions_role(moto: MotoServer):
    data = _template_data(FIXTURES / "template.yaml")
    with _stack(moto, "poll", data, root=FIXTURES, functions=["ConsumerFunction"]) as runtime:
        role = "poll-ConsumerFunctionRole"
        runtime.clients.iam.detach_role_policy(RoleName=role, PolicyArn=SQS_EXECUTION_ROLE)
        time.sleep(LONG_POLL_SECONDS + 0.5)  # a long poll begun before is over
        body = f"ok-{uuid.uuid4().hex[:8]}"
        runtime.clients.sqs.send_message(QueueUrl=runtime.queue_url("WorkQueue"), MessageBody=body)
        time.sleep(2.5)  # the poller's receives are denied: the message waits in the queue
        assert not runtime.wait_idle(0.1)
        assert not _stored(runtime, f"msg#{body}")
        runtime.clients.iam.attach_role_policy(RoleName=role, PolicyArn=SQS_EXECUTION_ROLE)
        assert runtime.wait_idle(20)
        assert _stored(runtime, f"msg#{body}")


def _stored(runtime: LocalRuntime, pk: str) -> bool:
    table = f"{runtime.template.stack_name}-ItemsTable"
    response = runtime.clients.dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    return bool(response["Items"])


def test_moto_meters_the_requests_it_serves_by_caller(moto: MotoServer) -> None:
    """What the cost model counts (infra.runtime.meter): a role session's requests apart from others."""
    import boto3

    def sqs(session_token: str | None) -> Any:
        return boto3.session.Session().client(
            "sqs",
            endpoint_url=moto.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="AKIDMETERTEST",
            aws_secret_access_key="secret",
            aws_session_token=session_token,
        )

    moto.metered(reset=True)
    url = sqs(None).create_queue(QueueName=f"metered-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs("a-session").send_message(QueueUrl=url, MessageBody="x" * 70_000)
    counted = moto.metered()
    assert counted["requests"]["runtime sqs CreateQueue"] == 1
    assert counted["requests"]["function sqs SendMessage"] == 1
    assert counted["billed"]["function sqs requests"] == 2  # 70 KB: two 64 KB chunks
    assert moto.metered(reset=True)["requests"] == {}
