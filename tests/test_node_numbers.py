"""Node numbers on one node: the smallest free one, given back at hang-up, with no walk
over every session at each arrival."""

from __future__ import annotations

from typing import Any

from bbs.board import Board


def bare_board() -> Board:
    nothing: Any = None
    return Board(nothing, nothing, nothing, {}, nothing, nothing, {}, {})


async def test_smallest_free_number_first() -> None:
    board = bare_board()
    assert [await board._node_number() for _ in range(4)] == [1, 2, 3, 4]
    board._node_given_back(3)
    board._node_given_back(1)
    assert await board._node_number() == 1
    assert await board._node_number() == 3
    assert await board._node_number() == 5
    board._node_given_back(5)
    board._node_given_back(5)  # twice is once
    assert [await board._node_number(), await board._node_number()] == [5, 6]
