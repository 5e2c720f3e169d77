"""The text side of the document store: folded search text, snippets, DOS text files.

Search ignores case and accents ("memoire" finds "Mémoire"): a document's title,
keywords and body are stored folded (`search_text`) and queries are folded the
same way (`bbs.documents.query`).

Snippets are plain text, one line, with each matched word between `MARK_OPEN` and
`MARK_CLOSE` (control characters a document never contains); `to_markup` turns them
into the board's ``{em}`` markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bbs.directory.text import words
from bbs.documents.query import Term
from bbs.terminal.caps import Encoding
from bbs.terminal.encoding import encode_as
from bbs.terminal.markup import escape

MARK_OPEN = "\x02"
"""Starts a matched word in a snippet."""

MARK_CLOSE = "\x03"
"""Ends a matched word in a snippet."""

SNIPPET_WIDTH = 150
"""About how many characters of text a snippet shows (two screen lines)."""

MIN_SNIPPET_WIDTH = 20
"""Narrower widths are widened to this."""

# A word of the original text: letters and digits, with any combining marks inside.
_TEXT_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff])+")


def search_text(text: str) -> str:
    """`text` as the index stores it: its folded words separated by single spaces,
    "« Mémoire insuffisante » (WK4)" -> "memoire insuffisante wk4"."""
    return " ".join(words(text))


def snippet(
    body: str,
    terms: Sequence[Term],
    *,
    keywords: Sequence[str] = (),
    title: str = "",
    width: int = SNIPPET_WIDTH,
) -> str:
    """A one-line extract of a note with its matched words marked, at most `width`
    characters long without the marks.

    From the body, around the place where most query words are found together; when
    the body has none, the keywords or the title with theirs; failing all, the
    body's beginning.
    """
    width = max(width, MIN_SNIPPET_WIDTH)
    flat = " ".join(body.split())
    for source in (flat, ", ".join(keywords), " ".join(title.split())):
        found = _window(source, terms, width)
        if found is not None:
            return found
    return _shorten(flat, width)


def to_markup(snippet: str) -> str:
    """A snippet as board markup: text escaped, matched words in ``{em}``."""
    out = escape(snippet)
    return out.replace(MARK_OPEN, "{em}").replace(MARK_CLOSE, "{/}")


def unmark(snippet: str, before: str = "", after: str = "") -> str:
    """A snippet with its marks replaced (by nothing, or by `before`/`after`)."""
    return snippet.replace(MARK_OPEN, before).replace(MARK_CLOSE, after)


def _matched(token: str, terms: Sequence[Term]) -> int | None:
    """The index of the term a word of the original text matches, if any."""
    for word in words(token):
        for index, term in enumerate(terms):
            if term.matches(word):
                return index
    return None


def _window(text: str, terms: Sequence[Term], width: int) -> str | None:
    spans = [
        (m.start(), m.end(), index)
        for m in _TEXT_WORD.finditer(text)
        if (index := _matched(m.group(), terms)) is not None
    ]
    if not spans:
        return None
    room = width - 2  # an ellipsis may go at either end
    # The window starting at the match that has the most distinct terms after it.
    best, best_count = 0, 0
    for i, (first, _, _) in enumerate(spans):
        count = len({term for _, end, term in spans[i:] if end <= first + room})
        if count > best_count:
            best, best_count = i, count
    anchor, anchor_end, _ = spans[best]
    # Some words of context before the anchor; more when the text ends soon after.
    start = max(0, min(anchor - room // 4, len(text) - room))
    if start > 0:
        space = text.find(" ", start - 1, anchor)
        start = space + 1 if space != -1 else anchor
    end = start + room
    if end >= len(text):
        end = len(text)
    else:
        space = text.rfind(" ", anchor_end, end + 1)
        if space != -1:
            end = space
    pieces = ["…" if start > 0 else ""]
    at = start
    for first, last, _ in spans:
        if first >= at and last <= end:
            pieces += [text[at:first], MARK_OPEN, text[first:last], MARK_CLOSE]
            at = last
    pieces += [text[at:end], "…" if end < len(text) else ""]
    return "".join(pieces)


def _shorten(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    space = text.rfind(" ", 0, width)
    return text[: space if space > 0 else width - 1] + "…"


def row_snippet(row: Mapping[Any, Any], terms: Sequence[Term], width: int) -> str:
    """The snippet of a stored document row (body, comma-joined keywords, title) for
    the search `terms`: the library's notes and the Knowledge base's articles alike."""
    return snippet(
        row["body"],
        terms,
        keywords=[k.strip() for k in row["keywords"].split(",")],
        title=row["title"],
        width=width,
    )


def dos_text(header: Sequence[str], body: str) -> bytes:
    """A document as a DOS text file of the period: its header lines, a blank line,
    its body; CP437, CR LF line ends."""
    text = "\r\n".join([*header, "", *body.splitlines()]) + "\r\n"
    return encode_as(text, Encoding.CP437)
