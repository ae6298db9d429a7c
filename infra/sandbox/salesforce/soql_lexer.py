"""Tokens of a SOQL statement, each with its offset in the text for error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from infra.sandbox.salesforce.soql_model import SoqlError, located_error
from infra.sandbox.salesforce.soql_values import datetime_key

IDENT = "ident"
STRING = "string"
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
OP = "op"
PUNCT = "punct"
BIND = "bind"
EOF = "eof"

# Escape sequences allowed in a SOQL string literal, and what they stand for.
STRING_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "%",
    "_": "_",
}

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(?:Z|[+-]\d{2}:?\d{2})(?![0-9A-Za-z])"
)
_DATETIME_START_RE = re.compile(r"\d{4}-\d{2}-\d{2}T")
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![0-9A-Za-z.:-])")
_NUMBER_RE = re.compile(r"[+-]?\d+(?:\.\d+)?(?![0-9A-Za-z_.])")
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")
_PUNCTUATION = "(),.:"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str  # as written in the query
    pos: int  # offset of the first character in the query
    value: object = None  # decoded value: str for strings, dates and datetimes; int/float for numbers

    def keyword(self) -> str:
        """The token upper-cased when it is a word (keywords are case-insensitive), else ''."""
        return self.text.upper() if self.kind == IDENT else ""

    def quoted(self) -> str:
        """The token as Salesforce names it in ``unexpected token: '...'``."""
        return "<EOF>" if self.kind == EOF else self.text


def tokenize(soql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    length = len(soql)
    while pos < length:
        char = soql[pos]
        if char.isspace():
            pos += 1
            continue
        if char == "'":
            token = _string(soql, pos)
        elif char.isdigit() or (char in "+-" and _signed_number_allowed(tokens, soql, pos)):
            token = _number_or_date(soql, pos)
        elif char.isalpha() or char == "_":
            match = _IDENT_RE.match(soql, pos)
            assert match is not None
            token = Token(IDENT, match.group(), pos)
        elif char == ":" and pos + 1 < length and (soql[pos + 1].isalpha() or soql[pos + 1] == "_"):
            match = _IDENT_RE.match(soql, pos + 1)
            assert match is not None
            token = Token(BIND, ":" + match.group(), pos)
        else:
            token = _operator_or_punctuation(soql, pos)
        tokens.append(token)
        pos = token.pos + len(token.text)
    tokens.append(Token(EOF, "", length))
    return tokens


def _signed_number_allowed(tokens: list[Token], soql: str, pos: int) -> bool:
    """A sign starts a number only where a value is expected (after an operator, '(' or ',')."""
    if pos + 1 >= len(soql) or not soql[pos + 1].isdigit() or not tokens:
        return False
    previous = tokens[-1]
    return previous.kind == OP or (previous.kind == PUNCT and previous.text in "(,")


def _no_viable(soql: str, pos: int) -> SoqlError:
    char = soql[pos] if pos < len(soql) else "<EOF>"
    row = soql.count("\n", 0, pos) + 1
    column = pos - (soql.rfind("\n", 0, pos) + 1) + 1
    return located_error(
        soql, pos, "MALFORMED_QUERY", f"line {row}:{column} no viable alternative at character '{char}'"
    )


def _string(soql: str, start: int) -> Token:
    pos = start + 1
    chars: list[str] = []
    while pos < len(soql):
        char = soql[pos]
        if char == "'":
            return Token(STRING, soql[start : pos + 1], start, "".join(chars))
        if char == "\\":
            escaped = soql[pos + 1 : pos + 2]
            if escaped not in STRING_ESCAPES:
                literal = soql[start : pos + 2]
                raise located_error(
                    soql,
                    start,
                    "MALFORMED_QUERY",
                    f"Invalid string literal '{literal[1:]}'. Illegal character sequence "
                    f"'\\{escaped}' in string literal.",
                )
            chars.append(STRING_ESCAPES[escaped])
            pos += 2
            continue
        chars.append(char)
        pos += 1
    row = soql.count("\n", 0, len(soql)) + 1
    column = len(soql) - (soql.rfind("\n") + 1) + 1
    raise located_error(
        soql, len(soql), "MALFORMED_QUERY", f"line {row}:{column} mismatched character '<EOF>' expecting '''"
    )


def _number_or_date(soql: str, start: int) -> Token:
    match = _DATETIME_RE.match(soql, start)
    if match:
        _check_calendar(soql, start, match.group(1), match.group(2), match.group(3))
        hour, minute, second = int(match.group(4)), int(match.group(5)), int(match.group(6))
        key = datetime_key(match.group())
        if hour > 23 or minute > 59 or second > 59 or key is None:
            raise located_error(soql, start, "MALFORMED_QUERY", f"Invalid datetime: {match.group()}")
        return Token(DATETIME, match.group(), start, key)
    if _DATETIME_START_RE.match(soql, start):
        # A datetime without a valid time zone ("+" arrives as a space when not URL-encoded).
        end = start + 11
        while end < len(soql) and (soql[end].isalnum() or soql[end] in ":."):
            end += 1
        raise _no_viable(soql, end)
    match = _DATE_RE.match(soql, start)
    if match:
        _check_calendar(soql, start, match.group(1), match.group(2), match.group(3))
        return Token(DATE, match.group(), start, match.group())
    match = _NUMBER_RE.match(soql, start)
    if match is None:
        end = start + 1
        while end < len(soql) and soql[end].isdigit():
            end += 1
        raise _no_viable(soql, end)
    text = match.group()
    value: int | float = float(text) if "." in text else int(text)
    return Token(NUMBER, text, start, value)


def _check_calendar(soql: str, pos: int, year: str, month: str, day: str) -> None:
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        raise located_error(soql, pos, "MALFORMED_QUERY", f"Invalid date: {year}-{month}-{day}") from None


def _operator_or_punctuation(soql: str, pos: int) -> Token:
    for operator in _OPERATORS:
        if soql.startswith(operator, pos):
            return Token(OP, operator, pos)
    if soql[pos] in _PUNCTUATION:
        return Token(PUNCT, soql[pos], pos)
    raise _no_viable(soql, pos)
