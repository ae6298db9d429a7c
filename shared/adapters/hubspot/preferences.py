"""Communication preferences: opting addresses out of all email, and reading whether they are.

``unsubscribe_from_all``: communication preferences v4 ``POST .../statuses/{email}/unsubscribe-all``
(channel ``EMAIL``), one call per distinct address: the batch form (``statuses/batch/unsubscribe-all``)
needs Marketing Hub Enterprise scopes. An address that had already opted out is a success.
``unsubscribed_from_all`` reads ``hs_email_optout`` (HubSpot's reflection of the opt-out) by batch
read by email, 100 per call, and asks the v4 ``GET .../unsubscribe-all`` status only for addresses
without a contact. HubSpot updates the property shortly after an opt-out, so a read right after
``unsubscribe_from_all`` may lag.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from shared.adapters.hubspot.errors import error_failure, invalid_email, retries_spent
from shared.adapters.hubspot.objects import HubSpotObjects
from shared.adapters.hubspot.parse import already_opted_out
from shared.adapters.hubspot.transport import COMM_PREFS
from shared.adapters.retry import RequestRejected, WriteSuspended
from shared.errors import ApiFailure, SuspendedError, TransientApiError
from shared.matching import normalize_email
from shared.ports import WriteOutcome

OPTOUT = "hs_email_optout"
UNSUBSCRIBE_ALL = "/communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all"


class HubSpotPreferences(HubSpotObjects):
    def unsubscribe_from_all(self, emails: Sequence[str]) -> list[WriteOutcome]:
        """Opts each address out of all email (v4 ``unsubscribe-all``, channel EMAIL); ``record_id``
        is the normalised address. Already opted out is a success; failures are per address."""
        settled: dict[str, ApiFailure | None] = {}
        out: list[WriteOutcome] = []
        try:
            for raw in emails:
                email = normalize_email(raw)
                if not email or "@" not in email:
                    failure: ApiFailure | None = invalid_email(raw)
                else:
                    if email not in settled:
                        settled[email] = self._unsubscribe_one(email)
                    failure = settled[email]
                out.append(WriteOutcome(str(raw), None if failure else email, failure))
        except SuspendedError as exc:
            raise WriteSuspended(exc, out) from exc
        return out

    def unsubscribed_from_all(self, emails: Sequence[str]) -> dict[str, bool]:
        """Whether each address has opted out of all email, keyed by normalised address."""
        wanted = sorted({e for e in (normalize_email(x) for x in emails) if e})
        found = self.contacts_by_email([e for e in wanted if "@" in e], [OPTOUT])
        status = {e: (c.properties.get(OPTOUT) or "").strip().lower() == "true" for e, c in found.items()}
        for email in wanted:
            if email not in status:
                status[email] = "@" in email and self._opted_out_of_all(email)
        return {email: status[email] for email in wanted}

    def _unsubscribe_one(self, email: str) -> ApiFailure | None:
        """Opt one address out of all email; None when it is (now or already) opted out."""
        call = partial(
            self._raw,
            COMM_PREFS,
            "POST",
            UNSUBSCRIBE_ALL,
            path_params={"subscriberIdString": email},
            query=[("channel", "EMAIL")],
        )
        try:
            answer = self._read("unsubscribe_all", call, package=COMM_PREFS) or {}
        except RequestRejected as exc:
            return None if already_opted_out(exc.failure.message) else exc.failure
        except TransientApiError as exc:
            return retries_spent(exc)
        for error in answer.get("errors") or ():
            message = str(error.get("message") or "")
            if not already_opted_out(message):
                return error_failure(error.get("category"), message)
        return None

    def _opted_out_of_all(self, email: str) -> bool:
        """The v4 wide status of one address: opted out of all email (on any brand) or not."""
        call = partial(
            self._raw,
            COMM_PREFS,
            "GET",
            UNSUBSCRIBE_ALL,
            path_params={"subscriberIdString": email},
            query=[("channel", "EMAIL")],
        )
        answer = self._read("unsubscribe_all_status", call, package=COMM_PREFS) or {}
        return any(
            str(r.get("status")) == "UNSUBSCRIBED" and str(r.get("channel") or "EMAIL") == "EMAIL"
            for r in answer.get("results") or ()
        )
