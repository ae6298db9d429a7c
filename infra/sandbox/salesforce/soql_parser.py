"""SOQL text -> :class:`Query`, with names resolved against the schema and literals type-checked.

Everything outside the supported subset fails with ``MALFORMED_QUERY`` rather than being guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from infra.sandbox.salesforce import soql_values as values
from infra.sandbox.salesforce.soql_ast import (
    Comparison,
    Condition,
    FieldRef,
    Junction,
    Negation,
    Operand,
    OrderItem,
    ProjectedChildren,
    ProjectedField,
    ProjectedParent,
    Projection,
    Query,
)
from infra.sandbox.salesforce.soql_lexer import (
    BIND,
    DATE,
    DATETIME,
    EOF,
    IDENT,
    NUMBER,
    OP,
    PUNCT,
    STRING,
    STRING_ESCAPES,
    Token,
    tokenize,
)
from infra.sandbox.salesforce.soql_model import FieldMeta, SoqlError, SoqlSchema, located_error

MAX_OFFSET = 2000

# Words that end a SELECT list or a WHERE clause, or that cannot name a field.
_RESERVED = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "NULL",
        "TRUE",
        "FALSE",
        "IN",
        "LIKE",
        "INCLUDES",
        "EXCLUDES",
        "ORDER",
        "GROUP",
        "HAVING",
        "LIMIT",
        "OFFSET",
        "WITH",
        "USING",
        "FOR",
        "TYPEOF",
    }
)

# Clauses of real SOQL this engine refuses, by the word that starts them.
_UNSUPPORTED_CLAUSES = {
    "USING": "USING SCOPE",
    "WITH": "WITH",
    "GROUP": "GROUP BY",
    "HAVING": "HAVING",
    "FOR": "FOR VIEW/REFERENCE/UPDATE",
    "UPDATE": "UPDATE TRACKING/VIEWSTAT",
    "ALL": "ALL ROWS",
}

_COMPARISON_OPS = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_ORDERING_OPS = frozenset({"<", ">", "<=", ">="})
_LIST_OPS = frozenset({"IN", "NOT_IN", "INCLUDES", "EXCLUDES"})


@dataclass(frozen=True)
class _Literal:
    token: Token
    kind: str  # string number date datetime boolean null dateword
    value: object = None
    n: int = 0


@dataclass(frozen=True)
class _SelectItem:
    kind: str  # path, count or subquery
    token: Token  # where the item starts
    parts: list[Token] = field(default_factory=list)  # path: its names
    start: int = 0  # subquery: index of the token after its "("


def parse(soql: str, schema: SoqlSchema) -> Query:
    """Parse ``soql`` and resolve its names against ``schema``; raises :class:`SoqlError`."""
    if not soql or not soql.strip():
        raise SoqlError("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    return _Parser(soql, schema).top_query()


class _Parser:
    def __init__(self, soql: str, schema: SoqlSchema) -> None:
        self.soql = soql
        self.schema = schema
        self.tokens = tokenize(soql)
        self.index = 0
        self.last_from = self.tokens[-1]  # the object token of the query parsed last

    # --- token helpers -------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.peek().keyword() in words

    def at_punct(self, char: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == PUNCT and token.text == char

    def expect_keyword(self, word: str) -> Token:
        if not self.at_keyword(word):
            raise self.unexpected(self.peek())
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if not self.at_punct(char):
            raise self.unexpected(self.peek())
        return self.advance()

    def error(self, token: Token, code: str, text: str) -> SoqlError:
        return located_error(self.soql, token.pos, code, text)

    def unexpected(self, token: Token) -> SoqlError:
        if token.kind == BIND:
            return self.error(token, "MALFORMED_QUERY", "Bind variables only allowed in Apex code")
        return self.error(token, "MALFORMED_QUERY", f"unexpected token: '{token.quoted()}'")

    def unsupported(self, token: Token, what: str) -> SoqlError:
        return self.error(token, "MALFORMED_QUERY", f"{what} is not supported by the hssync sandbox")

    # --- query structure -----------------------------------------------------------------------

    def top_query(self) -> Query:
        query = self.query(parent=None)
        if self.peek().kind != EOF:
            raise self.unexpected(self.peek())
        return query

    def query(self, parent: str | None) -> Query:
        """``SELECT ... FROM ...`` and its clauses; ``parent`` is the outer object for a subquery."""
        self.expect_keyword("SELECT")
        items = self.select_items(subquery=parent is not None)
        self.expect_keyword("FROM")
        sobject_token = self.peek()
        if sobject_token.kind != IDENT or sobject_token.keyword() in _RESERVED - {"GROUP", "ORDER"}:
            raise self.unexpected(sobject_token)
        self.advance()
        self.last_from = sobject_token
        sobject, parent_field = self.resolve_from(sobject_token, parent)
        if self.peek().kind == IDENT and self.peek().keyword() not in (
            *_UNSUPPORTED_CLAUSES,
            "WHERE",
            "ORDER",
            "LIMIT",
            "OFFSET",
        ):
            raise self.unsupported(self.peek(), "An alias of the FROM object")
        query = Query(soql=self.soql, sobject=sobject, projection=Projection(), parent_field=parent_field)
        self.fill_projection(query, items)
        self.refuse_clause("USING")
        if self.at_keyword("WHERE"):
            self.advance()
            query.where = self.condition(sobject)
        for word in ("WITH", "GROUP", "HAVING"):
            self.refuse_clause(word)
        if self.at_keyword("ORDER"):
            self.advance()
            self.expect_keyword("BY")
            query.order_by = self.order_by(sobject)
        if self.at_keyword("LIMIT"):
            self.advance()
            query.limit = self.count_value()
        if self.at_keyword("OFFSET"):
            offset_token = self.advance()
            if parent is not None:
                raise self.unsupported(offset_token, "OFFSET in a subquery")
            query.offset = self.count_value()
            if query.offset > MAX_OFFSET:
                raise SoqlError(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"Maximum SOQL offset allowed for apiName {sobject} is {MAX_OFFSET}",
                )
        for word in ("FOR", "UPDATE", "ALL"):
            self.refuse_clause(word)
        return query

    def refuse_clause(self, word: str) -> None:
        if self.at_keyword(word):
            raise self.unsupported(self.peek(), _UNSUPPORTED_CLAUSES[word])

    def resolve_from(self, token: Token, parent: str | None) -> tuple[str, str | None]:
        if parent is None:
            sobject = self.schema.sobject(token.text)
            if sobject is None:
                raise self.error(
                    token,
                    "INVALID_TYPE",
                    f"sObject type '{token.text}' is not supported. If you are attempting to use a "
                    "custom object, be sure to append the '__c' after the entity name. Please "
                    "reference your WSDL or the describe call for the appropriate names.",
                )
            return sobject, None
        child = self.schema.child_relationship(parent, token.text)
        if child is None:
            raise self.error(
                token,
                "INVALID_TYPE",
                f"Didn't understand relationship '{token.text}' in FROM part of query call. If you are "
                "attempting to use a custom relationship, be sure to append the '__r' after the custom "
                "relationship name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )
        return child

    def count_value(self) -> int:
        token = self.peek()
        if token.kind != NUMBER or not isinstance(token.value, int) or token.value < 0:
            raise self.unexpected(token)
        self.advance()
        if token.value > 2**31 - 1:
            raise self.error(token, "MALFORMED_QUERY", f"numeric value out of range: {token.text}")
        return token.value

    # --- SELECT list ---------------------------------------------------------------------------

    def select_items(self, *, subquery: bool) -> list[_SelectItem]:
        """The SELECT list as written; it is resolved once FROM has named the object."""
        items: list[_SelectItem] = []
        while True:
            token = self.peek()
            if self.at_punct("("):
                if subquery:
                    raise self.unsupported(token, "A subquery inside a subquery")
                self.advance()
                items.append(_SelectItem("subquery", token, start=self.index))
                self.skip_parenthesised()
            elif token.keyword() == "TYPEOF":
                raise self.unsupported(token, "TYPEOF")
            elif token.kind == IDENT and self.at_punct("(", 1):
                self.count_function(token, subquery=subquery)
                items.append(_SelectItem("count", token))
            elif token.kind == IDENT and token.keyword() not in _RESERVED:
                items.append(_SelectItem("path", token, parts=self.path_tokens()))
            else:
                raise self.unexpected(token)
            if not self.at_punct(","):
                break
            self.advance()
        counts = [item for item in items if item.kind == "count"]
        if counts and len(items) > 1:
            raise self.error(
                counts[0].token, "MALFORMED_QUERY", "COUNT() must be the only element of the SELECT list"
            )
        return items

    def count_function(self, name: Token, *, subquery: bool) -> None:
        """``COUNT()``, the one function this engine knows; any other function is refused."""
        if name.keyword() != "COUNT" or not self.at_punct(")", 2):
            label = "FIELDS()" if name.keyword() == "FIELDS" else f"The function {name.text}()"
            raise self.unsupported(name, label)
        if subquery:
            raise self.unsupported(name, "COUNT() in a subquery")
        self.index += 3

    def skip_parenthesised(self) -> None:
        depth = 1
        while depth:
            token = self.advance()
            if token.kind == EOF:
                raise self.unexpected(token)
            if token.kind == PUNCT and token.text in "()":
                depth += 1 if token.text == "(" else -1

    def path_tokens(self) -> list[Token]:
        parts = [self.advance()]
        while self.at_punct(".") and self.peek(1).kind == IDENT:
            self.advance()
            parts.append(self.advance())
        if self.at_punct("."):
            raise self.unexpected(self.peek(1))
        return parts

    def fill_projection(self, query: Query, items: list[_SelectItem]) -> None:
        selected: set[tuple[str, ...]] = set()  # result keys, to refuse a field selected twice
        for item in items:
            if item.kind == "count":
                query.count_only = True
            elif item.kind == "subquery":
                resume = self.index
                self.index = item.start
                child = self.query(parent=query.sobject)
                self.expect_punct(")")
                self.index = resume
                name = self.last_from.text
                if (name.lower(),) in selected:
                    raise SoqlError("INVALID_FIELD", f"duplicate field selected: {name}")
                selected.add((name.lower(),))
                query.projection.items.append(ProjectedChildren(name, child))
            else:
                ref = self.resolve_path(query.sobject, item.parts)
                if ref.key in selected:
                    written = ".".join(part.text for part in item.parts)
                    raise SoqlError("INVALID_FIELD", f"duplicate field selected: {written}")
                selected.add(ref.key)
                _project(query.projection, ref)

    # --- field paths ---------------------------------------------------------------------------

    def resolve_path(self, sobject: str, parts: list[Token]) -> FieldRef:
        names = [part.text for part in parts]
        if (
            len(names) > 1
            and names[0].lower() == sobject.lower()
            and self.schema.parent_relationship(sobject, names[0]) is None
        ):
            names = names[1:]  # "Lead.Email" FROM Lead: the object's own name may prefix a path
        targets: tuple[str, ...] = (sobject,)
        hops: list[FieldMeta] = []
        for name in names[:-1]:
            lookup = _first(self.schema.parent_relationship(target, name) for target in targets)
            if lookup is None or not lookup.reference_to:
                raise self.error(
                    parts[0],
                    "INVALID_FIELD",
                    f"Didn't understand relationship '{name}' in field path. If you are attempting to "
                    "use a custom relationship, be sure to append the '__r' after the custom "
                    "relationship name. Please reference your WSDL or the describe call for the "
                    "appropriate names.",
                )
            hops.append(lookup)
            targets = lookup.reference_to
        meta = _first(self.schema.field(target, names[-1]) for target in targets)
        if meta is None:
            entity = targets[0] if len(targets) == 1 else "Name"
            raise self.error(
                parts[0],
                "INVALID_FIELD",
                f"No such column '{names[-1]}' on entity '{entity}'. If you are attempting to use a "
                "custom field, be sure to append the '__c' after the custom field name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        return FieldRef(tuple(hops), meta, values.field_kind(meta.type) or "")

    # --- WHERE ---------------------------------------------------------------------------------

    def condition(self, sobject: str) -> Condition:
        terms = [self.term(sobject)]
        junction = ""
        while self.at_keyword("AND", "OR"):
            word = self.peek().keyword()
            if junction and word != junction:
                # SOQL requires parentheses wherever AND and OR meet.
                raise self.unexpected(self.peek())
            junction = word
            self.advance()
            terms.append(self.term(sobject))
        return Junction(junction, tuple(terms)) if junction else terms[0]

    def term(self, sobject: str) -> Condition:
        if self.at_keyword("NOT"):
            self.advance()
            return Negation(self.term(sobject))
        if self.at_punct("("):
            self.advance()
            inner = self.condition(sobject)
            self.expect_punct(")")
            return inner
        return self.comparison(sobject)

    def comparison(self, sobject: str) -> Comparison:
        start = self.peek()
        if start.kind != IDENT or start.keyword() in _RESERVED:
            raise self.unexpected(start)
        if self.at_punct("(", 1):
            raise self.unsupported(start, f"The function {start.text}()")
        ref = self.resolve_path(sobject, self.path_tokens())
        name = ref.field.name
        if not ref.kind and ref.field.type.lower() not in values.NEVER_FILTERABLE:
            raise self.unsupported(start, f"Filtering on a field of type {ref.field.type}")
        if not ref.kind or not ref.field.filterable:
            raise self.error(start, "INVALID_FIELD", f"field '{name}' can not be filtered in a query call")
        op = self.operator()
        self.check_operator(start, ref, op)
        literals = self.literal_list() if op in _LIST_OPS else [self.literal()]
        operands = tuple(self.operand(start, ref, op, literal) for literal in literals)
        pattern = None
        if op == "LIKE":
            pattern = values.like_regex(literals[0].token.text[1:-1], STRING_ESCAPES)
        return Comparison(ref, op, operands, pattern)

    def operator(self) -> str:
        token = self.peek()
        if token.kind == OP:
            self.advance()
            return _COMPARISON_OPS[token.text]
        word = token.keyword()
        if word in ("IN", "LIKE", "INCLUDES", "EXCLUDES"):
            self.advance()
            return word
        if word == "NOT" and self.peek(1).keyword() == "IN":
            self.index += 2
            return "NOT_IN"
        raise self.unexpected(token)

    def check_operator(self, start: Token, ref: FieldRef, op: str) -> None:
        kind = ref.kind
        if op in ("INCLUDES", "EXCLUDES"):
            if kind != values.MULTIPICKLIST:
                raise self.error(
                    start,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    "includes or excludes operator only valid on multipicklist field",
                )
            return
        invalid = (op == "LIKE" and kind != values.TEXT) or (
            op in _ORDERING_OPS and kind in (values.BOOLEAN, values.MULTIPICKLIST)
        )
        if invalid:
            raise self.error(
                start, "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on {ref.field.type.lower()} field"
            )

    def literal_list(self) -> list[_Literal]:
        self.expect_punct("(")
        if self.at_keyword("SELECT"):
            raise self.unsupported(self.peek(), "A semi-join or anti-join (IN (SELECT ...))")
        literals = [self.literal()]
        while self.at_punct(","):
            self.advance()
            literals.append(self.literal())
        self.expect_punct(")")
        return literals

    def literal(self) -> _Literal:
        token = self.peek()
        if token.kind in (STRING, NUMBER, DATE, DATETIME):
            self.advance()
            return _Literal(token, token.kind, token.value)
        word = token.keyword()
        if word == "NULL":
            self.advance()
            return _Literal(token, "null")
        if word in ("TRUE", "FALSE"):
            self.advance()
            return _Literal(token, "boolean", word == "TRUE")
        if word in values.DATE_WORDS:
            self.advance()
            n = 0
            if values.DATE_WORDS[word]:
                self.expect_punct(":")
                number = self.peek()
                if number.kind != NUMBER or not isinstance(number.value, int) or number.value < 0:
                    raise self.unexpected(number)
                self.advance()
                n = number.value
            return _Literal(token, "dateword", word, n)
        if word in values.UNSUPPORTED_DATE_WORDS:
            raise self.unsupported(token, f"The date literal {word}")
        raise self.unexpected(token)

    def operand(self, start: Token, ref: FieldRef, op: str, literal: _Literal) -> Operand:
        """The literal in the normal form of the field's kind; a mismatch fails as Salesforce does."""
        kind = ref.kind
        if literal.kind == "null":
            if op in ("LIKE", "INCLUDES", "EXCLUDES"):
                raise self.type_mismatch(start, ref)
            return Operand(None)
        if kind in (values.TEXT, values.ID, values.MULTIPICKLIST):
            if literal.kind != "string":
                raise self.type_mismatch(start, ref)
            assert isinstance(literal.value, str)
            text = literal.value
            if not text:
                return Operand(None)  # Salesforce stores no empty strings: '' is null
            if kind == values.TEXT:
                return Operand(text if op == "LIKE" else text.lower())
            if kind == values.MULTIPICKLIST:
                return Operand(values.multipicklist_set(text))
            if not values.is_valid_id(text):
                raise self.error(literal.token, "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {text}")
            return Operand(text[:15])
        expected = {
            values.BOOLEAN: ("boolean",),
            values.NUMBER: ("number",),
            values.DATE: ("date", "dateword"),
            values.DATETIME: ("datetime", "dateword"),
        }[kind]
        if literal.kind not in expected:
            raise self.type_mismatch(start, ref)
        if literal.kind == "dateword":
            assert isinstance(literal.value, str)
            return Operand(None, literal.value, literal.n)
        return Operand(literal.value)

    def type_mismatch(self, start: Token, ref: FieldRef) -> SoqlError:
        kind = ref.kind
        quoting = "should be" if values.quoted_kind(kind) else "should not be"
        return self.error(
            start,
            "INVALID_FIELD",
            f"value of filter criterion for field '{ref.field.name}' must be of type "
            f"{values.filter_type_name(kind, ref.field.type)} and {quoting} enclosed in quotes",
        )

    # --- ORDER BY ------------------------------------------------------------------------------

    def order_by(self, sobject: str) -> tuple[OrderItem, ...]:
        items: list[OrderItem] = []
        while True:
            start = self.peek()
            if start.kind != IDENT or start.keyword() in _RESERVED:
                raise self.unexpected(start)
            if self.at_punct("(", 1):
                raise self.unsupported(start, f"The function {start.text}()")
            ref = self.resolve_path(sobject, self.path_tokens())
            if not ref.kind or ref.kind == values.MULTIPICKLIST or not ref.field.sortable:
                raise self.error(
                    start, "INVALID_FIELD", f"field '{ref.field.name}' can not be sorted in a query call"
                )
            descending = False
            if self.at_keyword("ASC", "DESC"):
                descending = self.advance().keyword() == "DESC"
            nulls_first = not descending
            if self.at_keyword("NULLS"):
                self.advance()
                if not self.at_keyword("FIRST", "LAST"):
                    raise self.unexpected(self.peek())
                nulls_first = self.advance().keyword() == "FIRST"
            items.append(OrderItem(ref, descending, nulls_first))
            if not self.at_punct(","):
                return tuple(items)
            self.advance()


def _first(candidates: Iterable[FieldMeta | None]) -> FieldMeta | None:
    return next((candidate for candidate in candidates if candidate is not None), None)


def _project(projection: Projection, ref: FieldRef) -> None:
    """Add a selected field to the record shape, nesting parent fields under their relationship."""
    for hop in ref.hops:
        parent = next(
            (
                item
                for item in projection.items
                if isinstance(item, ProjectedParent) and item.lookup.name == hop.name
            ),
            None,
        )
        if parent is None:
            parent = ProjectedParent(hop, Projection())
            projection.items.append(parent)
        projection = parent.projection
    projection.items.append(ProjectedField(ref.field.name))
