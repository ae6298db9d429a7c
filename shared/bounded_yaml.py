"""YAML read with bounds: a document too large, nested too deep or expanding too far through its
aliases is refused with the bound it broke, before it costs more than reading it.

PyYAML composes nested collections recursively (600 levels raise ``RecursionError``), and an alias
reuses its anchored node, so a kilobyte of anchors and aliases ("billion laughs") stands for
billions of values once anything walks it (a validator does). Here every node is measured as it is
composed: its depth, and the values it stands for with every alias expanded; an alias to a node
that contains it is refused outright. Anchors and aliases within the bounds work as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode


@dataclass(frozen=True)
class Bounds:
    max_bytes: int = 64 * 1024
    max_depth: int = 20
    max_values: int = 10_000  # scalars, sequences and mappings, aliases expanded


class BoundsError(ValueError):
    """The document breaks one of its bounds (the message names the bound)."""


def load(text: str, bounds: Bounds = Bounds()) -> Any:
    """The data of a single YAML document (``yaml.safe_load``), within ``bounds``.
    ``BoundsError`` beyond them; ``yaml.YAMLError`` when it is not YAML."""
    size = len(text.encode("utf-8"))
    if size > bounds.max_bytes:
        raise BoundsError(f"the document is {size:,} bytes; at most {bounds.max_bytes:,} are accepted")
    loader = _BoundedLoader(text, bounds)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, text: str, bounds: Bounds) -> None:
        super().__init__(text)
        self.bounds = bounds
        self._depth = 0
        self._composing: set[str] = set()  # anchors of the collections being composed
        self._measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._composing:
                raise BoundsError(
                    f"the alias *{event.anchor} {_where(event)} refers to a node that contains it"
                )
            return super().compose_node(parent, index)  # the anchored node, measured already
        self._depth += 1
        if self._depth > self.bounds.max_depth:
            raise BoundsError(
                f"the document is nested more than {self.bounds.max_depth} levels deep {_where(event)}"
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._composing.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._composing.discard(anchor or "")
        if node is not None:
            self._measure(node, event)
        return node

    def _measure(self, node: Node, event: yaml.Event) -> None:
        if isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, SequenceNode):
            children = list(node.value)
        else:
            children = []
        measures = [self._measured[id(child)] for child in children]
        values = 1 + sum(v for v, _ in measures)
        height = 1 + max((h for _, h in measures), default=0)
        if values > self.bounds.max_values:
            raise BoundsError(
                f"the document stands for more than {self.bounds.max_values:,} values with its aliases "
                f"expanded {_where(event)}"
            )
        if height > self.bounds.max_depth:
            raise BoundsError(
                f"the document is nested more than {self.bounds.max_depth} levels deep with its aliases "
                f"expanded {_where(event)}"
            )
        self._measured[id(node)] = (values, height)


def _where(event: yaml.Event) -> str:
    mark = event.start_mark
    return f"(line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
