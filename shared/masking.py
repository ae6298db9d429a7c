"""Email addresses out of log lines: the one masking rule every log line goes through.

The rule is conservative rather than a parser: wherever an at-sign (``@``, or a form of it seen in
logged text: ``%40``, ``%2540``, ``\\u0040``, ``&#64;``, the fullwidth and small at-signs) is
followed by a domain, everything of the run of characters before it (the local part: up to a space,
a delimiter no address has unquoted, or the start) except its first character is masked, whatever
it contains: RFC 5322 quoted local parts (``"john doe"@example.com``), backslashes, unicode letters,
escapes. The domain stays, so a log line still says which organisation a record belongs to:
``o'brien\\61540@example.com`` -> ``o***@example.com``.

Masking text that is itself JSON (a serialized log line) keeps it valid JSON: a local part that
begins with an escape sequence keeps the whole sequence as its first character, and the masked run
never extends past an unescaped quote.
"""

from __future__ import annotations

import re

MASK = "***"

_AT = (
    r"(?:@|\uff20|\ufe6b|%40|%2540|\\+u0040|\\+uff20|\\+ufe6b"
    r"|&#0*64;|&#x0*40;|&commat;)"
)
_DOT = r"(?:\.|%2e|\u3002|\uff0e|\uff61|\\+u(?:002e|3002|ff0e|ff61))"
# a domain label: letters and digits of any script, hyphens, percent- and backslash-escapes
_LABEL = r"(?:[\w-]|%[0-9a-f]{2}|\\+u[0-9a-f]{4})+"
_AT_DOMAIN = re.compile(rf"{_AT}(?:{_LABEL}(?:{_DOT}{_LABEL})+|\[[^\]\s]+\])", re.IGNORECASE)
# characters an unquoted local part never holds (RFC 5322 specials but the comment parentheses, which
# it may hold), and which delimit it in logged text
_STOPS = frozenset('"<>[],;:')
_QUOTE_REACH = 256  # how far back a quoted local part is looked for (RFC 5321: 64 octets, escaped)
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)", re.DOTALL)


def mask_emails(text: str) -> str:
    """Each email address's local part but its first character masked: ``a***@example.com``."""
    out: list[str] = []
    copied = 0  # text[:copied] is in out
    floor = 0  # the end of the previous address: a local part starts after it
    for match in _AT_DOMAIN.finditer(text):
        at = match.start()
        start = _local_part_start(text, at, floor)
        floor = match.end()
        if not text[start:at].strip("*"):
            continue  # no local part (a mention, a decorator), or one masked already
        out += [text[copied:start], _head(text, start, at), MASK]
        copied = at
    out.append(text[copied:])
    return "".join(out)


def _local_part_start(text: str, at: int, floor: int) -> int:
    start = at
    if start > floor and text[start - 1] == '"':
        start = _opening_quote(text, start - 1, floor)
    while start > floor and not _delimits(text[start - 1]):
        start -= 1
    return start


def _delimits(char: str) -> bool:
    return char.isspace() or char in _STOPS


def _opening_quote(text: str, closing: int, floor: int) -> int:
    """Where the quoted local part ending at ``closing`` opens: the nearest quote escaped as the
    closing one is. In plain text both are unescaped (an even run of backslashes before them) and an
    inner quote is escaped (odd); serialized as a JSON string, a plain-text quote preceded by r
    backslashes becomes one preceded by 2r+1 (1 mod 4 when unescaped, 3 when escaped). Found none in
    reach: the local part is taken to start at the closing quote."""
    reach = max(floor, closing - _QUOTE_REACH)
    serialized = _backslashes_before(text, closing, reach) % 2 == 1
    quote = text.rfind('"', reach, closing)
    while quote >= reach:
        run = _backslashes_before(text, quote, reach)
        if (run % 4 == 1) if serialized else (run % 2 == 0):
            return quote
        quote = text.rfind('"', reach, quote)
    return closing


def _backslashes_before(text: str, index: int, reach: int) -> int:
    count = 0
    while index - count - 1 >= reach and text[index - count - 1] == "\\":
        count += 1
    return count


def _head(text: str, start: int, at: int) -> str:
    """The first character of a local part; a whole escape sequence when it begins with one."""
    escape = _ESCAPE.match(text, start, at)
    return escape.group() if escape else text[start]
