"""The emulators' shared machinery: routing templates, call statistics, fault injection, delivery."""

from __future__ import annotations

import threading
import time

import pytest
from werkzeug.test import Client

from infra.sandbox.delivery import Deliverer
from infra.sandbox.http import Emulator, FaultInjector, json_response, werkzeug_rule_to_template

pytestmark = pytest.mark.usefixtures("no_sockets")  # pure: no network, as unit tests


class EchoEmulator(Emulator):
    name = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.route("GET", "/things/<thing_id>", lambda _req, thing_id: json_response({"id": thing_id}))
        self.route("POST", "/things", lambda _req: json_response({"created": True}, 201))


def test_rule_templates_use_openapi_style_placeholders():
    assert werkzeug_rule_to_template("/crm/v3/objects/<object_type>/<path:record_id>") == (
        "/crm/v3/objects/{object_type}/{record_id}"
    )


def test_api_calls_are_counted_by_template_and_control_calls_are_not():
    app = EchoEmulator()
    client = Client(app)
    assert client.get("/things/1").get_json() == {"id": "1"}
    client.get("/things/2")
    client.post("/things")
    client.get("/_sandbox/health")
    client.get("/_sandbox/stats")
    stats = client.get("/_sandbox/stats").get_json()
    assert stats["api_calls_total"] == 3
    assert stats["calls"] == {"GET /things/{thing_id}": 2, "POST /things": 1}


def test_unknown_routes_answer_404_and_count_as_unmatched():
    client = Client(EchoEmulator())
    assert client.get("/nope").status_code == 404
    assert client.delete("/things/1").status_code == 405
    assert client.get("/_sandbox/stats").get_json()["calls"] == {
        "DELETE <unmatched>": 1,
        "GET <unmatched>": 1,
    }


def test_faults_are_deterministic_for_a_seed_and_respect_the_rate():
    def run(seed: int) -> list[str | None]:
        injector = FaultInjector(["429", "5xx", "timeout", "lock"])
        injector.configure({"rate": 0.3, "seed": seed})
        return [injector.pick(is_write=i % 2 == 0) for i in range(2000)]

    first, again, other = run(1), run(1), run(2)
    assert first == again
    assert first != other
    hit = sum(1 for k in first if k is not None)
    assert 450 < hit < 750  # 30% of 2000, with slack for chance
    # lock errors only make sense for writes
    assert all(k != "lock" for i, k in enumerate(first) if i % 2 == 1)


def test_faults_can_target_one_path_a_limited_number_of_times():
    injector = FaultInjector(["429", "5xx", "timeout", "lost"])
    injector.configure({"rate": 1, "kinds": ["lost"], "path": "/companies/batch/create", "limit": 1})
    assert injector.pick(is_write=True, path="/crm/v3/objects/contacts/batch/create") is None
    assert injector.pick(is_write=True, path="/crm/v3/objects/companies/batch/create") == "lost"
    assert injector.pick(is_write=True, path="/crm/v3/objects/companies/batch/create") is None  # spent
    assert injector.describe()["injected"] == {"lost": 1}


def test_fault_settings_are_validated():
    injector = FaultInjector(["429", "5xx"])
    with pytest.raises(ValueError, match="unsupported fault kinds"):
        injector.configure({"rate": 0.1, "kinds": ["lock"]})
    with pytest.raises(ValueError, match="between 0 and 1"):
        injector.configure({"rate": 2})


def test_injected_fault_replaces_the_answer_and_reset_clears_faults():
    app = EchoEmulator()
    client = Client(app)
    assert client.post("/_sandbox/faults", json={"rate": 1.0, "kinds": ["5xx"], "seed": 3}).status_code == 200
    assert client.get("/things/1").status_code == 500
    assert client.get("/_sandbox/faults").get_json()["injected"] == {"5xx": 1}
    client.post("/_sandbox/reset")
    assert client.get("/things/1").status_code == 200
    assert client.get("/_sandbox/stats").get_json()["api_calls_total"] == 1


def test_deliverer_keeps_order_batches_and_retries_failed_batches_first():
    received: list[list[int]] = []
    fail_next = threading.Event()
    fail_next.set()

    def send(batch: list[int]) -> bool:
        if fail_next.is_set():
            fail_next.clear()
            return False
        received.append(batch)
        return True

    deliverer: Deliverer[int] = Deliverer("test", send, max_batch=3, retry_delays=(0.01,), linger=0.01)
    for i in range(7):
        deliverer.put(i)
    deliverer.start()
    deadline = time.monotonic() + 5
    while deliverer.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    deliverer.stop()
    flat = [i for batch in received for i in batch]
    assert flat == list(range(7))
    assert all(len(b) <= 3 for b in received)
    assert deliverer.failed_attempts == 1
    assert deliverer.pending() == 0
