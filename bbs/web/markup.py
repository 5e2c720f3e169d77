"""Board markup (bbs/terminal/markup.py) as HTML: the same texts the terminal shows, escaped."""

from __future__ import annotations

from html import escape as html_escape

from bbs.terminal.markup import Block, Line, parse

_CLASSES = {
    "h": "h",
    "k": "k",
    "em": "em",
    "dim": "dim",
    "ok": "ok",
    "warn": "warn",
    "err": "err",
    "link": "link",
}


def _line_html(line: Line) -> str:
    """One markup line's runs as nested spans; every character of text is escaped."""
    out: list[str] = []
    for run in line.runs:
        text = html_escape(run.text, quote=True)
        for style in reversed(run.styles):
            text = f'<span class="{_CLASSES[style.value]}">{text}</span>'
        out.append(text)
    return "".join(out)


def to_html(markup: str) -> str:
    """Markup as HTML for a <pre>-less page: paragraphs, titles, rules, preformatted tables.

    Lines that start with spaces or hold box drawing keep their layout (a table); runs of
    plain lines become paragraphs, so prose wraps on a small screen.
    """
    blocks: list[str] = []
    para: list[str] = []
    pre: list[str] = []

    def flush() -> None:
        if para:
            blocks.append("<p>" + "<br>\n".join(para) + "</p>")
            para.clear()
        if pre:
            blocks.append('<pre class="tab">' + "\n".join(pre) + "</pre>")
            pre.clear()

    for line in parse(markup):
        if line.block is Block.HR:
            flush()
            blocks.append("<hr>")
            continue
        if line.block is Block.TITLE:
            flush()
            blocks.append(f"<h2>{_line_html(line)}</h2>")
            continue
        if line.block is Block.CENTER:
            flush()
            blocks.append(f'<p class="center">{_line_html(line)}</p>')
            continue
        text = line.text
        if not text.strip():
            flush()
            continue
        tabular = text.startswith(" ") or any("\u2500" <= c <= "\u257f" for c in text)
        if tabular:
            if para:
                blocks.append("<p>" + "<br>\n".join(para) + "</p>")
                para.clear()
            pre.append(_line_html(line))
        else:
            if pre:
                blocks.append('<pre class="tab">' + "\n".join(pre) + "</pre>")
                pre.clear()
            para.append(_line_html(line))
    flush()
    return "\n".join(blocks)


def to_pre(markup: str) -> str:
    """Markup as one preformatted block, line for line (notes and articles as written)."""
    lines = []
    for line in parse(markup):
        if line.block is Block.HR:
            lines.append("-" * 40)
        else:
            lines.append(_line_html(line))
    return '<pre class="doc">' + "\n".join(lines) + "</pre>"
