"""Each function's environment: its own model names exactly what it reads, the template sets every
variable a model requires, and a handler started without one stops with an error naming it."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from shared import wiring
from shared.environment import (
    ApplyEnvironment,
    ChangeEventsEnvironment,
    DedupeEnvironment,
    EmailEventsEnvironment,
    FunctionEnvironment,
    MissingSetting,
    OwnersEnvironment,
    PollEnvironment,
    WebhookEnvironment,
)
from shared.observability import metrics
from shared.pipeline.stages.apply import ApplyStage
from shared.pipeline.stages.change_events import ChangeEventStage
from shared.pipeline.stages.dedupe import DedupeStage
from shared.pipeline.stages.email_events import EmailEventsStage
from shared.pipeline.stages.owners import OwnersStage
from shared.pipeline.stages.poll import PollStage
from shared.pipeline.stages.webhook import WebhookStage
from tests.unit.handler_kit import (
    TEMPLATE,
    LambdaContext,
    environment,
    function_url_event,
    function_variables,
    global_variables,
    sqs_event,
    template_environment,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

# the template's function -> its handler module, its environment, its stage
FUNCTIONS: dict[str, tuple[str, type[FunctionEnvironment], type]] = {
    "InboundWebhookFunction": ("functions.inbound_webhook.app", WebhookEnvironment, WebhookStage),
    "InboundEventsFunction": ("functions.inbound_events.app", ChangeEventsEnvironment, ChangeEventStage),
    "PollFunction": ("functions.poll.app", PollEnvironment, PollStage),
    "DedupeFunction": ("functions.dedupe.app", DedupeEnvironment, DedupeStage),
    "OwnersFunction": ("functions.owners.app", OwnersEnvironment, OwnersStage),
    "ApplyFunction": ("functions.apply.app", ApplyEnvironment, ApplyStage),
    "EmailEventsFunction": ("functions.email_events.app", EmailEventsEnvironment, EmailEventsStage),
}
# read by the adapters or tunable, never set by the template
OPTIONAL = {"HSSYNC_CONFIG_TTL_SECONDS", "SALESFORCE_LOGIN_URL"}
# what Lambda itself puts in every function's environment (the parts the clients read)
LAMBDA = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def test_every_function_of_the_template_has_its_environment_model():
    functions = {k for k, v in TEMPLATE["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions == set(FUNCTIONS)
    for logical_id, (module, _, _) in FUNCTIONS.items():
        code_uri = TEMPLATE["Resources"][logical_id]["Properties"]["CodeUri"]
        assert module == code_uri.strip("/").replace("/", ".") + ".app"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_the_template_sets_every_variable_the_function_requires_and_nothing_it_does_not_read(logical_id):
    _, model, _ = FUNCTIONS[logical_id]
    variables = model.variables()
    required = {name for name, needed in variables.items() if needed}
    assert required <= global_variables() | function_variables(logical_id)
    assert function_variables(logical_id) <= set(variables)  # the function's own: all read
    assert {name for name, needed in variables.items() if not needed} <= OPTIONAL | global_variables()
    model.from_environ(template_environment(logical_id))  # valid as the template sets it


def test_a_missing_or_empty_variable_is_named():
    env = template_environment("ApplyFunction")
    del env["IDEMPOTENCY_TABLE"]
    env["WRITES_QUEUE_URL"] = " "
    with pytest.raises(MissingSetting) as caught:
        ApplyEnvironment.from_environ(env)
    assert str(caught.value) == (
        "environment variable WRITES_QUEUE_URL is not set (see template.yaml); "
        "environment variable IDEMPOTENCY_TABLE is not set (see template.yaml)"
    )


def test_the_org_id_is_checked_and_kept_in_18_characters():
    env = template_environment("InboundEventsFunction")
    assert ChangeEventsEnvironment.from_environ(env).salesforce_org_id == env["SALESFORCE_ORG_ID"]
    short = ChangeEventsEnvironment.from_environ({**env, "SALESFORCE_ORG_ID": "00D5g00000SbxSy"})
    assert short.salesforce_org_id == "00D5g00000SbxSyEAJ"
    with pytest.raises(MissingSetting, match="environment variable SALESFORCE_ORG_ID is invalid"):
        ChangeEventsEnvironment.from_environ({**env, "SALESFORCE_ORG_ID": "005000000000001AAA"})


def test_the_template_declares_the_org_id_the_functions_read():
    parameter = TEMPLATE["Parameters"]["SalesforceOrgId"]
    assert "Default" not in parameter  # a deployed stack names its org
    for logical_id, (_, model, _) in FUNCTIONS.items():
        if "SALESFORCE_ORG_ID" in model.variables():
            variables = TEMPLATE["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
            assert variables["SALESFORCE_ORG_ID"] == {"Ref": "SalesforceOrgId"}


def _event(logical_id: str) -> dict[str, Any]:
    if logical_id == "InboundWebhookFunction":
        return function_url_event("[]", {})
    return sqs_event("{}")


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A handler module whose stage is built from the environment again."""
    monkeypatch.setattr(metrics, "namespace", "hssync-test")
    modules: list[Any] = []

    def load(logical_id: str) -> Any:
        module = importlib.import_module(FUNCTIONS[logical_id][0])
        module.stage.use(None)
        modules.append(module)
        return module

    yield load
    for module in modules:
        module.stage.use(None)
    metrics.clear_metrics()
    wiring.sqs.cache_clear()  # built from this test's environment
    wiring.state.cache_clear()


REQUIRED = [
    (logical_id, name)
    for logical_id, (_, model, _) in sorted(FUNCTIONS.items())
    for name, needed in model.variables().items()
    if needed
]


@pytest.mark.parametrize(("logical_id", "name"), REQUIRED)
def test_a_handler_started_without_a_variable_stops_with_an_error_naming_it(
    logical_id, name, fresh, monkeypatch
):
    app = fresh(logical_id)
    env = template_environment(logical_id)
    del env[name]
    with environment(monkeypatch, env), pytest.raises(MissingSetting, match=f"variable {name} is not set"):
        app.handler(_event(logical_id), LambdaContext())


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_a_handler_builds_its_stage_from_the_template_environment_without_calling_anything(
    logical_id, fresh, monkeypatch
):
    app = fresh(logical_id)
    with environment(monkeypatch, {**template_environment(logical_id), **LAMBDA}):
        stage = app.stage()  # what the first invocation does; unit tests block every socket
    assert isinstance(stage, FUNCTIONS[logical_id][2])
    assert app.stage() is stage  # then kept for the execution environment


# what each stage sends where: its attribute -> the template's variable (and the dead-letter source)
ROUTES: dict[str, tuple[dict[str, str], str]] = {
    "InboundWebhookFunction": ({"changes": "CHANGES_QUEUE_URL"}, "hubspot-webhook"),
    "InboundEventsFunction": (
        {"changes": "CHANGES_QUEUE_URL", "poll_requests": "POLL_REQUESTS_QUEUE_URL"},
        "salesforce-change-event",
    ),
    "PollFunction": ({"changes": "CHANGES_QUEUE_URL"}, "poll"),
    "DedupeFunction": ({"plans": "OWNERS_QUEUE_URL", "changes": "CHANGES_QUEUE_URL"}, "dedupe"),
    "OwnersFunction": ({"writes": "WRITES_QUEUE_URL"}, "owners"),
    "ApplyFunction": ({"writes": "WRITES_QUEUE_URL", "changes": "CHANGES_QUEUE_URL"}, "apply"),
}
# functions that hand nothing on: they write themselves (their failed runs go to Lambda's DLQ)
SENDS_NOTHING = {"EmailEventsFunction"}


def test_every_function_routes_its_work_or_hands_nothing_on():
    assert set(ROUTES) | SENDS_NOTHING == set(FUNCTIONS)
    for logical_id in SENDS_NOTHING:
        assert not [name for name in function_variables(logical_id) if name.endswith("QUEUE_URL")]


@pytest.mark.parametrize("logical_id", sorted(ROUTES))
def test_each_stage_sends_to_the_queues_the_template_names_and_dead_letters_with_its_source(
    logical_id, fresh, monkeypatch
):
    env = template_environment(logical_id)
    with environment(monkeypatch, {**env, **LAMBDA}):
        stage = fresh(logical_id).stage()
    queues, source = ROUTES[logical_id]
    assert {attribute: getattr(stage, attribute).url for attribute in queues} == {
        attribute: env[name] for attribute, name in queues.items()
    }
    dead = getattr(stage, "dead_letter_queue", None) or stage.dead_letter
    (dlq,) = [name for name in function_variables(logical_id) if name.endswith("DEAD_LETTER_QUEUE_URL")]
    assert (dead.url, dead.source) == (env[dlq], source)
