"""One run of the email events function (DESIGN S11): read the marketing email events of the
cursor's window, resolve their recipients, and create one Salesforce Task per event.

- **Reading**: every page of the window (``shared.email_events.window``); the cursor moves only after
  the whole window was handled, so a run that fails is covered again by the next one.
- **Once per event**: an event that became a task is recorded in the state table (by its id) as soon
  as its collection call answered; an event recorded is never written again. With an external-id
  field on Task (``email_events.event_id_field``), tasks are upserted by the event id, so even a
  lost state table cannot duplicate one; without it, a create whose answer was lost is looked for
  before it is sent again (``shared.adapters.salesforce``).
- **Unsynced recipients**: an event whose recipient has no link is kept (with its reason) and tried
  again on every run for ``unsynced_retry_hours``; then it is dropped. Both are counted.
- **Batches**: recipients are resolved from the link table in batches, the records' owners read 2,000
  per call, campaigns once each (cached), tasks written 200 per call.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from shared.adapters.retry import WriteSuspended
from shared.chunking import chunks
from shared.config import EmailEventsSettings
from shared.email_events.events import EmailEvent, forwards, parse_event, wanted
from shared.email_events.resolve import Target, recipients, resolve
from shared.email_events.retry import WaitingEvent, retrying
from shared.email_events.tasks import Campaign, task_fields, task_owner
from shared.email_events.window import CURSOR_NAME, Window, cursor_after, next_window
from shared.ports import Link, RecordWrite, SalesforceRecord, WriteOutcome
from shared.times import epoch_ms, utc_now

TASK = "Task"
USER = "User"
TASKS_PER_CALL = 200
DONE_KEPT = dt.timedelta(days=400)  # longer than any window a read covers again
RECORD_MISSING = "salesforce_record_missing"
TASK_FAILED = "task_failed"


class EmailEventReader(Protocol):
    def email_events(self, start_ms: int, end_ms: int) -> Iterable[list[Mapping[str, Any]]]: ...

    def email_campaign(self, campaign_id: int) -> Campaign | None: ...


class TaskWriter(Protocol):
    def create(
        self, sobject: str, writes: Sequence[RecordWrite], *, assign: bool | None = None
    ) -> list[WriteOutcome]: ...

    def upsert(
        self, sobject: str, external_field: str, writes: Sequence[RecordWrite]
    ) -> list[WriteOutcome]: ...

    def retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, SalesforceRecord]: ...

    def describe_fields(self, sobject: str) -> dict[str, Mapping[str, Any]]: ...


class EmailEventState(Protocol):
    def get_cursor(self, portal: str, name: str) -> str | None: ...

    def set_cursor(self, portal: str, name: str, value: str) -> None: ...

    def links_by_email(self, portal: str, emails: Sequence[str]) -> dict[str, Link]: ...

    def email_events_done(self, portal: str, event_ids: Sequence[str]) -> set[str]: ...

    def record_email_events_done(self, portal: str, tasks: Mapping[str, str], keep: dt.timedelta) -> None: ...

    def waiting_email_events(self, portal: str) -> list[WaitingEvent]: ...

    def keep_waiting_email_events(
        self, portal: str, events: Sequence[WaitingEvent], keep: dt.timedelta
    ) -> None: ...

    def drop_waiting_email_events(self, portal: str, event_ids: Sequence[str]) -> None: ...

    def add_counters(self, portal: str, counters: Mapping[str, int]) -> None: ...


@dataclass
class EmailEventsResult:
    read: int = 0  # events in the window
    tasks: int = 0  # tasks written this run
    already_done: int = 0  # events that had become tasks before (re-read, replayed)
    skipped: dict[str, int] = field(default_factory=dict)  # newly skipped, by reason
    waiting: int = 0  # events kept for another try
    dropped: int = 0  # events given up on (the retry window passed)

    def counters(self) -> dict[str, int]:
        out = {"email_events_read": self.read, "email_tasks_created": self.tasks}
        out |= {f"email_events_skipped_{reason}": n for reason, n in self.skipped.items()}
        out["email_events_dropped"] = self.dropped
        return {name: n for name, n in out.items() if n}


def _waiting_event(raw: str) -> EmailEvent | None:
    try:
        return EmailEvent(**json.loads(raw))
    except (TypeError, ValueError):
        return None


class EmailEventSync:
    def __init__(
        self,
        *,
        portal: str,
        settings: EmailEventsSettings,
        reader: EmailEventReader,
        salesforce: TaskWriter,
        state: EmailEventState,
        now: dt.datetime | None = None,
    ) -> None:
        self.portal = portal
        self.settings = settings
        self.reader = reader
        self.salesforce = salesforce
        self.state = state
        self.now = now or utc_now()
        self.retry_window = dt.timedelta(hours=settings.unsynced_retry_hours)

    def run(self) -> EmailEventsResult:
        """One run: the window since the cursor, and the events waiting for their recipient."""
        result = EmailEventsResult()
        window = next_window(
            self.state.get_cursor(self.portal, CURSOR_NAME),
            start=self.settings.start,
            overlap=dt.timedelta(minutes=self.settings.overlap_minutes),
            now=self.now,
        )
        events = self._read(window)
        result.read = len(events)
        waiting = {w.event_id: w for w in self.state.waiting_email_events(self.portal)}
        todo = self._todo(events, waiting.values(), result)
        resolution = resolve(todo, self.state.links_by_email(self.portal, recipients(todo)))
        owners = self._owners([target for _event, target in resolution.resolved])
        resolved: list[tuple[EmailEvent, Target]] = []
        missing: list[tuple[EmailEvent, str]] = []
        for event, target in resolution.resolved:
            if target.sf_id in owners:
                resolved.append((event, target))
            else:
                missing.append((event, RECORD_MISSING))
        failed = self._write(resolved, owners, result)
        self._settle_waiting([*resolution.skipped, *missing, *failed], waiting, resolved, result)
        self.state.set_cursor(self.portal, CURSOR_NAME, cursor_after(window))
        self.state.add_counters(self.portal, result.counters())
        return result

    def _read(self, window: Window) -> list[EmailEvent]:
        parsed: list[EmailEvent] = []
        for page in self.reader.email_events(window.start, window.end):
            parsed += [e for e in (parse_event(raw) for raw in page) if e is not None]
        return parsed

    def _todo(
        self, events: Sequence[EmailEvent], waiting: Iterable[WaitingEvent], result: EmailEventsResult
    ) -> list[EmailEvent]:
        """The wanted events of the window and those waiting, less those that became tasks."""
        chosen = wanted(events, self.settings.types, forwards(events))
        known = {e.id for e in chosen}
        for entry in waiting:
            event = _waiting_event(entry.raw)
            if event is not None and event.id not in known:
                chosen.append(event)
                known.add(event.id)
        done = self.state.email_events_done(self.portal, [e.id for e in chosen])
        result.already_done = len(done)
        return [e for e in chosen if e.id not in done]

    def _owners(self, targets: Sequence[Target]) -> dict[str, str | None]:
        """Each existing record's owner (None: one a task cannot have: a queue, an inactive user)."""
        owners: dict[str, str | None] = {}
        for sobject in sorted({t.sf_object for t in targets}):
            ids = sorted({t.sf_id for t in targets if t.sf_object == sobject})
            for record_id, record in self.salesforce.retrieve(sobject, ids, ["OwnerId"]).items():
                owners[record_id] = task_owner(record.fields.get("OwnerId"))
        users = sorted({owner for owner in owners.values() if owner is not None})
        active = {
            user_id
            for user_id, user in (
                self.salesforce.retrieve(USER, users, ["IsActive"]) if users else {}
            ).items()
            if user.fields.get("IsActive") is True
        }
        return {record_id: owner if owner in active else None for record_id, owner in owners.items()}

    def _write(
        self,
        resolved: Sequence[tuple[EmailEvent, Target]],
        owners: Mapping[str, str | None],
        result: EmailEventsResult,
    ) -> list[tuple[EmailEvent, str]]:
        """Tasks for ``resolved``, 200 per call, each recorded done once written; the failed ones."""
        if not resolved:
            return []
        campaigns = self._campaigns({e.campaign_id for e, _t in resolved if e.campaign_id is not None})
        id_field = self.settings.event_id_field
        allowed = self._allowed_fields(id_field)
        by_id = {event.id: event for event, _target in resolved}
        writes = []
        for event, target in resolved:
            campaign = campaigns.get(event.campaign_id) if event.campaign_id is not None else None
            fields = task_fields(
                event, campaign, target, owner_id=owners.get(target.sf_id), event_id_field=id_field
            )
            writes.append(RecordWrite(event.id, None, {k: v for k, v in fields.items() if k in allowed}))
        failed: list[tuple[EmailEvent, str]] = []
        for chunk in chunks(writes, TASKS_PER_CALL):
            for outcome in self._send(list(chunk), result):
                if not outcome.ok:
                    code = outcome.failure.code if outcome.failure is not None else "UNKNOWN"
                    failed.append((by_id[outcome.key], f"{TASK_FAILED}:{code}"))
        return failed

    def _send(self, writes: list[RecordWrite], result: EmailEventsResult) -> list[WriteOutcome]:
        """One collection call (or more, for retries) and the events it turned into tasks recorded."""
        id_field = self.settings.event_id_field
        try:
            if id_field:
                outcomes = self.salesforce.upsert(TASK, id_field, writes)
            else:
                outcomes = self.salesforce.create(TASK, writes, assign=False)
        except WriteSuspended as exc:  # record what was written before stopping
            self._record_done(exc.outcomes, result)
            raise
        self._record_done(outcomes, result)
        return outcomes

    def _record_done(self, outcomes: Sequence[WriteOutcome], result: EmailEventsResult) -> None:
        done = {o.key: o.record_id for o in outcomes if o.ok and o.record_id}
        if done:
            self.state.record_email_events_done(self.portal, done, DONE_KEPT)
            result.tasks += len(done)

    def _campaigns(self, ids: Iterable[int]) -> dict[int, Campaign]:
        found = {campaign_id: self.reader.email_campaign(campaign_id) for campaign_id in sorted(ids)}
        return {campaign_id: c for campaign_id, c in found.items() if c is not None}

    def _allowed_fields(self, id_field: str | None) -> set[str]:
        """The Task fields this org has (TaskSubtype needs a feature some orgs lack); upserting, only
        those an update may write too (an upsert that finds its task updates it: TaskSubtype cannot
        be updated, so it is left out)."""
        names = ["Subject", "WhoId", "ActivityDate", "Status", "Priority", "TaskSubtype", "Type"]
        names += ["Description", "OwnerId", *([id_field] if id_field else [])]
        described = self.salesforce.describe_fields(TASK)
        return {
            name
            for name in names
            if name.lower() in described
            and (id_field is None or described[name.lower()].get("updateable") is not False)
        }

    def _settle_waiting(
        self,
        skipped: Sequence[tuple[EmailEvent, str]],
        waiting: Mapping[str, WaitingEvent],
        resolved: Sequence[tuple[EmailEvent, Target]],
        result: EmailEventsResult,
    ) -> None:
        """Keep the skipped events for another try (until their window passes); forget the others."""
        keep: list[WaitingEvent] = []
        drop = [event.id for event, _target in resolved if event.id in waiting]
        now_ms = epoch_ms(self.now)
        for event, reason in skipped:
            before = waiting.get(event.id)
            first = before.first_skipped_ms if before is not None else now_ms
            if before is None:
                result.skipped[reason] = result.skipped.get(reason, 0) + 1
            if retrying(first, self.now, self.retry_window):
                keep.append(WaitingEvent(event.id, json.dumps(asdict(event)), first, reason))
            else:
                drop.append(event.id)
                result.dropped += 1
        self.state.keep_waiting_email_events(self.portal, keep, self.retry_window)
        self.state.drop_waiting_email_events(self.portal, drop)
        result.waiting = len(keep)
