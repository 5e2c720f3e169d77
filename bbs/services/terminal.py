"""`cmd:terminal`: the "Paramètres du terminal" screen, to see and change what was detected."""

from __future__ import annotations

from bbs.accounts.model import Prefs
from bbs.numbers import parse_number
from bbs.services.registry import Command, Context
from bbs.services.transfers import PROTOCOLS
from bbs.session.session import Session
from bbs.terminal.caps import (
    MAX_COLS,
    MAX_ROWS,
    MIN_COLS,
    MIN_ROWS,
    MINITEL_CAPS,
    SPEEDS,
    Caps,
    Encoding,
    Tier,
)
from bbs.terminal.markup import escape

TIER_KEYS = {"1": Tier.ANSI, "2": Tier.VT100, "3": Tier.DUMB, "4": Tier.VIDEOTEX}
ENCODING_KEYS = {"1": Encoding.CP437, "2": Encoding.UTF8, "3": Encoding.LATIN1, "4": Encoding.ASCII}


def chosen(session: Session, choice: str) -> Prefs:
    """What changing `choice` on the settings screen put in force, to keep with the account."""
    caps = session.caps
    if choice == "1":
        return Prefs(tier=caps.tier.value)
    if choice == "2":
        return Prefs(encoding=caps.encoding.value)
    if choice == "3":
        return Prefs(cols=caps.cols, rows=caps.rows)
    if choice == "4":
        return Prefs(eight_bit=caps.eight_bit)
    if choice == "5":
        return Prefs(baud=caps.baud)
    if choice == "6":
        return Prefs(hotkeys=session.hotkeys)
    if choice == "7":
        return Prefs(protocol=session.protocol)
    return Prefs()


def with_tier(caps: Caps, tier: Tier) -> Caps:
    """`caps` for another tier: a Minitel is 40x24 Videotex (at the speed in force); leaving
    it gives back an 80x24 ASCII screen, which the caller may then change."""
    if tier is Tier.VIDEOTEX:
        return MINITEL_CAPS.with_(baud=caps.baud)
    if caps.tier is Tier.VIDEOTEX:
        return caps.with_(tier=tier, encoding=Encoding.ASCII, cols=80, rows=24)
    return caps.with_(tier=tier)


def _speed(session: Session, baud: int) -> str:
    return f"{baud} bauds" if baud else session.text("term.speed_unlimited")


def settings_screen(session: Session) -> str:
    """The settings screen as markup: what is in force, and the keys that change it."""
    caps = session.caps
    t = session.text
    on_off = {True: t("term.on"), False: t("term.off")}
    detection = session.detection
    detected = detection.describe(t) if detection else session.detected
    rows = [
        (t("term.detected"), detected or "-"),
        (t("term.tier"), t(f"term.tier_{caps.tier.value}")),
        (t("term.encoding"), caps.encoding.value.upper()),
        (t("term.size"), f"{caps.cols} x {caps.rows}"),
        (t("term.bits"), "8" if caps.eight_bit else "7"),
        (t("term.speed"), _speed(session, caps.baud)),
        (t("term.hotkeys"), on_off[session.hotkeys]),
        (t("term.protocol"), PROTOCOLS[session.protocol].name),
        (t("term.language"), session.lang.upper()),
    ]
    width = max(len(label) for label, _ in rows)
    lines = ["{title}" + escape(t("term.title")), ""]
    lines += [
        f"  {escape(label.ljust(width))} : {{em}}{escape(value)}{{/}}" for label, value in rows
    ]
    lines += ["", "  {dim}" + escape(t("term.line_settings")) + "{/}", ""]
    choices = [
        ("1", t("term.change_tier")),
        ("2", t("term.change_encoding")),
        ("3", t("term.change_size")),
        ("4", t("term.change_bits")),
        ("5", t("term.change_speed")),
        ("6", t("term.change_hotkeys")),
        ("7", t("term.change_protocol")),
        ("Q", t("term.back")),
    ]
    lines += [f"  {{k}}{key}{{/}}  {escape(label)}" for key, label in choices]
    return "\n".join(lines) + "\n"


async def _ask(session: Session, key: str, **values: object) -> str:
    return (
        await session.read_line("{h}" + escape(session.text(key, **values)) + "{/} ", max_len=16)
    ).strip()


async def _invalid(session: Session) -> None:
    await session.send("{err}" + escape(session.text("term.invalid")) + "{/}\n")
    await session.pause()


async def change(session: Session, choice: str) -> bool:
    """Apply one change from the settings screen; False when the choice was not valid.

    Bad input gets a clear message and changes nothing.
    """
    caps = session.caps
    if choice == "1":
        options = "  ".join(
            f"{k}={session.text(f'term.tier_{v.value}')}" for k, v in TIER_KEYS.items()
        )
        answer = await _ask(session, "term.ask_tier", options=options)
        if answer not in TIER_KEYS:
            return False
        session.set_caps(with_tier(caps, TIER_KEYS[answer]))
        session.rebuild_decoder()
    elif choice == "2":
        options = "  ".join(f"{k}={v.value.upper()}" for k, v in ENCODING_KEYS.items())
        answer = await _ask(session, "term.ask_encoding", options=options)
        if answer not in ENCODING_KEYS or caps.tier is Tier.VIDEOTEX:
            return False
        session.set_caps(caps.with_(encoding=ENCODING_KEYS[answer]))
        session.rebuild_decoder()
    elif choice == "3":
        answer = await _ask(
            session,
            "term.ask_size",
            min_cols=MIN_COLS,
            max_cols=MAX_COLS,
            min_rows=MIN_ROWS,
            max_rows=MAX_ROWS,
        )
        cols_text, _, rows_text = answer.lower().replace(" ", "").partition("x")
        cols_typed, rows_typed = parse_number(cols_text), parse_number(rows_text)
        if cols_typed is None or rows_typed is None:
            return False
        cols, rows = cols_typed, rows_typed
        if not (MIN_COLS <= cols <= MAX_COLS and MIN_ROWS <= rows <= MAX_ROWS):
            return False
        session.set_caps(caps.with_(cols=cols, rows=rows))
    elif choice == "4":
        session.set_caps(caps.with_(eight_bit=not caps.eight_bit))
        session.rebuild_decoder()
    elif choice == "5":
        options = ", ".join(str(s) for s in SPEEDS)
        answer = await _ask(session, "term.ask_speed", options=options)
        if answer == "0":
            session.set_caps(caps.with_(baud=0))
        elif (speed := parse_number(answer)) is not None and speed in SPEEDS:
            session.set_caps(caps.with_(baud=speed))
        else:
            return False
    elif choice == "6":
        session.hotkeys = not session.hotkeys
    elif choice == "7":
        options = ", ".join(f"{k}={p.name}" for k, p in PROTOCOLS.items())
        answer = (await _ask(session, "term.ask_protocol", options=options)).upper()
        if answer not in PROTOCOLS:
            return False
        session.protocol = answer
    else:
        return False
    return True


async def terminal_settings(ctx: Context, arg: str | None) -> None:
    """Show the terminal settings and let the caller change them until Q."""
    session = ctx.session
    while True:
        await session.clear()
        await session.send(settings_screen(session))
        answer = await session.read_line(
            "{h}" + escape(session.text("board.prompt")) + "{/} ",
            max_len=40,
            instant=(lambda ch: ch.upper() in "1234567Q") if session.hotkeys else None,
        )
        choice = answer.strip().upper()
        if choice in ("Q", ""):
            return
        handled = await ctx.engine.global_command(answer)
        if handled is not None:
            return
        if not await change(session, choice):
            await _invalid(session)
            continue
        from bbs.services.account import keep_prefs

        await keep_prefs(session, ctx.board, chosen(session, choice))


COMMAND = Command("terminal", terminal_settings)
