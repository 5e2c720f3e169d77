"""Actions behind menu commands (cmd:NAME): directory look-ups, terminal settings, help."""

from __future__ import annotations

from bbs.directory.model import Directory
from bbs.services.registry import Command


def build_commands(directory: Directory) -> dict[str, Command]:
    """Every command menus may name, with argument checks against `directory`'s codes."""
    from bbs.services import directory as dir_cmds
    from bbs.services import help as help_cmds
    from bbs.services import library as library_cmds
    from bbs.services import terminal as term_cmds
    from bbs.services import transfers as transfer_cmds

    commands = [
        *dir_cmds.commands(directory),
        *library_cmds.COMMANDS,
        *transfer_cmds.COMMANDS,
        term_cmds.COMMAND,
        help_cmds.COMMAND,
    ]
    return {c.name: c for c in commands}
