"""Re-reading what a node keeps in memory after a `bbs load` elsewhere on the board."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from bbs.directory.query import build_index
from bbs.menus.loader import load_menus
from bbs.services import build_commands

if TYPE_CHECKING:
    from bbs.board import Board

log = logging.getLogger(__name__)


async def reload_directory(board: Board) -> None:
    """Read the directory from the database again and swap it in with its index and the
    commands checked against it. Callers at a screen keep what they have; their next
    search uses the new index. StoreError when the database is away."""
    from bbs.board import read_board_directory

    directory = await read_board_directory(board.config)
    commands = build_commands(directory)
    try:
        menus = load_menus(Path(board.config.menus_dir), commands)
    except Exception as e:
        # A directory the menus no longer fit: keep serving the old one, say why.
        log.error("event=reload_refused reason=menus error=%s", str(e).splitlines()[0])
        return
    board.directory = directory
    board.index = build_index(directory)
    board.commands = dict(commands)
    board.menus = menus
    log.warning("event=directory_reloaded countries=%d", len(directory.countries))
