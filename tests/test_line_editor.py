"""The plain line editor (issue 10, symptom 7): what a VT-100 shows after any keys, rendered
by pyte, is the prompt and the line, wrapped, with the cursor where the next key goes;
and the same keys over a session at a real prompt."""

from __future__ import annotations

import pyte
from hypothesis import given
from hypothesis import strategies as st

from bbs.session.keys import Key
from bbs.session.lineedit import LineEditor
from bbs.terminal.caps import Caps, Tier
from bbs.terminal.controls import Controls

PROMPT = "Votre choix : "
KEYS = [
    Key.ERASE,
    Key.DELETE,
    Key.LEFT,
    Key.RIGHT,
    Key.HOME,
    Key.END,
    Key.KILL_LINE,
    Key.KILL_END,
    Key.KILL_WORD,
    Key.UP,
    Key.DOWN,
]


def terminal(cols: int, rows: int = 12) -> tuple[pyte.Screen, pyte.Stream]:
    screen = pyte.Screen(cols, rows)
    return screen, pyte.Stream(screen)


def editor(cols: int, limit: int = 120, secret: bool = False) -> LineEditor:
    controls = Controls(Caps(tier=Tier.VT100, cols=cols, rows=12))
    return LineEditor(
        controls,
        PROMPT,
        len(PROMPT),
        limit,
        secret=secret,
        history=("bonjour le monde", "GO ANNUAIRE"),
    )


def shown(screen: pyte.Screen) -> str:
    return "".join(screen.display).rstrip()


def check(screen: pyte.Screen, line: LineEditor) -> None:
    text = "*" * len(line.chars) if line.secret else line.text
    assert shown(screen) == (PROMPT + text).rstrip()
    at = len(PROMPT) + line.cursor
    assert (screen.cursor.y, screen.cursor.x) == (at // screen.columns, at % screen.columns)


@given(
    st.lists(st.one_of(st.sampled_from("ab é"), st.sampled_from(KEYS)), max_size=150),
    st.sampled_from([20, 40, 80]),
)
def test_any_keys_leave_the_screen_showing_the_line(keys: list[str | Key], cols: int) -> None:
    screen, stream = terminal(cols)
    line = editor(cols)
    stream.feed(PROMPT)
    for key in keys:
        stream.feed(line.key(key))
        check(screen, line)


def test_sixty_characters_and_forty_backspaces_across_the_wrap() -> None:
    """The report: 60 B, 40 backspaces left 38 B on screen while 20 were received."""
    screen, stream = terminal(40)
    line = editor(40)
    stream.feed(PROMPT)
    for _ in range(60):
        stream.feed(line.key("B"))
    for _ in range(40):
        stream.feed(line.key(Key.ERASE))
    assert line.text == "B" * 20
    check(screen, line)


def test_control_u_clears_every_wrapped_row() -> None:
    screen, stream = terminal(40)
    line = editor(40)
    stream.feed(PROMPT)
    for _ in range(70):
        stream.feed(line.key("x"))
    stream.feed(line.key(Key.KILL_LINE))
    assert line.text == "" and shown(screen) == PROMPT.rstrip()


def test_editing_in_the_middle_and_history() -> None:
    screen, stream = terminal(80)
    line = editor(80)
    stream.feed(PROMPT)
    for ch in "bonjour":
        stream.feed(line.key(ch))
    for key in (Key.HOME, "x", Key.END, " ", "a", "b", Key.KILL_WORD):
        stream.feed(line.key(key))
    assert line.text == "xbonjour "
    stream.feed(line.key(Key.UP))
    assert line.text == "GO ANNUAIRE"
    stream.feed(line.key(Key.UP))
    assert line.text == "bonjour le monde"
    stream.feed(line.key(Key.DOWN))
    stream.feed(line.key(Key.DOWN))
    assert line.text == "xbonjour "  # the line being typed comes back
    check(screen, line)


def test_passwords_have_no_history_and_show_stars() -> None:
    screen, stream = terminal(40)
    line = editor(40, secret=True)
    stream.feed(PROMPT)
    for ch in "secret":
        stream.feed(line.key(ch))
    stream.feed(line.key(Key.UP))
    assert line.text == "secret"
    check(screen, line)


def test_a_message_under_the_prompt_and_the_line_drawn_again() -> None:
    screen, stream = terminal(40)
    line = editor(40)
    stream.feed(PROMPT)
    for ch in "a" * 50:
        stream.feed(line.key(ch))
    stream.feed(line.key(Key.HOME))
    stream.feed(line.wipe() + "Page du noeud 2 : bonjour\r\n" + line.redraw(0))
    assert screen.display[0].rstrip() == "Page du noeud 2 : bonjour"
    assert "".join(screen.display[1:]).rstrip() == PROMPT + "a" * 50
    at = len(PROMPT)
    assert (screen.cursor.y, screen.cursor.x) == (1 + at // 40, at % 40)
