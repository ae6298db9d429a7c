"""One behaviour suite for both state stores: ``MemoryState`` and ``DynamoState`` (on moto, with the
table built from template.yaml). Whatever the pipeline observes through ``StatePort`` must be the same
whichever store it runs on."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shared.accounts.creation_intents import CreationIntent
from shared.errors import ErrorCategory
from shared.intents import IntendedValue, WriteIntent
from shared.models import ACCOUNT, COMPANIES, DEALS, OPPORTUNITY
from shared.ports import (
    ClaimAsk,
    ClaimDone,
    ConfirmedClaim,
    HealthEntry,
    IntentRecord,
    Link,
    LinkCommit,
    StatePort,
)
from shared.state import DynamoState, StateTimings, keys
from tests.memory_state import MemoryState
from tests.template_tables import create_table_from_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
LEAD_1 = "00Q000000000001"  # 15 characters
LEAD_1_18 = "00Q000000000001EAA"
LEAD_2 = "00Q000000000002EAA"
CONTACT_1 = "003000000000001AAA"

Store = MemoryState | DynamoState


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class SerialisedClient:
    """Each DynamoDB request is atomic; moto evaluates a condition and then writes without a lock.
    Serialising the requests gives moto DynamoDB's guarantee, so threaded tests test our logic."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "dynamo"])
def store(
    request: pytest.FixtureRequest, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    timings = StateTimings()  # the defaults: claims 10 min, completed claims 1 day, health 30 days
    if request.param == "memory":
        yield MemoryState(timings=timings, clock=clock)
        return
    import boto3
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = create_table_from_template(client, TEMPLATE, "StateTable")
        yield DynamoState(table, SerialisedClient(client), timings=timings, clock=clock, sleep=lambda _: None)


def test_both_stores_satisfy_the_port(store: Store) -> None:
    port: StatePort = store
    assert port.counters("1") == {}


def link(hubspot_id: str = "501", sf_id: str = LEAD_1_18, portal: str = "100", **extra: Any) -> Link:
    return Link(
        portal=portal, hubspot_id=hubspot_id, sf_object=extra.pop("sf_object", "Lead"), sf_id=sf_id, **extra
    )


# links


def test_a_saved_link_is_found_from_both_sides(store: Store) -> None:
    saved = link(
        synced={"email": ("ann@example.com", "ann@example.com"), "phone": (None, ""), "company": ("", None)},
        linked_at=START,
        updated_at=START + dt.timedelta(seconds=5),
    )
    store.save_links([saved])

    assert store.links_by_hubspot("100", ["501"]) == {"501": saved}
    assert store.links_by_salesforce("100", [LEAD_1_18]) == {LEAD_1_18: saved}


def test_deleting_links_forgets_both_directions_but_not_a_record_relinked_since(store: Store) -> None:
    store.save_links([link("501", LEAD_1_18), link("502", "00Q000000000002AAA")])
    store.delete_links("100", ["501", "999"])
    assert store.links_by_hubspot("100", ["501", "502"]).keys() == {"502"}
    assert store.links_by_salesforce("100", [LEAD_1_18]) == {}
    assert store.links_by_salesforce("100", ["00Q000000000002AAA"]).keys() == {"00Q000000000002AAA"}


def test_record_statuses_keep_the_latest_reason_until_cleared(store: Store) -> None:
    store.set_statuses(
        "100", {"hubspot:contacts:1": "outside the inclusion list", "hubspot:contacts:2": "no email"}
    )
    store.set_statuses("100", {"hubspot:contacts:1": "linked Salesforce record deleted"})
    assert store.statuses("100", ["hubspot:contacts:1", "hubspot:contacts:2", "hubspot:contacts:3"]) == {
        "hubspot:contacts:1": "linked Salesforce record deleted",
        "hubspot:contacts:2": "no email",
    }
    assert store.statuses("200", ["hubspot:contacts:1"]) == {}  # namespaced by portal
    listed = store.record_statuses("100")
    assert {(s.record, s.reason) for s in listed} == {
        ("hubspot:contacts:1", "linked Salesforce record deleted"),
        ("hubspot:contacts:2", "no email"),
    }
    assert all(abs((s.at - START).total_seconds()) < 1 for s in listed)
    assert store.record_statuses("200") == []
    store.clear_statuses("100", ["hubspot:contacts:1", "hubspot:contacts:9"])
    assert store.statuses("100", ["hubspot:contacts:1", "hubspot:contacts:2"]) == {
        "hubspot:contacts:2": "no email"
    }


def test_missing_ids_are_absent_and_no_ids_is_no_links(store: Store) -> None:
    store.save_links([link()])
    assert store.links_by_hubspot("100", ["501", "999"]).keys() == {"501"}
    assert store.links_by_salesforce("100", [LEAD_2]) == {}
    assert store.links_by_hubspot("100", []) == {}
    assert store.links_by_salesforce("100", []) == {}


def test_salesforce_ids_are_stored_in_18_characters_and_found_by_either_form(store: Store) -> None:
    store.save_links([link(sf_id=LEAD_1)])

    found = store.links_by_salesforce("100", [LEAD_1, LEAD_1_18.lower()])
    assert found.keys() == {LEAD_1, LEAD_1_18.lower()}  # keyed as asked
    assert {found_link.sf_id for found_link in found.values()} == {LEAD_1_18}
    assert store.links_by_hubspot("100", ["501"])["501"].sf_id == LEAD_1_18


def test_datetimes_and_none_values_survive_a_round_trip(store: Store) -> None:
    offset = dt.timezone(dt.timedelta(hours=-5))
    saved = link(
        synced={"firstname": (None, None)}, linked_at=dt.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=offset)
    )
    store.save_links([saved])
    loaded = store.links_by_hubspot("100", ["501"])["501"]
    assert loaded.synced == {"firstname": (None, None)}
    assert loaded.linked_at == saved.linked_at
    assert loaded.linked_at is not None
    assert loaded.linked_at.utcoffset() == dt.timedelta(hours=-5)
    assert loaded.updated_at is None


def test_saving_again_replaces_the_link(store: Store) -> None:
    store.save_links([link(synced={"email": ("a@x.io", "a@x.io"), "phone": ("1", "1")})])
    store.save_links([link(synced={"email": ("b@x.io", "b@x.io")}, updated_at=START)])

    for found in (
        store.links_by_hubspot("100", ["501"])["501"],
        store.links_by_salesforce("100", [LEAD_1])[LEAD_1],
    ):
        assert found.synced == {"email": ("b@x.io", "b@x.io")}
        assert found.updated_at == START


def test_returned_links_are_copies(store: Store) -> None:
    original = link(synced={"email": ("a@x.io", "a@x.io")})
    store.save_links([original])
    original.synced["email"] = ("changed", "changed")
    loaded = store.links_by_hubspot("100", ["501"])["501"]
    loaded.synced["phone"] = ("1", "1")

    assert store.links_by_hubspot("100", ["501"])["501"].synced == {"email": ("a@x.io", "a@x.io")}


def test_links_are_namespaced_by_portal(store: Store) -> None:
    store.save_links([link(portal="100", sf_id=LEAD_1_18), link(portal="200", sf_id=LEAD_2)])

    assert store.links_by_hubspot("100", ["501"])["501"].sf_id == LEAD_1_18
    assert store.links_by_hubspot("200", ["501"])["501"].sf_id == LEAD_2
    assert store.links_by_salesforce("200", [LEAD_1_18]) == {}
    assert store.links_by_hubspot("300", ["501"]) == {}


def test_relinking_a_contact_drops_the_old_records_pointer(store: Store) -> None:
    store.save_links([link("501", LEAD_1_18)])
    store.save_links([link("501", CONTACT_1, sf_object="Contact")])  # e.g. the lead was converted

    assert store.links_by_salesforce("100", [LEAD_1_18]) == {}
    assert store.links_by_salesforce("100", [CONTACT_1])[CONTACT_1].hubspot_id == "501"
    assert store.links_by_hubspot("100", ["501"])["501"].sf_object == "Contact"


def test_relinking_a_record_drops_the_old_contacts_pointer(store: Store) -> None:
    store.save_links([link("501", LEAD_1_18)])
    store.save_links([link("502", LEAD_1_18)])  # e.g. the HubSpot contacts were merged

    assert store.links_by_hubspot("100", ["501"]) == {}
    assert store.links_by_hubspot("100", ["502"])["502"].sf_id == LEAD_1_18
    assert store.links_by_salesforce("100", [LEAD_1_18])[LEAD_1_18].hubspot_id == "502"


def test_swapping_counterparts_in_one_call_stays_one_to_one(store: Store) -> None:
    store.save_links([link("501", LEAD_1_18), link("502", LEAD_2)])
    store.save_links([link("501", LEAD_2), link("502", LEAD_1_18)])

    by_hubspot = store.links_by_hubspot("100", ["501", "502"])
    by_salesforce = store.links_by_salesforce("100", [LEAD_1_18, LEAD_2])
    assert {hs: found.sf_id for hs, found in by_hubspot.items()} == {"501": LEAD_2, "502": LEAD_1_18}
    assert {sf: found.hubspot_id for sf, found in by_salesforce.items()} == {LEAD_1_18: "502", LEAD_2: "501"}


def test_a_chain_of_relinks_across_many_links_stays_one_to_one(store: Store) -> None:
    """Shifting every contact to its neighbour's record, across more links than one round holds."""
    contacts = [str(1000 + index) for index in range(60)]
    records = [f"00Q{index:012d}" for index in range(61)]
    store.save_links([link(hubspot_id, sf_id) for hubspot_id, sf_id in zip(contacts, records, strict=False)])
    store.save_links(
        [link(hubspot_id, sf_id) for hubspot_id, sf_id in zip(contacts, records[1:], strict=True)]
    )

    by_hubspot = store.links_by_hubspot("100", contacts)
    by_salesforce = store.links_by_salesforce("100", records)
    assert {hs: found.sf_id[:15] for hs, found in by_hubspot.items()} == dict(
        zip(contacts, records[1:], strict=True)
    )
    assert {sf: found.hubspot_id for sf, found in by_salesforce.items()} == dict(
        zip(records[1:], contacts, strict=True)
    )


def test_a_call_that_links_one_id_twice_is_refused_and_writes_nothing(store: Store) -> None:
    with pytest.raises(ValueError, match="linked to two"):
        store.save_links([link("501", LEAD_1_18), link("501", LEAD_2)])
    with pytest.raises(ValueError, match="linked to two"):
        store.save_links([link("501", LEAD_1_18), link("502", LEAD_1)])
    assert store.links_by_hubspot("100", ["501", "502"]) == {}


def test_a_repeated_pair_in_one_call_keeps_the_last(store: Store) -> None:
    store.save_links([link(synced={"phone": ("1", "1")}), link(sf_id=LEAD_1, synced={"phone": ("2", "2")})])
    assert store.links_by_salesforce("100", [LEAD_1_18])[LEAD_1_18].synced == {"phone": ("2", "2")}


def test_the_same_contact_id_in_two_portals_in_one_call(store: Store) -> None:
    store.save_links([link("501", LEAD_1_18, portal="100"), link("501", LEAD_1_18, portal="200")])
    assert store.links_by_salesforce("200", [LEAD_1_18])[LEAD_1_18].portal == "200"
    assert store.links_by_salesforce("100", [LEAD_1_18])[LEAD_1_18].portal == "100"


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (lambda: link(portal="1#2"), ValueError),
        (lambda: link(hubspot_id=""), ValueError),
        (lambda: link(sf_id="not-an-id"), ValueError),
        (lambda: link(sf_object=""), ValueError),
        (lambda: link(synced={"phone": (1, None)}), TypeError),
        (lambda: link(synced={"phone": ("1",)}), TypeError),
    ],
)
def test_malformed_links_are_refused(store: Store, bad: Callable[[], Link], error: type[Exception]) -> None:
    with pytest.raises(error):
        store.save_links([link("777", LEAD_2), bad()])
    assert store.links_by_hubspot("100", ["777"]) == {}


def test_lookups_with_malformed_ids_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="Salesforce id"):
        store.links_by_salesforce("100", ["00Q1"])
    with pytest.raises(ValueError, match="portal"):
        store.links_by_hubspot("", ["501"])


# creation claims


def test_the_first_claimant_wins_and_others_see_it(store: Store) -> None:
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1") is None
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-2") == "event-1"
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1") is None  # idempotent


def test_claims_are_per_normalised_email_target_and_portal(store: Store) -> None:
    assert store.claim_creation("100", "salesforce:Lead", "  Ann@Example.COM ", "event-1") is None
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-2") == "event-1"
    assert store.claim_creation("100", "hubspot:contacts", "ann@example.com", "event-2") is None
    assert store.claim_creation("200", "salesforce:Lead", "ann@example.com", "event-2") is None
    assert store.claim_creation("100", "salesforce:Lead", "bob@example.com", "event-2") is None


def test_a_completed_claim_answers_the_created_record_to_everyone(store: Store) -> None:
    store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1")
    store.complete_claims("100", [ClaimDone("salesforce:Lead", "ANN@example.com", "event-1", LEAD_1_18)])

    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-2") == LEAD_1_18
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1") == LEAD_1_18
    store.release_claim("100", "salesforce:Lead", "ann@example.com", "event-1")  # too late: created
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-3") == LEAD_1_18


def test_claims_completed_together_each_answer_their_record_for_a_day(store: Store, clock: FakeClock) -> None:
    emails = [f"p{n}@example.com" for n in range(30)]  # more than one batch write
    for n, email in enumerate(emails):
        assert store.claim_creation("100", "hubspot:contacts", email, f"event-{n}") is None
    store.complete_claims(
        "100",
        [ClaimDone("hubspot:contacts", e.upper(), f"event-{n}", str(9000 + n)) for n, e in enumerate(emails)],
    )
    store.release_claim("100", "hubspot:contacts", emails[0], "event-0")  # too late: created
    answers = [store.claim_creation("100", "hubspot:contacts", e, "late") for e in emails]
    assert answers == [str(9000 + n) for n in range(30)]
    assert store.claim_creation("100", "salesforce:Lead", emails[0], "late") is None  # another target
    clock.advance(hours=24, seconds=1)
    assert store.claim_creation("100", "hubspot:contacts", emails[0], "late") is None


def test_completing_an_unclaimed_email_still_records_the_record(store: Store) -> None:
    store.complete_claims("100", [ClaimDone("hubspot:contacts", "ann@example.com", "event-0", "9001")])
    assert store.claim_creation("100", "hubspot:contacts", "ann@example.com", "event-1") == "9001"


def test_only_the_holder_releases_a_claim(store: Store) -> None:
    store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1")
    store.release_claim("100", "salesforce:Lead", "ann@example.com", "event-2")
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-3") == "event-1"

    store.release_claim("100", "salesforce:Lead", "ann@example.com", "event-1")
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-3") is None
    store.release_claim("100", "salesforce:Lead", "nobody@example.com", "event-3")  # nothing to release


def test_a_crashed_holders_claim_can_be_retaken_after_its_ttl(store: Store, clock: FakeClock) -> None:
    store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1")
    clock.advance(minutes=10)
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-2") == "event-1"
    clock.advance(seconds=1)
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-2") is None
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1") == "event-2"


def test_reclaiming_refreshes_the_holders_ttl(store: Store, clock: FakeClock) -> None:
    store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1")
    clock.advance(minutes=9)
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1") is None
    clock.advance(minutes=9)
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-2") == "event-1"


def test_confirming_claims_answers_as_claiming_them_again(store: Store, clock: FakeClock) -> None:
    target = "salesforce:Lead"
    held, short, taken, done, free = (ClaimAsk(target, f"{n}@example.com", "event-1") for n in "abcde")
    for ask in (held, short, taken, done):
        store.claim_creation("100", target, ask.email, "event-1" if ask is not taken else "event-2")
    store.complete_claims("100", [ClaimDone(target, done.email, "event-1", LEAD_1_18)])
    clock.advance(minutes=4)
    store.claim_creation("100", target, held.email, "event-1")  # renewed: 10 minutes left
    clock.advance(minutes=1)
    answers = store.confirm_claims(
        "100", [held, short, taken, done, free], for_at_least=dt.timedelta(minutes=6)
    )
    assert answers == {held: None, short: None, taken: "event-2", done: LEAD_1_18, free: None}
    # a claim held long enough is left as it was; one held too briefly was claimed again, like a
    # free one, for the claim's whole time
    clock.advance(minutes=6)
    assert store.claim_creation("100", target, held.email, "event-3") == "event-1"  # 3 minutes left
    clock.advance(minutes=3, seconds=1)
    assert store.claim_creation("100", target, held.email, "event-3") is None  # expired: not renewed
    assert store.claim_creation("100", target, short.email, "event-3") == "event-1"  # renewed at 5 min
    assert store.claim_creation("100", target, free.email, "event-3") == "event-1"


def test_a_completed_claim_is_remembered_for_a_day(store: Store, clock: FakeClock) -> None:
    store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-1")
    store.complete_claims("100", [ClaimDone("salesforce:Lead", "ann@example.com", "event-1", LEAD_1_18)])
    clock.advance(hours=23)
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-2") == LEAD_1_18
    clock.advance(hours=1, seconds=1)
    assert store.claim_creation("100", "salesforce:Lead", "ann@example.com", "event-2") is None


def test_a_claim_needs_an_email_and_a_claimant(store: Store) -> None:
    with pytest.raises(ValueError, match="email"):
        store.claim_creation("100", "salesforce:Lead", "  ", "event-1")
    with pytest.raises(ValueError, match="claimant"):
        store.claim_creation("100", "salesforce:Lead", "ann@example.com", "")


def test_concurrent_claims_for_one_email_have_exactly_one_winner(store: Store) -> None:
    claimants = [f"event-{index}" for index in range(16)]
    barrier = threading.Barrier(len(claimants))

    def claim(claimant: str) -> str | None:
        barrier.wait()
        return store.claim_creation("100", "salesforce:Lead", "Race@Example.com", claimant)

    with ThreadPoolExecutor(max_workers=len(claimants)) as pool:
        results = list(pool.map(claim, claimants))

    winners = [claimant for claimant, result in zip(claimants, results, strict=True) if result is None]
    assert len(winners) == 1
    assert all(result == winners[0] for result in results if result is not None)


# creation intents (company pairs: shared.accounts.creation_intents)

COMPANY = "hubspot:companies"  # a company created for an Account, claimed by the Account's id


def _creating(clock: FakeClock, name: str = "Acme", lease_seconds: float = 60) -> CreationIntent:
    return CreationIntent({"name": name}, clock.now, clock.now + dt.timedelta(seconds=lease_seconds))


def test_a_claim_with_an_intent_is_a_claim(store: Store, clock: FakeClock) -> None:
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-1") == ConfirmedClaim(None)
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-2", _creating(clock)).holder == "event-1"
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-1", _creating(clock)) == ConfirmedClaim(
        None
    )
    store.complete_claims("100", [ClaimDone(COMPANY, CONTACT_1, "event-1", "9001")])
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-3").holder == "9001"


def test_a_handed_back_claim_is_free_and_keeps_its_intent_until_a_create_completes(
    store: Store, clock: FakeClock
) -> None:
    intent = _creating(clock)
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-1", intent).earlier is None
    store.hand_back_creation("100", COMPANY, CONTACT_1, "event-2", intent.ended(clock.now))  # not its claim
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-2").holder == "event-1"
    store.hand_back_creation("100", COMPANY, CONTACT_1, "event-1", intent.ended(clock.now))
    clock.advance(seconds=10)
    # taken again by another change (dedupe), then confirmed with a new intent (apply): the earlier one
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-2") == ConfirmedClaim(
        None, intent.ended(START)
    )
    later = _creating(clock, "Acme Inc")
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-2", later) == ConfirmedClaim(
        None, intent.ended(START)
    )
    store.complete_claims("100", [ClaimDone(COMPANY, CONTACT_1, "event-2", "9001")])
    store.hand_back_creation("100", COMPANY, CONTACT_1, "event-2", later)  # completed: nothing
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-4", later).holder == "9001"


def test_an_intent_in_its_lease_makes_the_same_claimant_wait(store: Store, clock: FakeClock) -> None:
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-1", _creating(clock)).holder is None
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-1", _creating(clock)).holder == "event-1"
    clock.advance(seconds=61)  # the lease is over (an invocation that died): its intent is answered
    confirmed = store.claim_with_intent("100", COMPANY, CONTACT_1, "event-1", _creating(clock))
    assert confirmed.holder is None
    assert confirmed.earlier is not None
    assert confirmed.earlier.since == START


def test_an_intent_is_kept_a_day(store: Store, clock: FakeClock) -> None:
    store.claim_with_intent("100", COMPANY, CONTACT_1, "event-1", _creating(clock))
    store.hand_back_creation("100", COMPANY, CONTACT_1, "event-1", _creating(clock).ended(clock.now))
    clock.advance(hours=24, seconds=1)
    assert store.claim_with_intent("100", COMPANY, CONTACT_1, "event-2") == ConfirmedClaim(None)


# cursors


def test_cursors(store: Store) -> None:
    assert store.get_cursor("100", "hubspot:contacts") is None
    store.set_cursor("100", "hubspot:contacts", "2026-03-01T12:00:00.000Z")
    store.set_cursor("100", "salesforce:Lead", "2026-02-01T00:00:00.000Z")
    store.set_cursor("100", "hubspot:contacts", "2026-03-01T12:05:00.000Z")

    assert store.get_cursor("100", "hubspot:contacts") == "2026-03-01T12:05:00.000Z"
    assert store.get_cursor("100", "salesforce:Lead") == "2026-02-01T00:00:00.000Z"
    assert store.get_cursor("200", "hubspot:contacts") is None


# sync health


def entry(
    record: str = "salesforce:Lead:00Q1",
    code: str = "STRING_TOO_LONG",
    category: ErrorCategory = ErrorCategory.PROPERTY_VALUES,
    at: dt.datetime = START,
    message: str = "Last Name: data value too large",
    portal: str = "100",
) -> HealthEntry:
    return HealthEntry(
        portal=portal,
        system=record.split(":")[0],
        record=record,
        category=category,
        code=code,
        message=message,
        at=at,
        resync=f"hssync resync {record}",
    )


def test_health_is_newest_first(store: Store) -> None:
    older = entry("salesforce:Lead:00Q1", at=START)
    newer = entry("hubspot:contacts:7", code="INVALID_EMAIL", at=START + dt.timedelta(minutes=1))
    newest = entry(
        "salesforce:Lead:00Q2",
        code="DUPLICATES_DETECTED",
        category=ErrorCategory.DUPLICATES,
        at=START + dt.timedelta(minutes=2),
    )
    store.record_health([newer, older])
    store.record_health([newest])

    assert store.health("100") == [newest, newer, older]
    assert store.health("200") == []


def test_one_entry_per_record_and_code_with_a_count(store: Store) -> None:
    first = entry(at=START, message="first")
    second = entry(at=START + dt.timedelta(minutes=1), message="second")
    third = entry(at=START + dt.timedelta(minutes=2), message="third")
    other_code = entry(code="REQUIRED_FIELD_MISSING", at=START)
    store.record_health([first, other_code])
    store.record_health([second, third])

    assert store.health("100") == [third, other_code]
    summaries = {summary.entry.code: summary for summary in store.health_summaries("100")}
    assert summaries["STRING_TOO_LONG"].count == 3
    assert summaries["STRING_TOO_LONG"].first_at == START
    assert summaries["REQUIRED_FIELD_MISSING"].count == 1


def test_health_per_category(store: Store) -> None:
    duplicate = entry(code="DUPLICATES_DETECTED", category=ErrorCategory.DUPLICATES)
    too_long = entry()
    store.record_health([duplicate, too_long])

    assert store.health("100", ErrorCategory.DUPLICATES) == [duplicate]
    assert store.health("100", ErrorCategory.PROPERTY_VALUES) == [too_long]
    assert store.health("100", ErrorCategory.PERMISSIONS) == []


def test_health_entries_expire_after_their_ttl_and_then_start_afresh(store: Store, clock: FakeClock) -> None:
    store.record_health([entry(at=START)])
    clock.advance(days=30)
    assert len(store.health("100")) == 1
    clock.advance(seconds=1)
    assert store.health("100") == []

    again = entry(at=clock.now, message="again")
    store.record_health([again])
    [summary] = store.health_summaries("100")
    assert (summary.entry, summary.count, summary.first_at) == (again, 1, clock.now)


def test_health_clears_per_record_in_every_category_and_portal_apart(store: Store) -> None:
    lead = "salesforce:Lead:00Q1"
    store.record_health(
        [
            entry(lead),
            entry(lead, code="DUPLICATES_DETECTED", category=ErrorCategory.DUPLICATES),
            entry("hubspot:contacts:7", code="INVALID_EMAIL"),
            entry(lead, portal="200"),
        ]
    )
    store.clear_health("100", {lead: ["lastname"], "hubspot:contacts:404": []})
    assert [e.record for e in store.health("100")] == ["hubspot:contacts:7"]
    assert [e.record for e in store.health("200")] == [lead]
    store.record_health([entry(lead, message="again")])  # a new failure after the clear
    assert {e.message for e in store.health("100")} == {"again", "Last Name: data value too large"}
    store.clear_health("100", {lead: []})
    assert [e.record for e in store.health("100")] == ["hubspot:contacts:7"]


def test_an_entry_about_fields_clears_only_when_they_are_written(store: Store) -> None:
    refused = replace(entry("hubspot:contacts:7"), fields=("Title",))
    owner = replace(
        entry("hubspot:contacts:7", code="OWNER", category=ErrorCategory.OWNERS), fields=("OwnerId",)
    )
    store.record_health([refused, owner])
    assert {e.fields for e in store.health("100")} == {("Title",), ("OwnerId",)}  # kept as recorded
    store.clear_health("100", {"hubspot:contacts:7": ["Phone"]})  # another field: both stay
    assert len(store.health("100")) == 2
    store.clear_health("100", {"hubspot:contacts:7": ["Phone", "Title"]})
    assert store.health("100") == [owner]
    again = replace(owner, fields=(), message="about nothing in particular now")
    store.record_health([again])  # an occurrence without fields replaces the recorded ones
    assert store.health("100") == [again]


def test_health_entries_are_many(store: Store) -> None:
    entries = [
        entry(f"hubspot:contacts:{index}", at=START + dt.timedelta(seconds=index)) for index in range(60)
    ]
    store.record_health(entries)
    assert store.health("100") == entries[::-1]


# counters


def test_counters_accumulate_per_portal(store: Store) -> None:
    store.add_counters("100", {"hs_to_sf.created": 3, "sf_to_hs.echo skipped": 1})
    store.add_counters("100", {"hs_to_sf.created": 2, "errors": 1})
    store.add_counters("100", {})
    store.add_counters("200", {"hs_to_sf.created": 7})

    assert store.counters("100") == {"hs_to_sf.created": 5, "sf_to_hs.echo skipped": 1, "errors": 1}
    assert store.counters("200") == {"hs_to_sf.created": 7}
    assert store.counters("300") == {}


def test_counters_are_atomic_under_concurrency(store: Store) -> None:
    def bump(_: int) -> None:
        store.add_counters("100", {"hs_to_sf.updated": 1, "sf_to_hs.updated": 2})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(bump, range(40)))
    assert store.counters("100") == {"hs_to_sf.updated": 40, "sf_to_hs.updated": 80}


def test_same_email_duplicates_of_a_link_survive_a_round_trip(store: Store) -> None:
    store.save_links([link(duplicates=("Contact:003000000000001AAA", "Lead:00Q000000000002AAA"))])
    loaded = store.links_by_hubspot("100", ["501"])["501"]
    assert loaded.duplicates == ("Contact:003000000000001AAA", "Lead:00Q000000000002AAA")
    assert store.links_by_salesforce("100", [LEAD_1])[LEAD_1].duplicates == loaded.duplicates


# write intents and revisions (shared.intents)


def _intent(plan: str, until: dt.datetime) -> WriteIntent:
    return WriteIntent(plan, until, {"jobtitle": IntendedValue("salesforce", "U40", "U40")})


def test_each_recorded_change_is_a_new_revision_and_an_unchanged_save_is_not(store: Store) -> None:
    store.save_links([link(synced={"jobtitle": ("A", "A")})])
    assert store.links_by_hubspot("100", ["501"])["501"].rev == 1
    store.save_links([link(synced={"jobtitle": ("A", "A")})])
    assert store.links_by_hubspot("100", ["501"])["501"].rev == 1
    store.save_links([link(synced={"jobtitle": ("B", "B")})])
    assert store.links_by_hubspot("100", ["501"])["501"].rev == 2


def test_an_intent_is_recorded_only_on_the_revision_it_was_decided_on(store: Store, clock: FakeClock) -> None:
    store.save_links([link()])
    until = clock.now + dt.timedelta(minutes=3)
    assert store.record_intents("100", [IntentRecord("501", 0, _intent("p1", until))]) == {"501"}
    assert store.record_intents("100", [IntentRecord("999", 1, _intent("p1", until))]) == {"999"}
    assert store.record_intents("100", [IntentRecord("501", 1, _intent("p1", until))]) == set()
    found = store.links_by_hubspot("100", ["501"])["501"]
    assert found.intent == _intent("p1", until)
    assert store.links_by_salesforce("100", [LEAD_1_18])[LEAD_1_18].intent == found.intent


def test_a_live_intent_keeps_other_plans_out_until_its_lease_ends(store: Store, clock: FakeClock) -> None:
    store.save_links([link()])
    until = clock.now + dt.timedelta(minutes=3)
    assert store.record_intents("100", [IntentRecord("501", 1, _intent("p1", until))]) == set()
    # another plan on the same revision: neither its intent nor its link
    assert store.record_intents("100", [IntentRecord("501", 1, _intent("p2", until))]) == {"501"}
    assert store.commit_links([LinkCommit(link(synced={"x": ("1", "1")}), "p2", 1)]) == {"501"}
    assert store.commit_links([LinkCommit(link(synced={"x": ("1", "1")}), "p2", None)]) == {"501"}
    # the holder itself may record again (a redelivery) and end its lease
    assert store.record_intents("100", [IntentRecord("501", 1, _intent("p1", clock.now))]) == set()
    assert store.record_intents("100", [IntentRecord("501", 1, _intent("p2", until))]) == set()
    clock.advance(minutes=4)
    # an expired lease keeps the intent (for recognition) but no longer keeps anyone out
    assert store.commit_links([LinkCommit(link(synced={"x": ("2", "2")}), "p3", 1)]) == set()
    saved = store.links_by_hubspot("100", ["501"])["501"]
    assert (saved.rev, saved.intent, saved.synced) == (2, None, {"x": ("2", "2")})


def test_a_link_is_committed_only_on_the_revision_it_was_decided_on(store: Store, clock: FakeClock) -> None:
    assert store.commit_links([LinkCommit(link(synced={"a": ("1", "1")}), "p1", None)]) == set()
    assert store.links_by_hubspot("100", ["501"])["501"].rev == 1
    # a plan decided on revision 1 commits once; one decided on it too, later, is refused
    assert store.commit_links([LinkCommit(link(synced={"a": ("2", "2")}), "p2", 1)]) == set()
    assert store.commit_links([LinkCommit(link(synced={"a": ("3", "3")}), "p3", 1)]) == {"501"}
    assert store.links_by_hubspot("100", ["501"])["501"].synced == {"a": ("2", "2")}
    # a plan decided with no link: neither its intent check nor its link once one is stored
    assert store.record_intents("100", [IntentRecord("501", None, _intent("p5", clock.now))]) == {"501"}
    assert store.commit_links([LinkCommit(link(synced={"a": ("4", "4")}), "p5", None)]) == {"501"}
    assert store.record_intents("100", [IntentRecord("502", None, _intent("p5", clock.now))]) == set()
    assert store.links_by_hubspot("100", ["502"]) == {}
    # refused links leave no pointer behind
    assert store.commit_links([LinkCommit(link("777", synced={}), "p4", 5)]) == {"777"}
    assert store.links_by_salesforce("100", [LEAD_1_18])[LEAD_1_18].hubspot_id == "501"


def test_an_intent_for_a_link_not_stored_yet_is_accepted_at_revision_0_only(
    store: Store, clock: FakeClock
) -> None:
    until = clock.now + dt.timedelta(minutes=3)
    # a link moving to a merge's surviving contact has no item yet: nothing to guard, nothing stored
    assert store.record_intents("100", [IntentRecord("888", 0, _intent("p1", until))]) == set()
    assert store.links_by_hubspot("100", ["888"]) == {}
    assert store.record_intents("100", [IntentRecord("888", 2, _intent("p1", until))]) == {"888"}


# webhook requests received (replay protection)


def test_a_webhook_request_is_received_once_until_it_expires(store: Store, clock: FakeClock) -> None:
    expires = clock() + dt.timedelta(minutes=6)
    assert store.first_receipt("100", "abc", expires) is True
    assert store.first_receipt("100", "abc", expires) is False  # a copy
    assert store.first_receipt("100", "abd", expires) is True  # another request
    assert store.first_receipt("200", "abc", expires) is True  # another portal's
    clock.advance(minutes=7)  # past its expiry: no copy of it could verify any more
    assert store.first_receipt("100", "abc", clock() + dt.timedelta(minutes=6)) is True


# company links (a HubSpot company <-> a Salesforce Account): their own id space beside the contact
# links, found from both sides, moved, committed, guarded and forgotten the same way

PORTAL = "100"
ACCOUNT_1 = "001000000000001"  # 15 characters
ACCOUNT_1_18 = "001000000000001AAA"
ACCOUNT_2 = "001000000000002AAA"


def company_link(company_id: str = "501", account_id: str = ACCOUNT_1_18, **extra: object) -> Link:
    return Link(portal=PORTAL, hubspot_id=company_id, sf_object=ACCOUNT, sf_id=account_id, **extra)  # type: ignore[arg-type]


def test_the_keys_of_company_links_are_apart_from_those_of_contact_links() -> None:
    assert keys.link_by_hubspot("1", "501", COMPANIES) == ("P#1#CO#501", "LINK")
    assert keys.link_by_salesforce("1", ACCOUNT_1, COMPANIES) == (f"P#1#ACCT#{ACCOUNT_1_18}", "LINK")
    assert keys.link_by_hubspot("1", "501") == ("P#1#HS#501", "LINK")
    assert keys.hubspot_company_key("501") == "hubspot:companies:501"


def test_a_company_link_is_found_from_both_sides_and_only_as_a_company_link(store: Store) -> None:
    saved = company_link(synced={"name": ("Acme", "Acme")}, linked_at=START)
    store.save_links([saved], kind=COMPANIES)
    assert store.links_by_hubspot(PORTAL, ["501"], kind=COMPANIES) == {"501": saved}
    assert store.links_by_salesforce(PORTAL, [ACCOUNT_1], kind=COMPANIES) == {ACCOUNT_1: saved}
    # contact 501 is another record than company 501
    assert store.links_by_hubspot(PORTAL, ["501"]) == {}
    assert store.links_by_salesforce(PORTAL, [ACCOUNT_1]) == {}


def test_the_same_ids_can_be_a_contact_link_and_a_company_link(store: Store) -> None:
    # a person account: its Account is linked to a company, and contact 501 to the person's Contact
    person = Link(portal=PORTAL, hubspot_id="501", sf_object="Contact", sf_id=CONTACT_1)
    company = company_link("501", ACCOUNT_1_18)
    store.save_links([person])
    store.save_links([company], kind=COMPANIES)
    assert store.links_by_hubspot(PORTAL, ["501"]) == {"501": person}
    assert store.links_by_hubspot(PORTAL, ["501"], kind=COMPANIES) == {"501": company}
    store.delete_links(PORTAL, ["501"], kind=COMPANIES)
    assert store.links_by_hubspot(PORTAL, ["501"], kind=COMPANIES) == {}
    assert store.links_by_salesforce(PORTAL, [ACCOUNT_1], kind=COMPANIES) == {}
    assert store.links_by_hubspot(PORTAL, ["501"]) == {"501": person}


def test_a_company_link_moved_to_a_surviving_account_leaves_nothing_of_the_old_one(store: Store) -> None:
    store.save_links([company_link("501", ACCOUNT_1_18)], kind=COMPANIES)
    store.save_links([company_link("501", ACCOUNT_2)], kind=COMPANIES)
    assert store.links_by_salesforce(PORTAL, [ACCOUNT_1_18, ACCOUNT_2], kind=COMPANIES) == {
        ACCOUNT_2: company_link("501", ACCOUNT_2)
    }
    # a merge of companies: the Account's link moves to the surviving company
    store.save_links([company_link("777", ACCOUNT_2)], kind=COMPANIES)
    assert store.links_by_hubspot(PORTAL, ["501", "777"], kind=COMPANIES) == {
        "777": company_link("777", ACCOUNT_2)
    }


def test_company_links_are_committed_and_guarded_by_their_revision_and_intents(
    store: Store,
    clock: FakeClock,
) -> None:
    store.save_links([company_link(synced={"name": ("A", "A")})], kind=COMPANIES)
    (stored,) = store.links_by_hubspot(PORTAL, ["501"], kind=COMPANIES).values()
    intent = WriteIntent(
        plan_id="p1",
        lease_until=clock.now + dt.timedelta(minutes=1),
        values={"name": IntendedValue("salesforce", "B", "B")},
    )
    assert store.record_intents(PORTAL, [IntentRecord("501", stored.rev, intent)], kind=COMPANIES) == set()
    # another plan decided on the same revision is refused while the intent lives
    other = LinkCommit(company_link(synced={"name": ("C", "C")}), "p2", stored.rev)
    assert store.commit_links([other], kind=COMPANIES) == {"501"}
    mine = LinkCommit(company_link(synced={"name": ("B", "B")}), "p1", stored.rev)
    assert store.commit_links([mine], kind=COMPANIES) == set()
    (after,) = store.links_by_hubspot(PORTAL, ["501"], kind=COMPANIES).values()
    assert after.synced == {"name": ("B", "B")}
    assert after.rev == stored.rev + 1
    # the contact link of the same HubSpot id knows nothing of it
    assert store.record_intents(PORTAL, [IntentRecord("501", 1, intent)]) == {"501"}


OPPORTUNITY_1 = "006000000000001"  # 15 characters
OPPORTUNITY_1_18 = "006000000000001AAA"


def deal_link(deal_id: str = "9000001", opportunity_id: str = OPPORTUNITY_1_18, **extra: object) -> Link:
    return Link(portal=PORTAL, hubspot_id=deal_id, sf_object=OPPORTUNITY, sf_id=opportunity_id, **extra)  # type: ignore[arg-type]


def test_the_keys_of_deal_links_are_apart_from_those_of_contact_and_company_links() -> None:
    assert keys.link_by_hubspot("1", "501", DEALS) == ("P#1#DEAL#501", "LINK")
    assert keys.link_by_salesforce("1", OPPORTUNITY_1, DEALS) == (f"P#1#OPP#{OPPORTUNITY_1_18}", "LINK")
    assert keys.hubspot_deal_key("501") == "hubspot:deals:501"


def test_a_deal_link_is_found_from_both_sides_and_only_as_a_deal_link(store: Store) -> None:
    saved = deal_link("501", synced={"dealname": ("Big", "Big")}, linked_at=START)
    store.save_links([saved], kind=DEALS)
    assert store.links_by_hubspot(PORTAL, ["501"], kind=DEALS) == {"501": saved}
    assert store.links_by_salesforce(PORTAL, [OPPORTUNITY_1], kind=DEALS) == {OPPORTUNITY_1: saved}
    # contact 501 and company 501 are other records than deal 501
    assert store.links_by_hubspot(PORTAL, ["501"]) == {}
    assert store.links_by_hubspot(PORTAL, ["501"], kind=COMPANIES) == {}
    store.delete_links(PORTAL, ["501"], kind=DEALS)
    assert store.links_by_hubspot(PORTAL, ["501"], kind=DEALS) == {}
    assert store.links_by_salesforce(PORTAL, [OPPORTUNITY_1], kind=DEALS) == {}
