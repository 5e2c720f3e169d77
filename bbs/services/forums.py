"""Forum screens (GO LOTUS, GO LOTGER, GO LOTFRA), who is online, last callers, pages
and the sysop chat."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING

from bbs.accounts.model import Role
from bbs.forums import store
from bbs.forums.presence import (
    CHAT_LINE_MAX,
    PAGE_MAX,
    ChatEnded,
    ChatRoom,
    LocalPresence,
    Online,
    PageResult,
    Peer,
    presence_for,
)
from bbs.menus.model import one_of
from bbs.numbers import parse_number
from bbs.services.registry import Command, Context, Verb, unavailable
from bbs.session import multiline
from bbs.session.pager import page
from bbs.session.session import Session
from bbs.store.db import StoreError
from bbs.terminal.markup import escape
from bbs.terminal.sanitize import clean, user_markup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bbs.services.registry import Node

log = logging.getLogger(__name__)

FORUM_CODES = ("LOTUS", "LOTGER", "LOTFRA")
"""The forums' GO words, as stored in `forum.code`."""
THREADS_PER_PAGE = 12
"""Most threads listed on one screen."""


def presence(board: Node) -> LocalPresence:
    """The board's presence (who is online, pages, chats)."""
    return presence_for(board, board.sessions)


def _say(session: Session, tag: str, key: str, **values: object) -> Awaitable[None]:
    return session.send("{" + tag + "}" + escape(session.text(key, **values)) + "{/}\n")


def _name(session: Peer, name: str) -> str:
    """A caller's name as markup, "invité" for a guest."""
    return user_markup(name) if name else escape(session.text("who.guest"))


def _when(at: datetime) -> str:
    return at.strftime("%d/%m/%Y %H:%M")


async def _unavailable(session: Session, error: BaseException | None = None) -> None:
    await unavailable(session, error)


async def edit_text(session: Session, title: str) -> str | None:
    """A message typed by the caller in the board's multi-line editor (None: cancelled)."""
    return await multiline.edit_text(
        session, title=title, max_lines=store.BODY_LINES, max_chars=store.BODY_MAX
    )


# ----------------------------------------------------------------- forums


async def forum(ctx: Context, code: str | None) -> None:
    """A forum's sections, with what is new since the caller's last visit."""
    session = ctx.session
    db = ctx.board.db
    if db is None:
        await _unavailable(session)
        return
    try:
        found = await store.forum_by_code(db, code or "")
    except StoreError:
        log.exception("forum read failed")
        await _unavailable(session)
        return
    if found is None:
        await _say(session, "err", "forum.none")
        return
    while True:
        session.where = f"forum:{found.code}"
        try:
            sections = await store.sections(db, found.id, session.caller)
        except StoreError:
            log.exception("forum read failed")
            await _unavailable(session)
            return
        await session.clear()
        lines = ["{title}" + user_markup(found.name), ""]
        for section in sections:
            line = f"  {{k}}{section.position}{{/}}  " + user_markup(section.name)
            line += " {dim}" + escape(session.text("forum.threads", count=section.threads)) + "{/}"
            if section.new:
                line += " {em}" + escape(session.text("forum.new", count=section.new)) + "{/}"
            lines.append(line)
        if session.caller.is_guest:
            lines += ["", "{dim}" + escape(session.text("forum.guest_reads")) + "{/}"]
        await page(session, "\n".join(lines) + "\n")
        answer = await ctx.choose("forum.choose_section")
        if answer is None:
            return
        chosen = next((s for s in sections if answer == str(s.position)), None)
        if chosen is None:
            await _say(session, "err", "forum.bad_choice", choice=answer[:12])
            continue
        await section_screen(ctx, db, found.name, chosen)


async def section_screen(
    ctx: Context, db: AsyncEngine, forum_name: str, section: store.Section
) -> None:
    """A section's threads, newest activity first, a screen at a time."""
    session = ctx.session
    caller = session.caller
    try:
        since = await store.read_mark(db, caller, section.id) or store.parse_visit(
            caller.last_visit
        )
        await store.mark_read(db, caller, section.id, store.now_utc())
    except StoreError:
        log.exception("forum read mark failed")
        await _unavailable(session)
        return
    offset = 0
    while True:
        per_page = max(3, min(THREADS_PER_PAGE, session.caps.rows - 8))
        try:
            found, total = await store.threads(
                db, section.id, caller, since=since, offset=offset, limit=per_page
            )
        except StoreError:
            log.exception("forum listing failed")
            await _unavailable(session)
            return
        await session.clear()
        lines = ["{title}" + user_markup(forum_name) + " - " + user_markup(section.name), ""]
        if not found:
            lines.append(escape(session.text("forum.no_threads")))
        for number, item in enumerate(found, offset + 1):
            mark = "{em}*{/}" if item.new else " "
            line = f" {mark}{{k}}{number:>3}{{/}}  " + user_markup(item.subject[:60])
            line += " {dim}(" + _name(session, item.author) + ", "
            line += escape(session.text("forum.posts", count=item.posts)) + ", "
            line += item.last_post_at.strftime("%d/%m/%Y") + "){/}"
            if item.locked:
                line += " {warn}" + escape(session.text("forum.locked_mark")) + "{/}"
            lines.append(line)
        pages = max(1, -(-total // per_page))
        lines += [
            "",
            "{dim}"
            + escape(session.text("forum.page", page=offset // per_page + 1, pages=pages))
            + "{/}",
        ]
        await page(session, "\n".join(lines) + "\n")
        answer = (
            await session.read_line(
                "{h}" + escape(session.text("forum.choose_thread")) + "{/} ", max_len=40
            )
        ).strip()
        if not answer:
            return
        if answer == "+":
            if offset + per_page < total:
                offset += per_page
            continue
        if answer == "-":
            offset = max(0, offset - per_page)
            continue
        if answer.upper() == "N":
            if await post_thread(ctx, db, section.id):
                offset = 0
            continue
        choice = parse_number(answer)
        if choice is not None and offset < choice <= offset + len(found):
            await thread_screen(ctx, db, found[choice - offset - 1].id)
            continue
        handled = await ctx.engine.global_command(answer)
        if handled is not None:
            return
        await _say(session, "err", "forum.bad_choice", choice=answer[:12])
        await session.pause()


async def _refuse_guest(session: Session) -> bool:
    if session.caller.is_guest:
        await _say(session, "warn", "forum.guest")
        await session.pause()
        return True
    return False


async def _report(session: Session, error: store.ForumError) -> None:
    await _say(session, "err", f"forum.{error.key}")
    await session.pause()


async def post_thread(ctx: Context, db: AsyncEngine, section_id: int) -> bool:
    """Ask for a subject and a message and open a new thread; True when one was opened."""
    session = ctx.session
    if await _refuse_guest(session):
        return False
    subject = await session.read_line(
        "{h}" + escape(session.text("forum.subject")) + "{/} ", max_len=store.SUBJECT_MAX
    )
    if not subject.strip():
        return False
    body = await edit_text(session, session.text("forum.new_thread_title"))
    if body is None or not body.strip():
        await _say(session, "warn", "forum.cancelled")
        return False
    try:
        await store.new_thread(db, section_id, session.caller, subject, body, store.now_utc())
    except store.ForumError as error:
        await _report(session, error)
        return False
    except StoreError as e:
        log.exception("forum post failed")
        await _unavailable(session, e)
        return False
    await _say(session, "ok", "forum.posted")
    return True


def thread_markup(session: Session, thread: store.Thread) -> str:
    """A thread as shown: its subject, then each message with its number and author."""
    parts = ["{title}" + user_markup(thread.subject)]
    if thread.locked:
        parts.append("{warn}" + escape(session.text("forum.locked_notice")) + "{/}")
    for number, post in enumerate(thread.posts, 1):
        head = f"{{k}}#{number}{{/}} {{em}}" + _name(session, post.author) + "{/} "
        head += "{dim}" + _when(post.posted_at) + "{/}"
        if post.hidden:
            head += " {warn}" + escape(session.text("forum.hidden_mark")) + "{/}"
        parts += ["", head, user_markup(post.body, multiline=True)]
    return "\n".join(parts) + "\n"


async def thread_screen(ctx: Context, db: AsyncEngine, thread_id: int) -> None:
    """Read a thread's messages in order, reply, and (the sysop) moderate it."""
    session = ctx.session
    sysop = session.caller.role is Role.SYSOP
    while True:
        try:
            found = await store.thread(db, thread_id, session.caller)
        except StoreError:
            log.exception("forum thread read failed")
            await _unavailable(session)
            return
        if found is None:
            await _say(session, "err", "forum.no_thread")
            return
        await session.clear()
        await page(session, thread_markup(session, found))
        key = "forum.thread_prompt_sysop" if sysop else "forum.thread_prompt"
        answer = (
            await session.read_line("{h}" + escape(session.text(key)) + "{/} ", max_len=40)
        ).strip()
        word, _, rest = answer.upper().partition(" ")
        try:
            if not answer:
                return
            if word == "R":
                await _reply(ctx, db, found)
            elif sysop and word == "M":
                await _toggle_hidden(session, db, found, rest.strip())
            elif sysop and word == "V":
                await store.lock_thread(
                    db, found.id, session.caller, store.now_utc(), locked=not found.locked
                )
                await _say(session, "ok", "forum.unlocked" if found.locked else "forum.locked_now")
            elif sysop and word == "D":
                await _move(session, db, found)
            else:
                handled = await ctx.engine.global_command(answer)
                if handled is not None:
                    return
                await _say(session, "err", "forum.bad_choice", choice=answer[:12])
                await session.pause()
        except store.ForumError as error:
            await _report(session, error)
        except StoreError as e:
            log.exception("forum action failed")
            await _unavailable(session, e)
            return


async def _reply(ctx: Context, db: AsyncEngine, thread: store.Thread) -> None:
    session = ctx.session
    if await _refuse_guest(session):
        return
    if thread.locked:
        raise store.ForumError("locked")
    body = await edit_text(
        session, session.text("forum.reply_title", subject=clean(thread.subject))
    )
    if body is None or not body.strip():
        await _say(session, "warn", "forum.cancelled")
        return
    await store.reply(db, thread.id, session.caller, body, store.now_utc())
    await _say(session, "ok", "forum.posted")


async def _toggle_hidden(session: Session, db: AsyncEngine, thread: store.Thread, arg: str) -> None:
    choice = parse_number(arg)
    if choice is None or not 1 <= choice <= len(thread.posts):
        raise store.ForumError("bad_post")
    post = thread.posts[choice - 1]
    await store.hide_post(db, post.id, session.caller, store.now_utc(), hidden=not post.hidden)
    await _say(session, "ok", "forum.shown" if post.hidden else "forum.hidden")


async def _move(session: Session, db: AsyncEngine, thread: store.Thread) -> None:
    sections = await store.all_sections(db)
    lines = [
        f"  {{k}}{n}{{/}}  {code} - " + user_markup(name)
        for n, (_, code, _, name) in enumerate(sections, 1)
    ]
    await page(session, "\n".join(lines) + "\n")
    answer = (
        await session.read_line("{h}" + escape(session.text("forum.move_to")) + "{/} ", max_len=8)
    ).strip()
    if not answer:
        return
    choice = parse_number(answer)
    if choice is None or not 1 <= choice <= len(sections):
        raise store.ForumError("no_section")
    await store.move_thread(db, thread.id, sections[choice - 1][0], session.caller, store.now_utc())
    await _say(session, "ok", "forum.moved")


async def moderation_log(ctx: Context, arg: str | None) -> None:
    """The sysop's view of the moderation log."""
    session = ctx.session
    db = ctx.board.db
    if session.caller.role is not Role.SYSOP:
        await _say(session, "err", "forum.not_sysop")
        return
    if db is None:
        await _unavailable(session)
        return
    try:
        entries = await store.moderation_log(db)
    except StoreError:
        log.exception("moderation log failed")
        await _unavailable(session)
        return
    lines = ["{title}" + escape(session.text("forum.log_title")), ""]
    if not entries:
        lines.append(escape(session.text("forum.log_empty")))
    for entry in entries:
        what = escape(session.text(f"forum.log_{entry.action}"))
        post = f" #{entry.post_id}" if entry.post_id is not None else ""
        lines.append(
            f"  {{dim}}{_when(entry.at)}{{/}} "
            + _name(session, entry.actor)
            + f" {what} {entry.thread_id}{post} {escape(entry.detail)}"
        )
    await page(session, "\n".join(lines) + "\n")
    await session.pause()


# ----------------------------------------------------------------- presence


def _where(ctx: Context, session: Session, where: str) -> str:
    """Where a caller is, as a title in the reader's language."""
    menus = ctx.board.menus
    if where in menus:
        return menus.get(where).title.get(session.lang, where)
    if where.startswith("forum:"):
        return "GO " + where.removeprefix("forum:")
    # Presence rows keep these French labels (other nodes read them): translate here.
    if where == "annuaire":
        return session.text("who.where_directory")
    for head, key in (("transfert ", "who.where_download"), ("envoi ", "who.where_upload")):
        if where.startswith(head):
            return session.text(key, protocol=where.removeprefix(head))
    return where or session.text("who.connecting")


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def who_markup(ctx: Context, online: list[Online]) -> str:
    """The "who is online" table."""
    session = ctx.session
    lines = [
        "{title}" + escape(session.text("who.title")),
        "",
        "{h}" + escape(session.text("who.header")) + "{/}",
    ]
    for entry in online:
        name = _name(session, entry.name)
        if entry.role is Role.SYSOP:
            name += " {dim}(sysop){/}"
        lines.append(
            f"  {entry.node:>4}  "
            + name
            + "  {dim}"
            + escape(_where(ctx, session, entry.where))
            + ", "
            + _duration(entry.seconds)
            + "{/}"
        )
    return "\n".join(lines) + "\n"


async def who(ctx: Context, arg: str | None) -> None:
    """Who is online on the board: node, caller, where, for how long."""
    try:
        online = await presence(ctx.board).who()
    except StoreError:
        log.exception("who is online failed")
        await _say(ctx.session, "err", "cluster.unavailable")
        return
    await page(ctx.session, who_markup(ctx, online))


async def last_callers(ctx: Context, arg: str | None) -> None:
    """The last callers to sign in, with date and node."""
    session = ctx.session
    db = ctx.board.db
    if db is None:
        await _unavailable(session)
        return
    try:
        callers = await store.last_callers(db)
    except StoreError:
        log.exception("last callers failed")
        await _unavailable(session)
        return
    lines = ["{title}" + escape(session.text("who.last_title")), ""]
    if not callers:
        lines.append(escape(session.text("who.last_none")))
    for entry in callers:
        lines.append(
            f"  {{dim}}{_when(entry.at)}{{/}}  "
            + escape(session.text("who.node", node=entry.node))
            + "  "
            + user_markup(entry.name)
        )
    await page(session, "\n".join(lines) + "\n")


def page_markup(sender: Session, target: Peer, text: str) -> str:
    """A page as the target sees it, in their language."""
    head = target.text("page.from", node=sender.node)
    return (
        "\n{warn}"
        + escape(head)
        + "{/} {em}"
        + _name(target, sender.caller.name)
        + "{/}: "
        + user_markup(text)
        + "\n"
    )


async def page_command(ctx: Context, argument: str) -> None:
    """`PAGE <node> <message>`, `PAGE OFF` (refuse pages), `PAGE ON`."""
    session = ctx.session
    where = presence(ctx.board)
    target, _, text = argument.strip().partition(" ")
    if target.upper() in ("OFF", "ON") and not text:
        where.set_pages_refused(session, target.upper() == "OFF")
        await _say(session, "ok", "page.refusing" if target.upper() == "OFF" else "page.accepting")
        return
    node = parse_number(target)
    if node is None:
        await _say(session, "err", "page.usage")
        return
    try:
        result = await where.send_page(session, node, text.strip(), page_markup)
    except StoreError:
        log.exception("page failed")
        await _say(session, "err", "cluster.unavailable")
        return
    tag = "ok" if result is PageResult.DELIVERED else "err"
    await _say(session, tag, f"page.{result.value}", node=target, max=PAGE_MAX)


async def page_toggle(ctx: Context, arg: str | None) -> None:
    """Switch between accepting and refusing pages."""
    session = ctx.session
    where = presence(ctx.board)
    refuse = not where.pages_refused(session)
    where.set_pages_refused(session, refuse)
    await _say(session, "ok", "page.refusing" if refuse else "page.accepting")


def _chat_line(reader: Peer, writer: Session, line: str) -> str:
    return "{em}" + _name(reader, writer.caller.name) + "{/}: " + user_markup(line) + "\n"


async def _end_chat(room: ChatRoom, leaver: Session, where: LocalPresence) -> None:
    room.open = False
    other = room.other(leaver)
    for side in (room.sysop, room.caller):
        if where.rooms.get(side) is room:
            del where.rooms[side]
    other.notify(
        "{warn}" + escape(other.text("chat.ended_by", name=clean(leaver.caller.name))) + "{/}\n"
    )

    async def stop() -> None:
        if other in room.inside:
            raise ChatEnded

    where.interrupt(other, stop)


async def chat_loop(session: Session, room: ChatRoom, where: LocalPresence) -> None:
    """One side of a sysop chat: lines typed go to the other side, /Q ends it."""
    if not room.open:
        return
    other = room.other(session)
    room.inside.add(session)
    try:
        await session.send(
            "\n{h}"
            + escape(session.text("chat.opened", node=other.node))
            + "{/} "
            + _name(session, other.caller.name)
            + "\n{dim}"
            + escape(session.text("chat.help"))
            + "{/}\n"
        )
        while room.open:
            line = await session.read_line("{h}>{/} ", max_len=CHAT_LINE_MAX)
            if not room.open:
                break
            if line.strip().upper() in ("/Q", "/QUIT"):
                break
            if line.strip():
                other.notify(_chat_line(other, session, line))
    except ChatEnded:
        pass
    finally:
        room.inside.discard(session)
        if room.open:
            # This side typed /Q or hung up: the other side must hear of it.
            await _end_chat(room, session, where)
    await _say(session, "dim", "chat.closed")


async def chat_command(ctx: Context, argument: str) -> None:
    """`CHAT` pages the sysop; the sysop's `CHAT <node>` opens a chat with that caller."""
    session = ctx.session
    where = presence(ctx.board)
    arg = argument.strip()
    if not arg:
        try:
            sysops = [s for s in await where.sysop_peers() if s is not session]
        except StoreError:
            log.exception("finding the sysop failed")
            await _say(session, "err", "cluster.unavailable")
            return
        if not sysops:
            await _say(session, "warn", "chat.no_sysop")
            return
        if not where.limit.allow(("chat", session.node, session.caller.account_id)):
            await _say(session, "err", "page.rate_limited")
            return
        for sysop in sysops:
            sysop.notify(
                "\n{warn}"
                + escape(sysop.text("chat.request", node=session.node))
                + "{/} "
                + _name(sysop, session.caller.name)
                + "\n"
            )
        await _say(session, "ok", "chat.sysop_told")
        return
    if session.caller.role is not Role.SYSOP:
        await _say(session, "err", "chat.not_sysop")
        return
    try:
        chosen = parse_number(arg)
        target = await where.peer_at(chosen) if chosen is not None else None
    except StoreError:
        log.exception("finding the chat's node failed")
        await _say(session, "err", "cluster.unavailable")
        return
    if target is None:
        await _say(session, "err", "page.no_node", node=arg[:8])
        return
    if target is session:
        await _say(session, "err", "page.self")
        return
    if target in where.rooms or session in where.rooms:
        await _say(session, "err", "chat.busy")
        return
    room = ChatRoom(sysop=session, caller=target)
    where.rooms[session] = where.rooms[target] = room

    async def join() -> None:
        if isinstance(target, Session):
            await chat_loop(target, room, where)

    where.open_chat(room, join)
    await _say(session, "dim", "chat.waiting", node=target.node)
    await chat_loop(session, room, where)


async def on_sign_in(session: Session, board: Node) -> None:
    """Note the sign-in for the "last callers" list (and, several nodes, for the others)."""
    if board.cluster is not None:
        await board.cluster.signed_in(session)
    if session.caller.is_guest or board.db is None:
        return
    try:
        await store.record_caller(board.db, session.caller, session.node, store.now_utc())
    except StoreError:
        log.exception("%s: could not record the sign-in", session.link.peer)


async def _who_verb(ctx: Context, argument: str) -> None:
    await who(ctx, None)


VERBS = [
    Verb(("WHO", "QUI", "WER"), _who_verb, "verb.who", takes_argument=False),
    Verb(("PAGE",), page_command, "verb.page"),
    Verb(("CHAT",), chat_command, "verb.chat"),
]

COMMANDS: list[Command] = [
    Command("forum", forum, True, one_of(FORUM_CODES)),
    Command("forum_log", moderation_log),
    Command("who", who),
    Command("last_callers", last_callers),
    Command("page_toggle", page_toggle),
    Command("chat_sysop", lambda ctx, arg: chat_command(ctx, "")),
]
