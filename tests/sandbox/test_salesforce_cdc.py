"""Change Data Capture events: headers, payloads, grouping, EventBridge envelope and ordered delivery."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests


class Receiver:
    """A tiny HTTP target that records each POSTed JSON body; fails the first ``fail_first`` posts."""

    def __init__(self, fail_first=0):
        self.batches: list[list[dict[str, Any]]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(500)
                else:
                    receiver.batches.append(body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def events(self):
        return [e for batch in self.batches for e in batch]


@pytest.fixture
def receiver(fresh_sandbox):
    rec = Receiver()
    _control(fresh_sandbox, "change-events/target", {"url": rec.url})
    yield rec
    rec.server.shutdown()


def _control(sandbox, path, body):
    resp = requests.post(
        f"{sandbox.salesforce_url}/_sandbox/{path}", json=body, verify=str(sandbox.tls.ca_cert), timeout=5
    )
    resp.raise_for_status()
    return resp.json()


def _wait_delivered(sandbox, receiver, count):
    deadline = time.monotonic() + 10
    while (sandbox.pending_deliveries() or len(receiver.events) < count) and time.monotonic() < deadline:
        time.sleep(0.02)
    return receiver.events


def _header(event):
    return event["detail"]["payload"]["ChangeEventHeader"]


def test_create_update_delete_events_with_envelope(sf, fresh_sandbox, receiver):
    lead_id = sf.Lead.create(
        {"FirstName": "Eve", "LastName": "Event", "Company": "CDC", "City": "Lyon"},
        headers={"Sforce-Call-Options": "client=hssync/1.0"},
    )["id"]
    sf.Lead.update(lead_id, {"LastName": "Evented", "Title": "Boss", "City": None})
    sf.Lead.delete(lead_id)
    events = _wait_delivered(fresh_sandbox, receiver, 3)
    assert [_header(e)["changeType"] for e in events] == ["CREATE", "UPDATE", "DELETE"]

    create = events[0]
    org = fresh_sandbox.info.salesforce["org_id"]
    assert create["detail-type"] == "LeadChangeEvent"
    assert create["version"] == "0"
    assert create["source"].startswith(f"aws.partner/salesforce.com/{org}/0YL")
    assert create["detail"]["schemaId"]
    assert create["detail"]["id"]
    header = _header(create)
    assert header["entityName"] == "Lead"
    assert header["recordIds"] == [lead_id]
    assert header["changeOrigin"] == "com/salesforce/api/rest/59.0;client=hssync/1.0"
    integration = sf.query("SELECT Id FROM User WHERE Username = 'admin@sandbox.example'")["records"][0]["Id"]
    assert header["commitUser"] == integration
    assert isinstance(header["commitTimestamp"], int)
    assert header["sequenceNumber"] == 1
    payload = create["detail"]["payload"]
    assert payload["Name"] == {"FirstName": "Eve", "LastName": "Event"}
    assert payload["Address"] == {"City": "Lyon"}
    assert payload["Status"] == "Open - Not Contacted"
    assert payload["CreatedDate"].endswith("Z")
    assert "Id" not in payload
    assert "Title" not in payload

    update = events[1]
    header = _header(update)
    assert header["changeOrigin"] == "com/salesforce/api/rest/59.0"
    assert sorted(header["changedFields"]) == sorted(
        ["LastModifiedDate", "Title", "Name.LastName", "Address.City"]
    )
    assert header["nulledFields"] == ["Address.City"]
    payload = update["detail"]["payload"]
    assert payload["Name"] == {"LastName": "Evented"}
    assert payload["Title"] == "Boss"
    assert set(payload) == {"ChangeEventHeader", "Name", "Title", "Address", "LastModifiedDate"}

    delete = events[2]
    assert set(delete["detail"]["payload"]) == {"ChangeEventHeader"}
    replay_ids = [e["detail"]["event"]["replayId"] for e in events]
    assert replay_ids == sorted(replay_ids)
    assert len(set(replay_ids)) == 3
    commit_numbers = [_header(e)["commitNumber"] for e in events]
    assert commit_numbers == sorted(commit_numbers)


def test_collection_update_groups_identical_changes(sf, fresh_sandbox, receiver):
    records = [{"attributes": {"type": "Lead"}, "LastName": f"G{i}", "Company": "C"} for i in range(3)]
    ids = [r["id"] for r in sf.restful("composite/sobjects", method="POST", json={"records": records})]
    sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "id": i, "Status": "Working - Contacted"} for i in ids
            ]
        },
    )
    events = _wait_delivered(fresh_sandbox, receiver, 4)
    creates = [e for e in events if _header(e)["changeType"] == "CREATE"]
    assert len(creates) == 3
    assert len({_header(e)["transactionKey"] for e in creates}) == 1
    assert [_header(e)["sequenceNumber"] for e in creates] == [1, 2, 3]
    updates = [e for e in events if _header(e)["changeType"] == "UPDATE"]
    assert len(updates) == 1
    assert _header(updates[0])["recordIds"] == ids


def test_delivery_retries_and_keeps_order(sf, fresh_sandbox):
    rec = Receiver(fail_first=2)
    _control(fresh_sandbox, "change-events/target", {"url": rec.url})
    try:
        created = [sf.Contact.create({"LastName": f"Order{i}"})["id"] for i in range(5)]
        events = _wait_delivered(fresh_sandbox, rec, 5)
        assert [_header(e)["recordIds"][0] for e in events] == created
        assert all(len(batch) <= 10 for batch in rec.batches)
    finally:
        rec.server.shutdown()


def test_event_log_and_gap_events(sf, fresh_sandbox):
    lead_id = sf.Lead.create({"LastName": "Logged", "Company": "C"})["id"]
    gap = _control(fresh_sandbox, "change-events/gap", {"entity": "Lead", "recordIds": [lead_id]})
    overflow = _control(fresh_sandbox, "change-events/gap", {"entity": "Account", "overflow": True})
    log = requests.get(
        f"{fresh_sandbox.salesforce_url}/_sandbox/change-events",
        verify=str(fresh_sandbox.tls.ca_cert),
        timeout=5,
    ).json()
    kinds = [_header(e)["changeType"] for e in log["events"]]
    assert kinds == ["CREATE", "GAP_UPDATE", "GAP_OVERFLOW"]
    assert overflow["replayId"] == gap["replayId"] + 1
    assert _header(log["events"][1])["recordIds"] == [lead_id]
    later = requests.get(
        f"{fresh_sandbox.salesforce_url}/_sandbox/change-events",
        params={"after": gap["replayId"]},
        verify=str(fresh_sandbox.tls.ca_cert),
        timeout=5,
    )
    assert [_header(e)["changeType"] for e in later.json()["events"]] == ["GAP_OVERFLOW"]
