"""Org settings the sandbox can change (``POST /_sandbox/settings``) and the rules they configure.

Validation rules are declarative; each entry of ``validation_rules`` is one of::

    {"object": "Lead", "field": "Title", "equals": "TEST", "message": "..."}
    {"object": "Lead", "field": "Email", "matches": ".*@blocked\\\\.example$", "message": "..."}
    {"object": "Lead", "field": "Phone", "required_when": {"field": "Status",
                                                           "equals": "Working - Contacted"},
     "message": "..."}

``equals``/``matches`` refuse a record whose field has that value (``matches``: a full regex match,
case-insensitive); ``required_when`` refuses a record whose field is blank while the other field
equals the value. ``"at_field": true`` reports the error on the field (``fields: [field]``), as a
rule whose error location is the field does; otherwise ``fields`` is empty (top of page).
The error is ``FIELD_CUSTOM_VALIDATION_EXCEPTION`` with the rule's message.

``duplicate_rule`` is ``false`` (off), ``true`` (Lead and Contact) or a list of object names: an
active, blocking duplicate rule matching records of the same object by email, case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from infra.sandbox.salesforce.schema import DEFAULT_CUSTOM_FIELDS

API_EDITIONS = frozenset({"Enterprise", "Unlimited", "Performance", "Developer"})
EDITIONS = API_EDITIONS | {"Professional", "Group", "Essentials"}


@dataclass(frozen=True)
class ValidationRule:
    object: str
    field: str
    message: str
    equals: Any = None
    matches: str | None = None
    required_when: tuple[str, Any] | None = None
    at_field: bool = False
    name: str = ""

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> ValidationRule:
        for key in ("object", "field", "message"):
            if not spec.get(key):
                raise ValueError(f"validation rule needs {key!r}: {dict(spec)}")
        kinds = [k for k in ("equals", "matches", "required_when") if k in spec]
        if len(kinds) != 1:
            raise ValueError(
                f"validation rule needs exactly one of equals/matches/required_when: {dict(spec)}"
            )
        when = spec.get("required_when")
        if when is not None and not (isinstance(when, Mapping) and "field" in when and "equals" in when):
            raise ValueError("required_when needs {'field': ..., 'equals': ...}")
        if spec.get("matches") is not None:
            re.compile(str(spec["matches"]))
        return cls(
            object=str(spec["object"]),
            field=str(spec["field"]),
            message=str(spec["message"]),
            equals=spec.get("equals"),
            matches=str(spec["matches"]) if spec.get("matches") is not None else None,
            required_when=(str(when["field"]), when["equals"]) if when is not None else None,
            at_field=bool(spec.get("at_field", False)),
            name=str(spec.get("name", "")),
        )

    def violated(self, record: Mapping[str, Any]) -> bool:
        value = record.get(self.field)
        if self.required_when is not None:
            other, expected = self.required_when
            return value in (None, "") and record.get(other) == expected
        if self.matches is not None:
            return value is not None and re.fullmatch(self.matches, str(value), re.IGNORECASE) is not None
        return value is not None and value == self.equals

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"object": self.object, "field": self.field, "message": self.message}
        if self.required_when is not None:
            out["required_when"] = {"field": self.required_when[0], "equals": self.required_when[1]}
        elif self.matches is not None:
            out["matches"] = self.matches
        else:
            out["equals"] = self.equals
        if self.at_field:
            out["at_field"] = True
        if self.name:
            out["name"] = self.name
        return out


# the daily API limit of a large production org (Unlimited Edition, a few hundred licences), as the
# demo and the e2e tests run it: a Developer Edition's 15,000 would have hssync's adaptive batching
# ration a person's quick edits (shared.pacing), which those runs do not mean to show
LARGE_ORG_DAILY_API_LIMIT = 1_000_000


@dataclass
class OrgSettings:
    edition: str = "Enterprise"
    api_enabled: bool | None = None  # None: what the edition gives
    person_accounts: bool = False
    # the active lead assignment rule: API-created leads go to this user or queue (Sforce-Auto-Assign)
    lead_assignment_owner: str | None = None
    daily_api_limit: int = 15000
    duplicate_rule: list[str] = field(default_factory=list)
    validation_rules: list[ValidationRule] = field(default_factory=list)
    custom_fields: list[dict[str, Any]] = field(
        default_factory=lambda: [dict(f) for f in DEFAULT_CUSTOM_FIELDS]
    )

    @property
    def api_access(self) -> bool:
        return self.api_enabled if self.api_enabled is not None else self.edition in API_EDITIONS

    def update(self, body: Mapping[str, Any]) -> None:
        """Apply a partial settings body; ValueError (nothing changed) when a value is invalid."""
        known = {
            "edition", "api_enabled", "person_accounts", "daily_api_limit", "duplicate_rule",
            "validation_rules", "custom_fields", "api_usage", "lead_assignment_owner",
        }  # fmt: skip
        unknown = set(body) - known
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(known)}")
        edition = str(body.get("edition", self.edition))
        if edition not in EDITIONS:
            raise ValueError(f"edition must be one of {sorted(EDITIONS)}")
        limit = int(body.get("daily_api_limit", self.daily_api_limit))
        if limit < 1:
            raise ValueError("daily_api_limit must be positive")
        rules = (
            [ValidationRule.parse(r) for r in body["validation_rules"]]
            if "validation_rules" in body
            else self.validation_rules
        )
        dup = body.get("duplicate_rule", self.duplicate_rule)
        dup_objects = ["Lead", "Contact"] if dup is True else [] if dup in (False, None) else list(dup)
        if any(o not in ("Lead", "Contact") for o in dup_objects):
            raise ValueError("duplicate_rule applies to Lead and/or Contact")
        custom = body.get("custom_fields", self.custom_fields)
        if not isinstance(custom, list) or not all(isinstance(c, Mapping) for c in custom):
            raise ValueError("custom_fields must be a list of field definitions")
        self.edition = edition
        if "api_enabled" in body:
            self.api_enabled = None if body["api_enabled"] is None else bool(body["api_enabled"])
        self.person_accounts = bool(body.get("person_accounts", self.person_accounts))
        self.daily_api_limit = limit
        self.validation_rules = rules
        self.duplicate_rule = dup_objects
        self.custom_fields = [dict(c) for c in custom]
        if "lead_assignment_owner" in body:
            owner = body["lead_assignment_owner"]
            self.lead_assignment_owner = str(owner) if owner else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["validation_rules"] = [r.as_dict() for r in self.validation_rules]
        out["api_access"] = self.api_access
        return out
