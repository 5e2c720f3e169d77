"""The web site's page frame: a 1995 support page (grey, serif, blue links), phone-readable."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from bbs.accounts.model import Caller
from bbs.menus.strings import LANGS, Strings

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """User or data text ready for HTML: controls and direction overrides dropped, escaped."""
    return escape(_CONTROLS.sub("", str(text)), quote=True)


STYLE = """
body{background:#c0c0c0;color:#000;font-family:"Times New Roman",Times,serif;margin:0 auto;
max-width:52em;padding:.5em}
a{color:#00e}a:visited{color:#551a8b}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:.8em 0 .3em}
.bar{background:#000080;color:#fff;padding:.3em .5em;font-weight:bold}
.bar a{color:#ff0}
.nav{background:#e0e0e0;border:2px outset #fff;padding:.3em .5em;margin:.4em 0;line-height:1.8}
.nav a{margin-right:.6em;white-space:nowrap}
.lang{float:right}
pre{font-family:"Courier New",Courier,monospace;font-size:.9em;background:#fff;
border:2px inset #fff;padding:.4em;overflow-x:auto;white-space:pre}
pre.doc{white-space:pre-wrap}
.h{font-weight:bold}.k{font-weight:bold;color:#800000}.em{font-style:italic;font-weight:bold}
.dim{color:#555}.ok{color:#006400;font-weight:bold}.warn{color:#8b4500;font-weight:bold}
.err{color:#b00000;font-weight:bold}.link{color:#00e;text-decoration:underline}
.center{text-align:center}
.msg{border:2px solid #800000;background:#fff8dc;padding:.4em}
form.inline{display:inline}
input,select,textarea,button{font-family:inherit;font-size:1em;max-width:100%}
textarea{width:100%}
table.list{border-collapse:collapse;background:#fff;width:100%}
table.list td,table.list th{border:1px solid #808080;padding:.2em .4em;vertical-align:top}
footer{font-size:.85em;margin-top:1em;border-top:1px solid #808080;padding-top:.3em}
img.logo{vertical-align:middle}
"""


@dataclass(frozen=True, slots=True)
class Frame:
    """What every page shows around its body: the language, who is signed in, the nav."""

    strings: Strings
    lang: str
    caller: Caller
    csrf: str
    path: str
    telnet_port: int

    def t(self, key: str, **values: object) -> str:
        """A string in the page's language, escaped for HTML."""
        return clean(self.strings.get(key, self.lang, **values))


def csrf_field(frame: Frame) -> str:
    """The hidden CSRF input every form carries."""
    return f'<input type="hidden" name="csrf" value="{clean(frame.csrf)}">'


def render_page(frame: Frame, title: str, body: str, *, message: str = "") -> str:
    """A whole HTML page: title bar, navigation, an optional message, the body, the footer."""
    t = frame.t
    nav = [
        f'<a href="/">{t("web.nav_index")}</a>',
        f'<a href="/annuaire">{t("web.nav_dir")}</a>',
        f'<a href="/bibliotheque">{t("web.nav_lib")}</a>',
        f'<a href="/kb">{t("web.nav_kb")}</a>',
        f'<a href="/incidents">{t("web.nav_inc")}</a>',
        f'<a href="/terminal">{t("web.nav_term")}</a>',
    ]
    if frame.caller.is_guest:
        nav.append(f'<a href="/connexion">{t("web.nav_signin")}</a>')
    else:
        nav.append(
            f"{t('web.signed_as', name=frame.caller.name)} "
            f'<form class="inline" method="post" action="/deconnexion">{csrf_field(frame)}'
            f'<button type="submit">{t("web.nav_signout")}</button></form>'
        )
    here = clean(frame.path)
    langs = " | ".join(
        f"<b>{code.upper()}</b>"
        if code == frame.lang
        else f'<a href="{here}?lang={code}" hreflang="{code}">{code.upper()}</a>'
        for code in LANGS
    )
    notice = f'<p class="msg">{message}</p>' if message else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{frame.lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{clean(title)} - Lotus</title><style>{STYLE}</style></head><body>"
        f'<div class="bar">Lotus Development - {t("web.nav_index")}'
        f'<span class="lang">{t("web.lang")} : {langs}</span></div>'
        f'<div class="nav">{" ".join(nav)}</div>'
        f"<h1>{clean(title)}</h1>{notice}{body}"
        f"<footer>{t('web.footer', port=frame.telnet_port)}</footer>"
        "</body></html>\n"
    )
