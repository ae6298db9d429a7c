"""Issue 11, privacy: no function writes a person's email address to its log.

Records with tricky addresses (a backslash, unicode local parts and domains, an RFC 5322 quoted
local part, every special an unquoted local part may hold) are synced through the stack; those
Salesforce refuses become sync-health entries whose reasons name the address, which the apply
function logs. Then every function's log of the session so far (this test's and those of the tests
before it in this process) goes through an address detector: nothing of a local part but its first
character is left, and no at-sign with a domain follows anything but the mask.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from tests.e2e.conftest import World

# accepted by HubSpot, refused by Salesforce (INVALID_EMAIL_ADDRESS): each becomes a logged health line
REFUSED_BY_SALESFORCE = (
    "o'brien\\61540@example.com",  # issue 11's: was logged as o'brien\\6***@example.com
    "jörg.müller@bücher.example",
    '"john..doe"@example.com',
    "用户名@例子.广告",
)
# accepted by both: these sync both ways
SYNCED = (
    "a!#$%&'*+/=?^_`{|}~-zed@example.com",
    "grace.hopper+navy=1@example.com",
)
# parts of those local parts no other log line holds: none may appear, in any form
FRAGMENTS = ("brien", "61540", "örg", "müller", "john..", "..doe", "户名", "~-zed", "hopper", "navy=1")
MASKED_REASON = "o***@example.com"  # the first refused address, as the apply function logs it
# an at-sign with a dotted domain right after something that is not the mask: an address in the clear
UNMASKED = re.compile(r"(?<=[^\s*])(?:@|%40|\uff20|\ufe6b)(?:[\w-]+\.)+[\w-]+", re.IGNORECASE)
LOG_WAIT = 10.0  # the runtime copies a worker's output to its log file as it comes


# what a log line holds that is random and never an address (X-Ray trace ids, request ids, epoch
# milliseconds, durations): left out of the search, where a digit fragment could match by chance
RANDOM_IDS = re.compile(
    r"1-[0-9a-f]{8}-[0-9a-f]{24}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\"Timestamp\":\d+"
    r"|(?:Billed )?Duration: [\d.]+ ms"
)


def _log_text(log_dir: Path) -> str:
    text = "".join(path.read_text(encoding="utf-8") for path in sorted(log_dir.glob("*.log")))
    return RANDOM_IDS.sub("<random>", text)


def _forms(fragment: str) -> set[str]:
    """A fragment as a log line may hold it: as written, or escaped in a JSON string."""
    return {fragment, *(json.dumps(fragment, ensure_ascii=a)[1:-1] for a in (True, False))}


def test_no_function_logs_an_email_address(world: World) -> None:
    log_dir = world.stack.log_dir
    assert log_dir is not None, "the e2e stack writes its functions' logs to files"
    for n, email in enumerate(REFUSED_BY_SALESFORCE):
        world.hubspot_create(email=email, lastname=f"Refused{n}")
    hubspot_synced = world.hubspot_create(email=SYNCED[0], lastname="Specials")
    world.salesforce_create("Lead", LastName="Admiral", Company="Fleet", Email=SYNCED[1])
    world.settle()

    # the path that leaked: Salesforce refused the addresses, and the apply function said why
    assert len([e for e in world.health() if e.code == "INVALID_EMAIL_ADDRESS"]) == len(REFUSED_BY_SALESFORCE)
    link = world.link_of(hubspot_synced)
    assert link is not None
    assert world.hubspot_with_email(SYNCED[1])
    deadline = time.monotonic() + LOG_WAIT
    while MASKED_REASON not in (text := _log_text(log_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)

    assert text.strip(), "the functions logged nothing: this test would find nothing either"
    lowered = text.lower()
    assert [f for fragment in FRAGMENTS for f in _forms(fragment) if f in lowered] == []
    clear = [text[max(m.start() - 40, 0) : m.end()] for m in UNMASKED.finditer(text)]
    assert clear == [], "addresses in the clear in the functions' logs"
    assert MASKED_REASON in text, "the sync-health line of a refused address was not logged (masked)"
