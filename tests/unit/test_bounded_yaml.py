"""YAML read within bounds (shared.bounded_yaml): size, depth and values with aliases expanded, each
refused naming the bound; within them, the same data as ``yaml.safe_load``."""

from __future__ import annotations

import pytest
import yaml

from shared.bounded_yaml import Bounds, BoundsError, load

SMALL = Bounds(max_bytes=200, max_depth=4, max_values=12)


def _nested(levels: int) -> str:
    """A document ``levels`` deep: sequences in sequences around one scalar."""
    return "[" * (levels - 1) + "x" + "]" * (levels - 1)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, y, {c: true}]\n",
        "base: &b {rule: two_way}\nmappings: [{<<: *b, hubspot: email}, *b]\n",
        "date: 2026-11-28\nnull: ~\nfloat: 1.5\n",
        "",
    ],
)
def test_within_the_bounds_it_reads_what_safe_load_reads(text):
    assert load(text) == yaml.safe_load(text)


def test_depth_is_counted_in_levels_of_values():
    assert load(_nested(4), SMALL) == [[["x"]]]
    with pytest.raises(BoundsError, match=r"nested more than 4 levels deep \(line 1, column 5\)"):
        load(_nested(5), SMALL)
    # far beyond Python's recursion limit: refused at the bound, never a RecursionError
    with pytest.raises(BoundsError, match="nested more than 20 levels deep"):
        load(_nested(5_000))


def test_an_alias_counts_as_deep_and_as_many_values_as_its_anchor():
    deep = "a: &a [[x]]\nb: [[*a]]\n"  # b stands for [[[[x]]]]: 5 levels with the mapping
    with pytest.raises(BoundsError, match="nested more than 4 levels deep with its aliases expanded"):
        load(deep, SMALL)
    many = "a: &a [x, x, x]\nb: [*a, *a, *a]\n"  # the mapping, 2 keys, a: 4, b: 1 + 3 * 4: 20 values
    with pytest.raises(BoundsError, match="more than 12 values with its aliases expanded"):
        load(many, SMALL)
    assert load("a: &a [x]\nb: [*a, *a]\n", SMALL) == {"a": ["x"], "b": [["x"], ["x"]]}  # 10 values


def test_an_alias_inside_its_own_anchor_is_refused():
    with pytest.raises(
        BoundsError, match=r"the alias \*me \(line 1, column 13\) refers to a node that contains it"
    ):
        load("a: &me {b: [*me]}")


def test_the_size_is_counted_in_utf8_bytes():
    assert load("x: " + "é" * 98, SMALL) == {"x": "é" * 98}  # 199 bytes
    with pytest.raises(BoundsError, match="the document is 201 bytes; at most 200 are accepted"):
        load("x: " + "é" * 99, SMALL)


def test_what_is_not_yaml_is_a_yaml_error():
    with pytest.raises(yaml.YAMLError):
        load("a: [")
    with pytest.raises(yaml.YAMLError):
        load("a: 1\n---\nb: 2\n")  # a single document, as safe_load
    with pytest.raises(yaml.YAMLError):
        load("!!python/object:os.system ls")  # safe: no arbitrary objects
