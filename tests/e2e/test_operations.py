"""The operator's view of a running stack (issue 16), through the ``hssync`` command line: sync
health shows a refused value, a duplicate and a queue owner under their categories, and each
entry's own resync command syncs its record; a poll request that cannot be served makes ``resync``
exit non-zero and shows in ``hssync dlq list``, and a redrive after the fix syncs it; ``status``
exits non-zero while something is dead-lettered or a CRM is suspended."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from infra.cli import main
from shared.crm_state import CrmState, CrmStatus
from shared.models import System
from shared.state.crm import DynamoCrmStateStore
from tests.e2e.conftest import World, queue_owner


@pytest.fixture
def state_dir(world: World, tmp_path: Path) -> Path:
    """What ``hssync sandbox up`` leaves for the CLI: sandbox.json with the running stack."""
    info = world.sandbox.info
    info.runtime = world.stack.info.to_dict()
    (tmp_path / "sandbox.json").write_text(info.to_json())
    return tmp_path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def health_json(capsys: pytest.CaptureFixture[str], state_dir: Path, *extra: str) -> dict[str, Any]:
    code, out, _ = cli(capsys, "health", "--format", "json", "--state-dir", str(state_dir), *extra)
    assert code == 0
    document: dict[str, Any] = json.loads(out)
    return document


def _filters_and_exports(capsys: pytest.CaptureFixture[str], state_dir: Path, queue: str) -> None:
    """The filters, the CSV export and the table show the same entries."""
    only = health_json(capsys, state_dir, "--category", "owners")["entries"]
    assert [e["record"] for e in only] == [f"salesforce:Group:{queue}"]
    assert {e["record"] for e in health_json(capsys, state_dir, "--object", "Group")["entries"]} == {
        f"salesforce:Group:{queue}"
    }
    code, csv_text, _ = cli(capsys, "health", "--format", "csv", "--state-dir", str(state_dir))
    assert code == 0
    assert csv_text.splitlines()[0].startswith("category,record,object")
    assert f"salesforce:Group:{queue}" in csv_text
    code, table, _ = cli(capsys, "health", "--state-dir", str(state_dir))
    assert code == 0
    assert "Property values" in table
    assert "Duplicates" in table


def test_health_shows_each_kind_of_entry_in_its_category_and_its_resync_syncs_it(
    world: World, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queue = queue_owner(world)  # before anything syncs: the owner directory is cached
    wordy = world.hubspot_create(email="wordy@example.com", lastname="Wordy", jobtitle="Chief " * 30)
    first = world.salesforce_create("Lead", LastName="First", Company="One", Email="twin@example.com")
    world.settle()
    twin = world.salesforce_create("Lead", LastName="Second", Company="Two", Email="twin@example.com")
    queued = world.salesforce_create(
        "Lead", LastName="Queued", Company="Q Co", Email="queued@example.com", OwnerId=queue
    )
    world.settle()

    document = health_json(capsys, state_dir)
    by_record = {e["record"]: e for e in document["entries"]}
    refused = by_record[f"hubspot:contacts:{wordy}"]
    duplicate = by_record[f"salesforce:Lead:{twin}"]
    owner = by_record[f"salesforce:Group:{queue}"]
    assert (refused["category"], refused["code"]) == ("property_values", "STRING_TOO_LONG")
    assert (duplicate["category"], duplicate["code"]) == ("duplicates", "DUPLICATE_EMAIL")
    assert (owner["category"], owner["code"]) == ("owners", "OWNER_NOT_IN_HUBSPOT")
    cards = {c["category"]: (c["errors"], c["records"]) for c in document["categories"]}
    assert cards["property_values"][1] == cards["duplicates"][1] == cards["owners"][1] == 1
    _filters_and_exports(capsys, state_dir, queue)

    # what the entries stand for changes while hssync hears nothing; each entry's command syncs it
    with world.events_paused():
        world.hubspot_edit(wordy, jobtitle="Chief Wordsmith")
        world.salesforce_update("Lead", twin, Company="Two Updated")
        world.salesforce_update("Lead", queued, Company="Q Co Updated")
    for entry in (refused, duplicate, owner):
        command = entry["resync"].split()
        assert command[:2] == ["hssync", "resync"]
        code, out, err = cli(capsys, *command[1:], "--state-dir", str(state_dir))
        assert code == 0, (entry["record"], out, err)
        assert "done:" in out

    [wordy_lead] = world.salesforce_with_email("Lead", "wordy@example.com")
    assert wordy_lead["Title"] == "Chief Wordsmith"
    [twin_contact] = world.hubspot_with_email("twin@example.com")
    assert twin_contact.properties.get("company") == "Two Updated"  # the most recently updated syncs
    [queued_contact] = world.hubspot_with_email("queued@example.com")
    assert queued_contact.properties.get("company") == "Q Co Updated"
    assert first  # linked first, so the other one is the duplicate
    # the refused value synced cleanly: its entry cleared; the others still hold
    records = {e["record"] for e in health_json(capsys, state_dir)["entries"]}
    assert f"hubspot:contacts:{wordy}" not in records
    assert f"salesforce:Lead:{twin}" in records
    assert f"salesforce:Group:{queue}" in records


def test_a_request_that_dead_letters_fails_the_resync_shows_in_dlq_list_and_redrives_after_the_fix(
    world: World, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hubspot.crm.lists import ListCreateRequest

    with world.events_paused():
        member = world.hubspot_create(email="member@example.com", lastname="Member", company="Listed")
    lists = world.hubspot.crm.lists
    created = lists.lists_api.create(
        ListCreateRequest(name="Gone for now", object_type_id="0-1", processing_type="MANUAL")
    )
    list_id = str(created.list.list_id)
    lists.memberships_api.add(list_id, [member])
    lists.lists_api.remove(list_id)  # deleted: the poller cannot read it
    world.settle()

    code, out, _ = cli(capsys, "resync", "--list", list_id, "--state-dir", str(state_dir))
    assert code == 1
    assert "dead-lettered" in out
    code, out, _ = cli(capsys, "status", "--state-dir", str(state_dir))
    assert code == 1
    assert "poll-requests" in out
    assert "OBJECT_NOT_FOUND" in out
    code, listing, _ = cli(capsys, "dlq", "list", "--state-dir", str(state_dir))
    assert code == 0
    assert "poll-requests: 1 dead letter(s)" in listing
    assert f"List {list_id} does not exist" in listing
    assert world.salesforce_with_email("Lead", "member@example.com") == []
    [letter_id] = [line.split()[0] for line in listing.splitlines() if " sent " in line]
    code, shown, _ = cli(capsys, "dlq", "show", letter_id, "--state-dir", str(state_dir))
    assert code == 0
    assert f'"list_id": "{list_id}"' in shown
    assert "from poll" in shown

    lists.lists_api.restore(list_id)  # the fix
    code, out, _ = cli(capsys, "dlq", "redrive", "poll-requests", "--state-dir", str(state_dir))
    assert code == 0
    assert "redrove 1 dead letter(s)" in out
    world.settle()
    [lead] = world.salesforce_with_email("Lead", "member@example.com")
    assert lead["Company"] == "Listed"
    code, out, _ = cli(capsys, "status", "--state-dir", str(state_dir))
    assert code == 0, out
    assert "all well" in out
    code, listing, _ = cli(capsys, "dlq", "list", "--state-dir", str(state_dir))
    assert "no dead letters" in listing


def test_status_exits_non_zero_while_a_crm_is_suspended(
    world: World, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "status", "--state-dir", str(state_dir))
    assert code == 0, out
    store = DynamoCrmStateStore(world.stack.info.state_table, world.stack._boto("dynamodb"))
    now = dt.datetime.now(dt.UTC)
    org = world.sandbox.sf_creds.org_id
    suspended = CrmState(
        System.SALESFORCE,
        org,
        CrmStatus.SUSPENDED,
        since=now,
        updated_at=now,
        reason="API_DISABLED_FOR_ORG",
        message="The org's API is disabled: enable it (Setup > User permissions > API Enabled)",
    )
    store.put_crm_state(suspended)
    code, out, _ = cli(capsys, "status", "--state-dir", str(state_dir))
    assert code == 1
    assert f"salesforce {org} is suspended: API_DISABLED_FOR_ORG" in out
    code, out, _ = cli(capsys, "status", "--format", "json", "--state-dir", str(state_dir))
    assert code == 1
    [salesforce] = [c for c in json.loads(out)["crms"] if c["system"] == "salesforce"]
    assert salesforce["status"] == "suspended"
    store.put_crm_state(CrmState(System.SALESFORCE, org, CrmStatus.RUNNING, since=now, updated_at=now))
    assert main(["status", "--state-dir", str(state_dir)]) == 0


def test_a_spent_daily_limit_is_an_api_limit_entry_whose_command_catches_up(
    world: World, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = DynamoCrmStateStore(world.stack.info.state_table, world.stack._boto("dynamodb"))
    org = world.sandbox.sf_creds.org_id
    stopped = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with world.events_paused():  # changed while hssync could not call Salesforce
        lead = world.salesforce_create("Lead", LastName="Late", Company="Limit Co", Email="late@example.com")
    # what the guardrails store when the org's daily limit is spent (issue 15 writes it)
    spent = CrmState(
        System.SALESFORCE,
        org,
        CrmStatus.PAUSED,
        since=stopped,
        updated_at=stopped,
        reason="REQUEST_LIMIT_EXCEEDED",
        message="the org's daily API limit is spent; hssync resumes when it is not",
    )
    store.put_crm_state(spent)
    [entry] = health_json(capsys, state_dir, "--category", "api_limit")["entries"]
    assert (entry["record"], entry["code"]) == (f"salesforce:org:{org}", "REQUEST_LIMIT_EXCEEDED")
    assert entry["resync"].startswith("hssync resync --all --since ")
    code, _, _ = cli(capsys, "status", "--state-dir", str(state_dir))
    assert code == 1

    now = dt.datetime.now(dt.UTC)
    store.put_crm_state(CrmState(System.SALESFORCE, org, CrmStatus.RUNNING, since=now, updated_at=now))
    code, out, err = cli(capsys, *entry["resync"].split()[1:], "--state-dir", str(state_dir))
    assert code == 0, (out, err)
    [contact] = world.hubspot_with_email("late@example.com")
    assert contact.properties.get("company") == "Limit Co"
    assert lead
    assert health_json(capsys, state_dir, "--category", "api_limit")["entries"] == []


def test_config_validate_checks_against_the_live_crms_and_push_puts_it_in_the_parameter(
    world: World, state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(f"version: 1\nportals: [{world.portal}]\n")
    code, out, err = cli(capsys, "config", "validate", str(good), "--check", "--state-dir", str(state_dir))
    assert code == 0, err
    assert "checked against the CRMs" in out

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"version: 1\nportals: [{world.portal}]\ninclusion: {{list_id: '987654'}}\ncontact_mappings:\n"
        "  - {hubspot: email, lead: Email, contact: Email}\n"
        "  - {hubspot: no_such_property, lead: Title}\n"
        "  - {hubspot: jobtitle, lead: No_Such_Field__c}\n"
        "  - {hubspot: createdate, lead: NumberOfEmployees}\n"
    )
    code, _, err = cli(capsys, "config", "validate", str(bad), "--check", "--state-dir", str(state_dir))
    assert code == 1
    assert "no_such_property' does not exist" in err  # every problem, in one pass
    assert "Lead.No_Such_Field__c does not exist" in err
    assert "createdate (datetime/date) and Lead.NumberOfEmployees (int)" in err
    assert "HubSpot list 987654 cannot be read" in err

    code, out, _ = cli(capsys, "config", "push", str(bad), "--state-dir", str(state_dir))
    assert code == 0  # valid as a file (push does not reach the CRMs)
    parameter = world.stack._boto("ssm").get_parameter(Name="/hssync/config")["Parameter"]["Value"]
    assert parameter == bad.read_text()
    code, out, _ = cli(capsys, "config", "push", str(good), "--state-dir", str(state_dir))
    assert code == 0
    assert "pushed to /hssync/config" in out
    assert (
        world.stack._boto("ssm").get_parameter(Name="/hssync/config")["Parameter"]["Value"]
        == good.read_text()
    )
