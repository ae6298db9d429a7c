"""The association changes of one batch that are hssync's own writes coming back
(``shared.accounts.own_associations``): gathered per contact as the part takes them, recognised
with one read of the company links (the state table), never a CRM read."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from shared.accounts.own_associations import is_own_association
from shared.models import COMPANIES, ChangeEvent
from shared.pipeline.dedupe.accounts.tools import AccountTools
from shared.pipeline.dedupe.echo import ECHO
from shared.pipeline.dedupe.outcome import Decision, Skip
from shared.state.keys import hubspot_record_key


class OwnAssociations:
    def __init__(self) -> None:
        self.added: dict[str, list[tuple[str, ChangeEvent]]] = {}  # contact -> (company, change)
        self.other: set[str] = set()  # contacts with another kind of association change

    def note(self, contact: str, event: ChangeEvent) -> None:
        """An association change of ``contact``: an added company is a candidate echo."""
        company = _company_of(event)
        if event.association_removed or company is None:
            self.other.add(contact)
        else:
            self.added.setdefault(contact, []).append((company, event))

    def answer(self, tools: AccountTools, moved: MutableMapping[str, ChangeEvent]) -> Iterator[Decision]:
        """Skips the contacts of ``moved`` whose every association change this batch is hssync's
        own, and takes them out of ``moved``."""
        candidates = {c: added for c, added in self.added.items() if c in moved and c not in self.other}
        if not candidates:
            return
        links = tools.links_of_companies(sorted({co for added in candidates.values() for co, _ in added}))
        for contact, added in candidates.items():
            if all(is_own_association(links.get(co), contact, e.occurred_at) for co, e in added):
                del moved[contact]
                yield Skip(ECHO, hubspot_record_key(contact))


def _company_of(event: ChangeEvent) -> str | None:
    """The company of a contact <-> company association change (from either side)."""
    if event.object_type == COMPANIES:
        return event.record_id
    return event.related_ids[0] if event.related_ids else None
