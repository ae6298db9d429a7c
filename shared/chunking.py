"""Cutting a sequence into API-sized pieces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` in consecutive pieces of at most ``size`` (the last one may be shorter)."""
    if size < 1:
        raise ValueError("size must be positive")
    return [items[i : i + size] for i in range(0, len(items), size)]


def weighed_chunks(
    items: Sequence[T], weights: Sequence[int], *, max_count: int, max_weight: int
) -> list[Sequence[T]]:
    """``items`` in consecutive pieces of at most ``max_count`` items whose ``weights`` (one per
    item, e.g. its bytes) add up to at most ``max_weight``. ValueError for an item heavier than
    ``max_weight`` alone: no piece can hold it."""
    if max_count < 1 or max_weight < 1:
        raise ValueError("max_count and max_weight must be positive")
    if len(weights) != len(items):
        raise ValueError("one weight per item")
    pieces: list[Sequence[T]] = []
    start, total = 0, 0
    for i, weight in enumerate(weights):
        if weight > max_weight:
            raise ValueError(f"item {i} weighs {weight}, more than a piece holds ({max_weight})")
        if i > start and (i - start >= max_count or total + weight > max_weight):
            pieces.append(items[start:i])
            start, total = i, 0
        total += weight
    if start < len(items):
        pieces.append(items[start:])
    return pieces
