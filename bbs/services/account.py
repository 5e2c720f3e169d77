"""Sign-in, registration and the caller's profile screens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bbs.accounts.model import GUEST, Caller
from bbs.services.registry import Command

if TYPE_CHECKING:
    from bbs.board import Board
    from bbs.session.session import Session

COMMANDS: list[Command] = []


async def sign_in(session: Session, board: Board) -> Caller:
    """Who the caller is: for now everyone enters as a guest."""
    return GUEST
