"""Actions behind menu commands (cmd:NAME): look-ups, library, accounts, support, forums."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bbs.directory.model import Directory
from bbs.services.registry import Command, Verb

if TYPE_CHECKING:
    from bbs.services.registry import Node
    from bbs.session.session import Session


def build_commands(directory: Directory) -> dict[str, Command]:
    """Every command menus may name, with argument checks against `directory`'s codes."""
    from bbs.services import account, assistance, forums, incidents, knowledge
    from bbs.services import directory as dir_cmds
    from bbs.services import fax as fax_cmds
    from bbs.services import help as help_cmds
    from bbs.services import library as library_cmds
    from bbs.services import terminal as term_cmds
    from bbs.services import transfers as transfer_cmds
    from bbs.services import web as web_cmds

    commands = [
        *dir_cmds.commands(directory),
        *library_cmds.COMMANDS,
        *transfer_cmds.COMMANDS,
        *account.COMMANDS,
        *assistance.COMMANDS,
        *knowledge.COMMANDS,
        *incidents.COMMANDS,
        *forums.COMMANDS,
        *fax_cmds.COMMANDS,
        *web_cmds.COMMANDS,
        term_cmds.COMMAND,
        help_cmds.COMMAND,
    ]
    return {c.name: c for c in commands}


def build_verbs() -> dict[str, Verb]:
    """Every command valid at any prompt, by each of its spellings."""
    from bbs.services import account, forums
    from bbs.services import transfers as transfer_cmds

    table: dict[str, Verb] = {}
    for verb in (*account.VERBS, *transfer_cmds.VERBS, *forums.VERBS):
        for word in verb.words:
            if word in table:
                raise ValueError(f"the verb {word} is registered twice")
            table[word] = verb
    return table


async def after_sign_in(session: Session, board: Node) -> None:
    """What each area tells a caller once signed in (new replies, new posts)."""
    from bbs.services import assistance, forums, incidents, knowledge

    # Sign-in news is shown at the first prompt, under the index, not wiped by it.
    with session.deferred():
        for area in (assistance, incidents, knowledge, forums):
            await area.on_sign_in(session, board)
