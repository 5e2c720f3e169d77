"""Incident screens ("L'assistance Lotus par liaison"): opening an incident, following
and answering it, the specialists' queue, and the "vous avez 1 réponse" at sign-in.

The rules live in `bbs.support.incidents`; these screens ask, show and report. What
callers and specialists wrote is shown through `user_markup` only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bbs.accounts.model import Caller
from bbs.numbers import parse_number
from bbs.services.registry import Command, Context, unavailable
from bbs.session.pager import page
from bbs.session.session import Session
from bbs.store.db import StoreError, transaction
from bbs.support import incidents as inc
from bbs.support.entitlements import (
    CLOSE_REASON_KEYS,
    CLOSE_REASONS,
    Right,
    incident_rights,
    is_named_contact,
    today_utc,
)
from bbs.support.products import family_name, product_family_codes, product_name
from bbs.terminal.markup import escape
from bbs.terminal.sanitize import clean, user_markup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bbs.services.registry import Node

log = logging.getLogger(__name__)

ACTION_KEYS: dict[inc.Action, str] = {
    inc.Action.TAKE: "P",
    inc.Action.REPLY: "R",
    inc.Action.ASK: "D",
    inc.Action.RESOLVE: "S",
    inc.Action.CLOSE: "F",
    inc.Action.ANSWER: "R",
    inc.Action.CONFIRM: "C",
    inc.Action.ATTACH: "A",
}
"""The letter of each action at an incident's prompt (staff and callers never share one
screen, so R is "reply" for both)."""

RETRIES = 3
"""How often a caller may re-send after someone else changed the incident."""


async def edit_message(session: Session, title: str) -> str | None:
    """A description or message typed in the multi-line editor; None when abandoned."""
    from bbs.session.multiline import edit_text

    return await edit_text(session, title=title, max_chars=inc.TEXT_MAX)


# --- small helpers -------------------------------------------------------------------


async def _say(session: Session, style: str, key: str, **values: object) -> None:
    await session.send("{" + style + "}" + escape(session.text(key, **values)) + "{/}\n")


async def _ask(session: Session, key: str, max_len: int, **values: object) -> str:
    prompt = "{h}" + escape(session.text(key, **values)) + "{/} "
    return (await session.read_line(prompt, max_len=max_len)).strip()


async def _yes(session: Session, key: str, **values: object) -> bool:
    answer = await _ask(session, key, 8, **values)
    return answer[:1].upper() in {session.text("board.yes_key").upper(), "Y", "O", "J"}


async def _unavailable(session: Session, error: BaseException | None = None) -> None:
    await unavailable(session, error)
    await session.pause()


def _db(ctx: Context) -> AsyncEngine | None:
    return ctx.board.db


def _when(at: datetime) -> str:
    return f"{at:%d/%m/%Y %H:%M}"


def _cut(text: str, room: int) -> str:
    """Caller-written one-line text, cleaned, cut to `room` characters, as markup."""
    shown = clean(text)
    if len(shown) > room:
        shown = shown[: max(room - 3, 1)] + "..."
    return escape(shown)


def _state(session: Session, state: str) -> str:
    return session.text(f"inc.state.{state}")


def _number(value: str) -> int | None:
    return parse_number(value.strip().lstrip("#"))


# --- on sign-in -----------------------------------------------------------------------


async def on_sign_in(session: Session, board: Node) -> None:
    """Tell a caller about specialists' replies they have not read, and a specialist how
    many incidents wait to be taken; close resolved incidents left unanswered."""
    caller = session.caller
    db = board.db
    if caller.account_id is None or db is None:
        return
    try:
        await inc.expire_resolved(db)
        if caller.is_staff:
            waiting = await inc.new_in_queue(db)
            if waiting:
                await _say(session, "em", "inc.queue_waiting", count=waiting)
            return
        unread = await inc.unread_replies(db, caller.account_id)
    except StoreError:
        log.exception("%s: incident check at sign-in failed", session.link.peer)
        return
    if unread:
        key = "inc.replies_one" if unread == 1 else "inc.replies_many"
        await _say(session, "ok", key, count=unread)
        await _say(session, "dim", "inc.replies_where")


# --- opening -----------------------------------------------------------------------------


def _right_label(session: Session, right: Right) -> str:
    lang = session.lang
    if right.basis == "free":
        return session.text(
            "inc.right_free",
            product=product_name(right.product or "", lang),
            days=right.days_left,
        )
    credits = (
        session.text("inc.unlimited")
        if right.credits_left is None
        else session.text("inc.credits", count=right.credits_left)
    )
    return session.text(
        "inc.right_contract",
        number=right.contract_number or "",
        family=family_name(right.family, lang),
        credits=credits,
        days=right.days_left,
    )


async def _choose(session: Session, title_key: str, labels: Sequence[str]) -> int | None:
    """A numbered choice; the index chosen, None when the caller pressed Enter alone."""
    lines = ["{h}" + escape(session.text(title_key)) + "{/}"]
    lines += [f"  {{k}}{n}{{/}}  {escape(label)}" for n, label in enumerate(labels, start=1)]
    await page(session, "\n".join(lines) + "\n")
    while True:
        answer = await _ask(session, "inc.choose", 4)
        if not answer:
            return None
        choice = parse_number(answer)
        if choice is not None and 1 <= choice <= len(labels):
            return choice - 1
        await _say(session, "err", "inc.bad_choice", count=len(labels))


async def _read_field(session: Session, key: str, limit: int) -> str | None:
    """One required line of at most `limit` characters; None when left empty."""
    answer = await _ask(session, key, limit, limit=limit)
    return answer or None


async def _pick_right(session: Session, db: AsyncEngine, caller: Caller) -> Right | None:
    """The entitlement the incident goes under (asked when there are several)."""
    assert caller.account_id is not None
    async with transaction(db, write=False) as conn:
        rights = await incident_rights(conn, caller.account_id, today_utc())
        contact = await is_named_contact(conn, caller.account_id, today_utc())
    if not rights:
        await _say(session, "err", "inc.no_credit" if contact else "inc.no_right")
        await session.pause()
        return None
    if len(rights) == 1:
        await _say(session, "dim", "inc.under", right=_right_label(session, rights[0]))
        return rights[0]
    chosen = await _choose(session, "inc.choose_right", [_right_label(session, r) for r in rights])
    return rights[chosen] if chosen is not None else None


async def open_incident(ctx: Context, arg: str | None) -> None:
    """Open an incident: entitlement, product, version, system, summary, description,
    then examples to attach by upload."""
    session = ctx.session
    caller = session.caller
    db = _db(ctx)
    if caller.account_id is None or caller.is_staff:
        await _say(session, "err", "inc.guest" if caller.account_id is None else "inc.staff_open")
        await session.pause()
        return
    if db is None:
        await _unavailable(session)
        return
    await session.clear()
    await session.send("{title}" + escape(session.text("inc.open_title")) + "\n\n")
    try:
        right = await _pick_right(session, db, caller)
    except StoreError as error:
        log.exception("%s: reading incident rights failed", session.link.peer)
        await _unavailable(session, error)
        return
    if right is None:
        return
    form = await _fill_form(session, right)
    if form is None:
        await _say(session, "warn", "inc.abandoned")
        await session.pause()
        return
    try:
        number = await inc.open_incident(db, caller, form)
    except inc.NoCredit:
        await _say(session, "err", "inc.no_credit")
        await session.pause()
        return
    except inc.RightGone:
        await _say(session, "err", "inc.right_gone")
        await session.pause()
        return
    except inc.NotAllowed as refused:
        await _say(session, "err", str(refused), limit=inc.SUMMARY_MAX)
        await session.pause()
        return
    except StoreError as error:
        log.exception("%s: opening an incident failed", session.link.peer)
        await _unavailable(session, error)
        return
    log.info("%s: account %s opened incident %d", session.link.peer, caller.account_id, number)
    await _say(session, "ok", "inc.opened", number=number)
    if await _yes(session, "inc.ask_attach"):
        await attach_files(ctx, number)
    await session.pause()


async def _fill_form(session: Session, right: Right) -> inc.NewIncident | None:
    """Ask for what an incident needs; None when the caller gave up."""
    lang = session.lang
    products = inc.covered_products(right)
    if not products:
        return None
    if len(products) == 1:
        product = products[0]
        await _say(session, "dim", "inc.product_is", product=product_name(product, lang))
    else:
        chosen = await _choose(
            session, "inc.choose_product", [product_name(p, lang) for p in products]
        )
        if chosen is None:
            return None
        product = products[chosen]
    version = await _read_field(session, "inc.ask_version", inc.VERSION_MAX)
    if version is None:
        return None
    systems = [*inc.OPERATING_SYSTEMS, session.text("inc.os_other")]
    chosen = await _choose(session, "inc.choose_os", systems)
    if chosen is None:
        return None
    if chosen < len(inc.OPERATING_SYSTEMS):
        system: str | None = inc.OPERATING_SYSTEMS[chosen]
    else:
        system = await _read_field(session, "inc.ask_os", inc.OS_MAX)
    if system is None:
        return None
    summary = await _read_field(session, "inc.ask_summary", inc.SUMMARY_MAX)
    if summary is None:
        return None
    await _say(session, "dim", "inc.describe_help")
    description = await edit_message(session, session.text("inc.describe_title"))
    if description is None or not description.strip():
        return None
    cost = (
        session.text("inc.cost_credit", count=max(right.credits_left - 1, 0))
        if right.credits_left is not None
        else session.text("inc.cost_none")
    )
    await _say(session, "dim", "inc.cost", cost=cost)
    if not await _yes(session, "inc.confirm_open"):
        return None
    return inc.NewIncident(
        right=right,
        product=product,
        product_version=version,
        os=system,
        summary=summary,
        description=description,
    )


# --- attachments -------------------------------------------------------------------------


async def attach_files(ctx: Context, number: int) -> None:
    """Receive example files through the upload area and attach each completed one."""
    from bbs.services.transfers import ask_protocol, receive_files

    session = ctx.session
    db = _db(ctx)
    if db is None:
        await _unavailable(session)
        return
    await _say(session, "h", "xfer.deposit_intro", limit=ctx.board.config.upload_max_bytes)
    letter = await ask_protocol(session)
    if letter is None:
        return
    received = await receive_files(ctx, letter)
    if not received:
        return
    uploads = []
    for r in received:
        prompt = "{h}" + escape(session.text("inc.describe_file")) + "{/} "
        await session.send(user_markup(r.name) + "\n")
        description = await session.read_line(prompt, max_len=inc.DESCRIPTION_MAX)
        uploads.append(
            inc.Upload(
                stored_name=r.id,
                sender_name=r.name,
                size=r.size,
                sha256=r.sha256,
                description=description.strip(),
            )
        )
    try:
        count = await inc.attach(db, session.caller, number, uploads)
    except (inc.Unknown, inc.NotAllowed):
        await _say(session, "err", "inc.attach_refused")
        return
    except StoreError as error:
        log.exception("%s: recording attachments of incident %d failed", session.link.peer, number)
        await _unavailable(session, error)
        return
    await _say(session, "ok", "inc.attached", count=count, number=number)


# --- lists -----------------------------------------------------------------------------


def _row(session: Session, incident: inc.Incident, unread: int = 0) -> str:
    """One line of a list: number, state, date, summary, unread replies."""
    state = _state(session, incident.state)
    opened = f"{incident.opened_at:%d/%m/%Y}"
    head = f"  {{k}}{incident.id:>5}{{/}} {escape(state):<16} {{dim}}{opened}{{/}} "
    room = max(session.caps.cols - 1 - 36, 10)
    line = head + _cut(incident.summary, room)
    if unread:
        key = "inc.unread_one" if unread == 1 else "inc.unread_many"
        line += " {em}" + escape(session.text(key, count=unread)) + "{/}"
    return line


async def my_incidents(ctx: Context, arg: str | None) -> None:
    """The caller's incidents (a contact's: their company's) with unread replies; read one."""
    session = ctx.session
    caller = session.caller
    db = _db(ctx)
    if caller.account_id is None:
        await _say(session, "err", "inc.guest_none")
        await session.pause()
        return
    if db is None:
        await _unavailable(session)
        return
    while True:
        try:
            listed = await inc.caller_incidents(db, caller)
        except StoreError as error:
            log.exception("%s: listing incidents failed", session.link.peer)
            await _unavailable(session, error)
            return
        await session.clear()
        lines = ["{title}" + escape(session.text("inc.mine_title")), ""]
        if not listed:
            lines.append(escape(session.text("inc.mine_none")))
        lines += [_row(session, item.incident, item.unread) for item in listed]
        await page(session, "\n".join(lines) + "\n")
        if not listed:
            await session.pause()
            return
        if not await _pick_and_read(ctx):
            return


async def _pick_and_read(ctx: Context) -> bool:
    """Ask for a number and read it; False when the caller wants to leave the list."""
    session = ctx.session
    answer = await ctx.choose("inc.choose_incident", 12)
    if answer is None:
        return False
    number = _number(answer)
    if number is None:
        await _say(session, "err", "inc.unknown", number=clean(answer)[:12])
        await session.pause()
        return True
    await read_screen(ctx, number)
    return True


async def read_by_number(ctx: Context, arg: str | None) -> None:
    """Read an incident by its number."""
    session = ctx.session
    if session.caller.account_id is None:
        await _say(session, "err", "inc.guest_none")
        await session.pause()
        return
    await _pick_and_read(ctx)


async def specialist_queue(ctx: Context, arg: str | None) -> None:
    """The specialists' queue: oldest first, all families or one; read and work one."""
    session = ctx.session
    caller = session.caller
    db = _db(ctx)
    if not caller.is_staff:
        await _say(session, "err", "inc.staff_only")
        await session.pause()
        return
    if db is None:
        await _unavailable(session)
        return
    families = list(product_family_codes())
    chosen = await _choose(
        session, "inc.choose_family", [family_name(f, session.lang) for f in families]
    )
    family = families[chosen] if chosen is not None else None
    while True:
        try:
            waiting = await inc.queue(db, family)
        except StoreError as error:
            log.exception("%s: reading the queue failed", session.link.peer)
            await _unavailable(session, error)
            return
        await session.clear()
        title = session.text(
            "inc.queue_title",
            family=family_name(family, session.lang) if family else session.text("inc.all"),
        )
        lines = ["{title}" + escape(title), ""]
        if not waiting:
            lines.append(escape(session.text("inc.queue_empty")))
        for incident in waiting:
            lines.append(_row(session, incident))
            who = incident.specialist or "-"
            lines.append(
                "        {dim}"
                + escape(product_name(incident.product, session.lang))
                + " - "
                + _cut(incident.company or incident.opener, 30)
                + " - "
                + _cut(who, 20)
                + "{/}"
            )
        await page(session, "\n".join(lines) + "\n")
        if not waiting:
            await session.pause()
            return
        if not await _pick_and_read(ctx):
            return


# --- one incident -------------------------------------------------------------------------


def _event_markup(session: Session, event: inc.Event, incident: inc.Incident) -> list[str]:
    """An event of the history: when, who, what, and what they wrote."""
    if event.actor_id is None:
        who = escape(session.text("inc.board"))
    else:
        who = user_markup(event.actor)
        if event.staff:
            who += " " + escape(session.text("inc.specialist_tag"))
    what = session.text(f"inc.ev.{event.kind}")
    reason = incident.close_reason
    if event.kind == inc.Action.CLOSE and reason is not None and reason in CLOSE_REASON_KEYS:
        what += " : " + session.text(CLOSE_REASON_KEYS[reason])
    head = f"{{dim}}{_when(event.at)}{{/}} {{h}}{who}{{/}} {escape(what)}"
    if event.state_from and event.state_to and event.state_from != event.state_to:
        head += (
            " {dim}("
            + escape(
                session.text(
                    "inc.state_change",
                    before=_state(session, event.state_from),
                    after=_state(session, event.state_to),
                )
            )
            + "){/}"
        )
    lines = [head]
    if event.body and event.kind != inc.Action.ATTACH:
        lines += ["    " + line for line in user_markup(event.body, multiline=True).split("\n")]
    elif event.body:
        lines.append("    " + user_markup(event.body))
    return lines


def _incident_markup(session: Session, file: inc.IncidentFile) -> str:
    incident = file.incident
    lang = session.lang
    t = session.text
    lines = [
        "{title}" + escape(t("inc.read_title", number=incident.id)),
        "",
        "{h}" + escape(t("inc.summary")) + "{/} " + user_markup(incident.summary),
        "{h}" + escape(t("inc.state")) + "{/} " + escape(_state(session, incident.state)),
        "{h}"
        + escape(t("inc.product"))
        + "{/} "
        + escape(product_name(incident.product, lang))
        + " "
        + user_markup(incident.product_version)
        + " - "
        + user_markup(incident.os),
        "{h}"
        + escape(t("inc.opened_by"))
        + "{/} "
        + user_markup(incident.opener)
        + (" (" + user_markup(incident.company) + ")" if incident.company else "")
        + " - "
        + _when(incident.opened_at),
        "{h}"
        + escape(t("inc.specialist"))
        + "{/} "
        + (user_markup(incident.specialist) if incident.specialist else "-"),
    ]
    if file.attachments:
        lines.append("{h}" + escape(t("inc.attachments")) + "{/}")
        lines += [
            f"    {user_markup(a.sender_name)} {{dim}}({a.size} o, {a.stored_name[:8]}){{/}}"
            + (f" - {user_markup(a.description)}" if a.description else "")
            for a in file.attachments
        ]
    lines += ["", "{h}" + escape(t("inc.history")) + "{/}"]
    for event in file.events:
        lines += _event_markup(session, event, incident)
    return "\n".join(lines) + "\n"


async def read_screen(ctx: Context, number: int) -> None:
    """Show an incident and its history, then what the reader may do to it."""
    session = ctx.session
    caller = session.caller
    db = _db(ctx)
    if db is None:
        await _unavailable(session)
        return
    while True:
        try:
            file = await inc.read_incident(db, caller, number)
            if file is None:
                await _refuse(ctx, number)
                return
            if file.incident.account_id == caller.account_id:
                await inc.mark_seen(db, caller, number)
        except StoreError as error:
            log.exception("%s: reading incident %d failed", session.link.peer, number)
            await _unavailable(session, error)
            return
        await session.clear()
        await page(session, _incident_markup(session, file))
        actions = inc.actions_for(caller, file.incident)
        if not actions:
            await session.pause()
            return
        choice = await _choose_action(session, actions)
        if choice is None:
            return
        if choice is inc.Action.ATTACH:
            await attach_files(ctx, number)
            await session.pause()
            continue
        await _carry_out(ctx, file, choice)


async def _refuse(ctx: Context, number: int) -> None:
    """The same answer for an incident that does not exist and one the caller may not see;
    the log tells them apart."""
    session = ctx.session
    caller = session.caller
    db = _db(ctx)
    exists = False
    if db is not None:
        try:
            exists = await inc.incident_exists(db, number)
        except StoreError:
            log.exception("%s: incident lookup failed", session.link.peer)
    if exists:
        log.warning(
            "%s: account %s (%s) refused incident %d: not theirs to see",
            session.link.peer,
            caller.account_id,
            caller.role,
            number,
        )
    else:
        log.warning(
            "%s: account %s (%s) asked for incident %d, which does not exist",
            session.link.peer,
            caller.account_id,
            caller.role,
            number,
        )
    await _say(session, "err", "inc.unknown", number=number)
    await session.pause()


async def _choose_action(session: Session, actions: Sequence[inc.Action]) -> inc.Action | None:
    by_key = {ACTION_KEYS[a]: a for a in actions}
    choices = "  ".join(
        f"{{k}}{ACTION_KEYS[a]}{{/}} {escape(session.text(f'inc.do.{a.value}'))}" for a in actions
    )
    await session.send(choices + "\n")
    while True:
        answer = await _ask(session, "inc.choose_action", 4)
        if not answer:
            return None
        action = by_key.get(answer.upper())
        if action is not None:
            return action
        await _say(session, "err", "inc.bad_action")


async def _carry_out(ctx: Context, file: inc.IncidentFile, action: inc.Action) -> None:
    """Ask what `action` needs, then write it; on a conflict, say what changed and offer
    to send again when the action still makes sense."""
    session = ctx.session
    db = _db(ctx)
    assert db is not None
    body = ""
    reason: str | None = None
    if action in inc.NEEDS_TEXT:
        typed = await edit_message(session, session.text(f"inc.do.{action.value}"))
        if typed is None or not typed.strip():
            await _say(session, "warn", "inc.nothing_sent")
            await session.pause()
            return
        body = typed
    elif action is inc.Action.CLOSE:
        labels = [session.text(CLOSE_REASON_KEYS[code]) for code in CLOSE_REASONS]
        chosen = await _choose(session, "inc.choose_reason", labels)
        if chosen is None:
            return
        reason = CLOSE_REASONS[chosen]
        body = await _ask(session, "inc.ask_close_note", 200)
    elif action is inc.Action.CONFIRM and not await _yes(session, "inc.confirm_confirm"):
        return
    incident = file.incident
    seen = file.last_event_id
    for _ in range(RETRIES):
        try:
            await inc.act(
                db,
                session.caller,
                incident.id,
                action,
                read_version=incident.version,
                seen_event=seen,
                body=body,
                reason=reason,
            )
        except inc.Conflict as conflict:
            await _show_conflict(session, incident, conflict)
            incident = conflict.incident
            seen = max((e.id for e in conflict.changes), default=seen)
            if not inc.may_act(session.caller, incident, action):
                await _say(session, "warn", "inc.not_sent")
                await session.pause()
                return
            if not await _yes(session, "inc.send_anyway"):
                return
            continue
        except inc.Unknown:
            await _say(session, "err", "inc.unknown", number=incident.id)
            await session.pause()
            return
        except inc.NotAllowed as refused:
            await _say(session, "err", str(refused))
            await session.pause()
            return
        except StoreError as error:
            log.exception("%s: updating incident %d failed", session.link.peer, incident.id)
            await _unavailable(session, error)
            return
        log.info(
            "%s: account %s: %s on incident %d",
            session.link.peer,
            session.caller.account_id,
            action.value,
            incident.id,
        )
        await _say(session, "ok", f"inc.done.{action.value}", number=incident.id)
        await session.pause()
        return


async def _show_conflict(session: Session, before: inc.Incident, conflict: inc.Conflict) -> None:
    """What someone else did to the incident since the caller read it."""
    now = conflict.incident
    await _say(session, "warn", "inc.conflict", number=now.id)
    if now.state != before.state:
        await _say(
            session,
            "warn",
            "inc.state_change",
            before=_state(session, before.state),
            after=_state(session, now.state),
        )
    lines: list[str] = []
    for event in conflict.changes:
        lines += _event_markup(session, event, now)
    if lines:
        await session.send("\n".join(lines) + "\n")


COMMANDS: list[Command] = [
    Command("incident_open", open_incident),
    Command("incidents", my_incidents),
    Command("incident_read", read_by_number),
    Command("incident_queue", specialist_queue),
]
