"""chunks() (shared/chunking.py): API-sized pieces of a sequence."""

from __future__ import annotations

import pytest

from shared.chunking import chunks


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
