"""Forum screens, who is online, pages and the sysop chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bbs.services.registry import Command

if TYPE_CHECKING:
    from bbs.board import Board
    from bbs.session.session import Session

COMMANDS: list[Command] = []


async def on_sign_in(session: Session, board: Board) -> None:
    """What this area tells a caller right after sign-in (nothing yet)."""
