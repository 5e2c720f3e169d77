"""The menu engine: a stack of menus, hotkeys and typed words, and the board's global commands."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from bbs.menus.model import ROOT, Action, ActionKind, Menu, MenuSet, normalize_word
from bbs.services.registry import Command, Context, unavailable
from bbs.session.keys import Key
from bbs.session.pager import page
from bbs.session.session import Hangup, Session
from bbs.store.db import StoreError
from bbs.terminal.markup import escape

if TYPE_CHECKING:
    from bbs.services.registry import Node

log = logging.getLogger(__name__)

MAX_DEPTH = 32
"""Deepest menu stack kept; following links in circles must not grow it forever."""
fold = normalize_word
_BYE = {"BYE", "AU REVOIR", "AUREVOIR", "LOGOFF", "QUIT", "ADIEU", "TSCHUSS", "OFF"}
_HELP = {"HELP", "AIDE", "?", "HILFE"}
_BACK = {"RETOUR", "BACK", "ZURUCK"}
MENU_KEYS = {Key.MENU: "/SOMMAIRE", Key.PAGE_UP: "/RETOUR", Key.HELP: "?"}
"""Named keys at a menu prompt: Menu (a Minitel's SOMMAIRE) to the index (a GO word of
the index menu), Page Up (RETOUR) one menu back, F1 (GUIDE) the help."""


def _hotkey_test(menu: Menu, role: str) -> Callable[[str], bool]:
    """Whether a first typed character is one of `menu`'s hotkeys (any case) for `role`."""
    keys = frozenset(item.key.upper() for item in menu.offered(role))
    return lambda ch: ch.upper() in keys


class Engine:
    """Runs the menus for one session until the caller leaves.

    Navigation is a stack: `push` a menu, `pop` back, `goto` an area (the root, then it).
    """

    def __init__(self, session: Session, board: Node) -> None:
        self.ctx = Context(session, board, self)
        self.menus: MenuSet = board.menus
        self.commands: Mapping[str, Command] = board.commands
        self.stack: list[str] = [ROOT]
        self.seen: set[str] = set()
        """Menus shown in full once: later visits show the title and choices only."""
        self.full = False
        """The next drawing is in full (the caller pressed Enter alone)."""

    @property
    def current(self) -> Menu:
        """The menu on top of the stack."""
        return self.menus.get(self.stack[-1])

    def push(self, name: str) -> None:
        """Enter a menu; a menu already on the stack is returned to, not stacked again."""
        if name in self.stack:
            del self.stack[self.stack.index(name) + 1 :]
        else:
            self.stack.append(name)
            del self.stack[1:-MAX_DEPTH]

    def pop(self) -> None:
        """Go back to the previous menu (the root stays)."""
        if len(self.stack) > 1:
            self.stack.pop()

    def goto(self, name: str) -> None:
        """Jump to an area: the root, then that menu."""
        self.stack = [ROOT] if name == ROOT else [ROOT, name]

    async def run(self) -> None:
        """Show menus and obey the caller until logoff; Hangup ends it from anywhere."""
        session = self.ctx.session
        redraw = True
        while True:
            menu = self.current
            session.where = menu.name
            if redraw:
                await self.show(menu)
            role = session.caller.role
            hint = session.text("board.prompt_keys", keys=menu.key_hint(role))
            line = await session.read_line(
                "{h}" + escape(hint) + "{/} ",
                instant=_hotkey_test(menu, role) if session.hotkeys else None,
                keys=MENU_KEYS,
            )
            redraw = await self.dispatch(line.upper() if len(line) == 1 else line)

    async def show(self, menu: Menu) -> None:
        """Draw a menu: title, text, what its `show` command prints, then its items.

        A menu seen before in the session is drawn short (title and choices), as a
        regular caller wants it; Enter alone draws it in full again.
        """
        session = self.ctx.session
        lang = session.lang
        brief = menu.name in self.seen and not self.full
        self.seen.add(menu.name)
        self.full = False
        await session.clear()
        if brief:
            title = "{title}" + escape(menu.title.get(lang, "")) + "\n\n"
            await page(
                session,
                title
                + self._items(menu, lang, session.caller.role)
                + "\n{dim}"
                + escape(session.text("board.full_text"))
                + "{/}\n",
            )
            return
        used = await self.ctx.board.show_art(session, menu.art) if menu.art else 0
        parts = ["{title}" + escape(menu.title.get(lang, "")), ""]
        text = menu.text.get(lang, "")
        if text:
            parts += [text, ""]
        body = "\n".join(parts)
        if menu.show is not None:
            read_on = await page(session, body, used=used)
            used = 0
            # Q at the text's pager quits the whole screen, listing included: the items
            # still come, as the prompt asks for them.
            if read_on:
                await self.run_action(menu.show)
            after = menu.after.get(lang, "") if menu.after and read_on else ""
            body = "\n" + after + "\n" if after else ""
        if body:
            await page(session, body, used=used)
        # Items come even after a caller quit the pager: they are what the prompt asks for.
        await page(session, self._items(menu, lang, session.caller.role) + "\n")

    @staticmethod
    def _items(menu: Menu, lang: str, role: str) -> str:
        """A menu's choices `role` sees, one a line: the hotkey, then the label."""
        return "\n".join(
            f"  {{k}}{escape(item.key)}{{/}}  {escape(item.label.get(lang, ''))}"
            for item in menu.offered(role)
        )

    async def dispatch(self, line: str) -> bool:
        """Obey one line typed at a menu prompt; True when the menu should be drawn again."""
        session = self.ctx.session
        text = line.strip()
        if not text:
            self.full = True
            return True
        if text.startswith("/"):
            text = text[1:].strip()
        elif len(text) == 1:
            role = session.caller.role
            item = next(
                (i for i in self.current.offered(role) if i.key.upper() == text.upper()), None
            )
            if item is not None:
                return await self.run_action(item.action)
        handled = await self.global_command(text)
        if handled is not None:
            return handled
        action = self.menus.go_action(fold(text))
        if action is not None:
            return await self.run_action(action)
        await session.send(
            "{err}" + escape(session.text("board.unknown_command", command=text[:40])) + "{/}\n"
        )
        return False

    async def global_command(self, text: str) -> bool | None:
        """Run a command valid at any prompt: the engine's own (GO, HELP, BYE) and
        those the screens registered (`Node.verbs`); None if it is none.

        Returns whether the current menu should be drawn again.
        """
        verb, _, rest = text.strip().lstrip("/").partition(" ")
        word = fold(verb)
        argument = rest.strip()
        if word == "GO":
            return await self.go(argument)
        if word in _HELP and not argument:
            await self.help()
            return False
        registered = self.ctx.board.verbs.get(word)
        if registered is not None and (registered.takes_argument or not argument):
            return bool(await registered.run(self.ctx, argument))
        if word in _BACK and not argument:
            self.pop()
            return True
        if word in _BYE or fold(text) in _BYE:
            await self.logoff()
        return None

    async def run_action(self, action: Action) -> bool:
        """Carry out one menu action; True when the current menu should be redrawn."""
        if action.kind is ActionKind.MENU:
            self.push(action.target)
            return True
        if action.kind is ActionKind.BACK:
            self.pop()
            return True
        if action.kind is ActionKind.LOGOFF:
            if not await self.confirm_logoff():
                return False
            await self.logoff()
        command = self.commands[action.target]
        try:
            await command.run(self.ctx, action.arg)
        except StoreError as error:
            # The database went away under a screen that did not expect it: the caller
            # stays on the line and may try again once it is back.
            log.warning(
                "event=store_error command=%s node=%d error=%s",
                action.target,
                self.ctx.session.node,
                str(error).splitlines()[0][:200] if str(error) else type(error).__name__,
            )
            await unavailable(self.ctx.session, error)
            return False
        return True

    async def go(self, word: str) -> bool:
        """`GO word`: jump to the area named by `word`, or list the words there are."""
        session = self.ctx.session
        action = self.menus.go_action(fold(word)) if word else None
        if action is None:
            words = ", ".join(sorted(self.menus.go_words()))
            key = "board.go_unknown" if word else "board.go_usage"
            await session.send(
                "{err}" + escape(session.text(key, word=word[:30], words=words)) + "{/}\n"
            )
            return False
        if action.kind is ActionKind.MENU:
            self.goto(action.target)
            return True
        return await self.run_action(action)

    async def help(self) -> None:
        """The help screen: global commands and how menus work."""
        await self.commands["help"].run(self.ctx, None)

    async def confirm_logoff(self) -> bool:
        """Ask before hanging up on a single key (in hotkey mode "G" may start "GO")."""
        session = self.ctx.session
        # Hanging up is never answered by keys typed before the question was shown.
        session.discard_typed_ahead()
        question = "{warn}" + escape(session.text("board.confirm_logoff")) + "{/} "
        answer = await session.read_line(question, max_len=8)
        return fold(answer)[:1] in {fold(session.text("board.yes_key")), "Y", "O", "J"}

    async def logoff(self) -> None:
        """Say goodbye and end the session."""
        session = self.ctx.session
        await session.send("\n{h}" + escape(session.text("board.goodbye")) + "{/}\n")
        raise Hangup("bye")
