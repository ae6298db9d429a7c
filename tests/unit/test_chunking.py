"""chunks() and weighed_chunks() (shared/chunking.py): API-sized pieces of a sequence."""

from __future__ import annotations

import pytest

from shared.chunking import chunks, weighed_chunks


def test_pieces_keep_order_and_every_item():
    items = list(range(7))
    assert chunks(items, 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert [x for piece in chunks(items, 3) for x in piece] == items


def test_exact_multiple_and_empty():
    assert chunks("abcd", 2) == ["ab", "cd"]
    assert chunks([], 5) == []
    assert chunks([1], 5) == [[1]]


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        chunks([1, 2], 0)


def test_weighed_pieces_are_cut_by_count_and_by_weight():
    items = list("abcdefg")
    assert weighed_chunks(items, [1] * 7, max_count=3, max_weight=100) == [list("abc"), list("def"), ["g"]]
    assert weighed_chunks(items, [4, 4, 2, 5, 4, 1, 9], max_count=10, max_weight=10) == [
        list("abc"),
        list("def"),
        ["g"],
    ]
    assert weighed_chunks([], [], max_count=1, max_weight=1) == []


def test_an_item_heavier_than_a_piece_is_refused():
    with pytest.raises(ValueError, match="item 1 weighs 11"):
        weighed_chunks(["a", "b"], [1, 11], max_count=5, max_weight=10)
    with pytest.raises(ValueError, match="one weight per item"):
        weighed_chunks(["a", "b"], [1], max_count=5, max_weight=10)
