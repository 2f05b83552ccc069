"""Rows of a buffer for blocks that live from one step to another, reused once a block is dead.

A block is the rows one group of nodes writes (its values, or its gradients). `assign_rows` gives
each block a run of consecutive rows, so a group reads and writes one slice of the buffer; a block
whose last reader has run gives its rows back, and a later block takes them (first fit). A block
may also take over the rows of the block it is computed from, in place, when that one dies at the
very step that writes it (relu's output over its input, say).
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass
from typing import Sequence

import numpy as np

NEVER = float("inf")  # the step at which a block that must outlive the run dies


@dataclass(slots=True)
class Block:
    """`size` rows, written at step `born`, last read at step `dies` (NEVER: kept to the end)."""

    size: int
    born: int
    dies: float
    over: int | None = None   # the index of a block whose rows this one takes, in place


def assign_rows(blocks: Sequence[Block]) -> tuple[list[int], int]:
    """The first row of each block, and the rows the buffer needs.

    Blocks born at one step are placed before the blocks dying at that step give their rows back:
    a step reads its inputs while it writes its output, so the two must not share rows, unless the
    output is declared to be computed in place over an input (`over`).
    """
    starts = [0] * len(blocks)
    free: list[list[int]] = []   # [start, length], sorted by start
    top = 0
    dying: list[tuple[float, int]] = []   # a heap of (last step read, block)
    taken = set()
    for i in sorted(range(len(blocks)), key=lambda i: blocks[i].born):
        block = blocks[i]
        while dying and dying[0][0] < block.born:
            j = heapq.heappop(dying)[1]
            if j not in taken:
                _give_back(free, starts[j], blocks[j].size)
        if block.over is not None:
            starts[i] = starts[block.over]
            taken.add(block.over)
        else:
            starts[i], top = _take(free, block.size, top)
        heapq.heappush(dying, (block.dies, i))
    return starts, top


def _take(free: list[list[int]], size: int, top: int) -> tuple[int, int]:
    for k, (start, length) in enumerate(free):
        if length >= size:
            if length == size:
                free.pop(k)
            else:
                free[k] = [start + size, length - size]
            return start, top
    if free and free[-1][0] + free[-1][1] == top:  # grow the last free run instead of skipping it
        start = free.pop()[0]
        return start, start + size
    return top, top + size


def _give_back(free: list[list[int]], start: int, size: int) -> None:
    if size == 0:
        return
    k = bisect.bisect_left(free, start, key=lambda run: run[0])
    free.insert(k, [start, size])
    if k + 1 < len(free) and free[k][0] + free[k][1] == free[k + 1][0]:
        free[k][1] += free.pop(k + 1)[1]
    if k > 0 and free[k - 1][0] + free[k - 1][1] == free[k][0]:
        free[k - 1][1] += free.pop(k)[1]


def selector(rows: Sequence[int]) -> slice | np.ndarray:
    """A slice when the rows are consecutive, ascending (numpy then takes a view), else an index."""
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1:
        first = int(rows[0])
        if len(rows) < 64:
            consecutive = all(r == first + k for k, r in enumerate(rows))
        else:
            consecutive = np.array_equal(rows, np.arange(first, first + len(rows)))
        if consecutive:
            return slice(first, first + len(rows))
    return np.asarray(rows, dtype=np.intp)
