"""Salesforce record ids: their shape, their canonical 18-character form and their key prefixes.

A Salesforce id is 15 or 18 ASCII letters and digits. The 15-character form is case-sensitive:
``001A0000006Vm9r`` and ``001a0000006Vm9r`` are different records. The 18-character form appends
three checksum characters, one per block of five, each encoding which of those five characters are
upper-case letters; with them the id survives case-insensitive handling, so the suffix *is* the
case of the first fifteen: ``001a0000006vm9riac`` and ``001A0000006Vm9rIAC`` are the same record.

:func:`salesforce_id18` is the one normalisation every part of hssync uses (state keys, the
adapter's records and writes, the pipeline's comparisons): a 15-character id gets its suffix; an
18-character id gets the case its suffix encodes (the suffix in upper case); anything else, and a
suffix that flags a digit as upper case, is a ``ValueError``.
"""

from __future__ import annotations

from shared.models import CONTACT, LEAD, SfObject

CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# the key prefix (the first three characters of an id) of each synced object
SALESFORCE_KEY_PREFIXES: dict[str, SfObject] = {"00Q": LEAD, "003": CONTACT}
# the key prefix of each kind of owner of synced records (as sync health names them)
OWNER_KEY_PREFIXES: dict[str, str] = {"005": "User", "00G": "Group"}
# the key prefix of Accounts (account sync: a company's counterpart)
ACCOUNT_KEY_PREFIX = "001"
# the key prefix of Opportunities (deal sync: a deal's counterpart)
OPPORTUNITY_KEY_PREFIX = "006"


def looks_like_salesforce_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id: 15 or 18 ASCII letters and digits."""
    return len(value) in (15, 18) and value.isascii() and value.isalnum()


def salesforce_id18(value: str) -> str:
    """The canonical 18-character form of a Salesforce id given in 15 or 18 characters."""
    if not looks_like_salesforce_id(value):
        raise ValueError(f"not a Salesforce id: {value!r}")
    if len(value) == 15:
        return value + checksum(value)
    suffix = value[15:].upper()
    chars = list(value[:15])
    for block, letter in enumerate(suffix):
        flags = CHECKSUM_ALPHABET.find(letter)
        if flags < 0:
            raise ValueError(f"not a Salesforce id (bad checksum character): {value!r}")
        for position in range(5):
            index = block * 5 + position
            upper = bool(flags & (1 << position))
            if upper and not chars[index].isalpha():
                raise ValueError(f"not a Salesforce id (checksum does not match): {value!r}")
            chars[index] = chars[index].upper() if upper else chars[index].lower()
    return "".join(chars) + suffix


def salesforce_id18_or_none(value: str) -> str | None:
    """:func:`salesforce_id18`, or None for a value that is not a Salesforce id."""
    try:
        return salesforce_id18(value)
    except ValueError:
        return None


def checksum(id15: str) -> str:
    """The three suffix characters of a 15-character id (its case, five characters at a time)."""
    suffix = ""
    for block in range(3):
        flags = 0
        for position, char in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= char <= "Z":
                flags |= 1 << position
        suffix += CHECKSUM_ALPHABET[flags]
    return suffix
