"""The web application: routes, the per-request middleware (language, session, log line),
and the public pages (help index, rubriques, directory and its JSON, technical library)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bbs.directory import format as fmt
from bbs.directory import query
from bbs.library import model as lib
from bbs.library.search import (
    get_note,
    note_languages,
    notes_by_category,
    notes_by_product,
    notes_since,
    notes_with_file,
    search_library,
)
from bbs.menus.model import Action, ActionKind, Menu
from bbs.menus.strings import LANGS
from bbs.services.library import note_document
from bbs.store.db import StoreError
from bbs.telnet.limits import log_line
from bbs.web import members, terminal
from bbs.web.common import (
    ANSWERS,
    BOARD,
    DROP_COOKIE,
    EDGE,
    LANG,
    MAX_FORM_BYTES,
    NOTE_CACHE,
    NOTE_PENDING,
    REQUEST_TIMEOUT,
    SESSION,
    SESSIONS,
    SET_COOKIE,
    STATIC,
    WIDTH,
    Handler,
    _db,
    board_of,
    client_address,
    error_page,
    frame,
    html_page,
    language,
    now,
    web_session,
)
from bbs.web.layout import clean
from bbs.web.markup import to_html, to_pre
from bbs.web.sessions import COOKIE, LANG_COOKIE, SessionStore

if TYPE_CHECKING:
    from bbs.services.registry import Node
    from bbs.telnet.server import Edge

log = logging.getLogger(__name__)


@web.middleware
async def edge_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Language and session before the handler; cookies, headers and one log line after.

    No traceback ever reaches the browser: an error is a plain page and a log entry.
    """
    started = time.monotonic()
    board = board_of(request)
    request[LANG] = language(request)
    token = request.cookies.get(COOKIE)
    session = request.app[SESSIONS].get(token)
    if session is not None:
        request[SESSION] = session
    response: web.StreamResponse
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status == 404:
            response = error_page(request, 404, "web.not_found")
        elif exc.status in (400, 413, 414, 431):
            response = error_page(request, exc.status, "web.bad_request")
        else:
            # Kept as a plain response, so that cookies set by the handler still go out.
            headers = {k: v for k, v in exc.headers.items() if k.lower() != "content-length"}
            response = web.Response(
                status=exc.status, reason=exc.reason, headers=headers, body=exc.body
            )
    except StoreError:
        log.exception("web: database unavailable for %s", request.path)
        response = error_page(request, 503, "board.db_unavailable")
    except Exception:
        log.exception("web: %s %s failed", request.method, request.path)
        response = error_page(request, 500, "board.internal_error")
    if not response.prepared:
        new_token = request.get(SET_COOKIE)
        if new_token:
            response.set_cookie(
                COOKIE, new_token, httponly=True, samesite="Lax", path="/", max_age=8 * 3600
            )
        if request.get(DROP_COOKIE):
            response.del_cookie(COOKIE, path="/")
        if request.query.get("lang", "") in LANGS:
            response.set_cookie(
                LANG_COOKIE,
                request.query["lang"],
                samesite="Lax",
                path="/",
                max_age=365 * 86400,
            )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.content_type == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
            )
    log_line(
        logging.INFO if response.status < 400 else logging.WARNING,
        "http",
        str(response.status),
        addr=client_address(request),
        node=board.config.node_label,
        method=request.method,
        path=request.path,
        ms=f"{(time.monotonic() - started) * 1000:.1f}",
    )
    return response


# --- help index and rubriques -----------------------------------------------------------

_LIBRARY_COMMANDS = {"lib_products", "lib_categories", "lib_new", "lib_search"}
_KB_COMMANDS = {"kb_search", "kb_read", "kb_about", "kb_cdrom"}


def action_href(action: Action) -> str | None:
    """Where a menu item leads on the web site; None for what only the terminal does."""
    if action.kind is ActionKind.MENU:
        return "/" if action.target == "index" else f"/r/{action.target}"
    if action.kind is not ActionKind.CMD:
        return None
    name, arg = action.target, action.arg
    if name == "canada_here":
        return "/annuaire/pays/CA"
    if name in ("service", "web_here", "ftp_here"):
        code = arg or name.removesuffix("_here")
        return f"/annuaire/service/{code}"
    if name == "country" and arg:
        return f"/annuaire/pays/{arg}"
    if name == "centres":
        return "/annuaire/centres"
    if name == "directory":
        return "/annuaire"
    if name in _LIBRARY_COMMANDS:
        return "/bibliotheque"
    if name in _KB_COMMANDS:
        return "/kb"
    if name.startswith("inc") or name in ("my_incidents", "open_incident"):
        return "/incidents"
    return "/terminal"


def show_markup(request: web.Request, action: Action) -> str:
    """What a rubrique's `show` command prints on the terminal, as markup for the page."""
    board = board_of(request)
    lang = request[LANG]
    name, arg = action.target, action.arg
    if name in ("web_here", "ftp_here"):
        from bbs.services.web import here_markup

        service = name.removesuffix("_here")
        head = here_markup(board.strings, lang, board.config, service)
        return head + fmt.format_service_table(
            board.index, service, lang, now(), WIDTH, board.strings
        )
    if name == "canada_here":
        from bbs.services.web import here_markup

        head = here_markup(board.strings, lang, board.config, "web")
        answer = query.country_answer(board.index, "CA")
        return head + fmt.format_answer(answer, lang, now(), WIDTH, board.strings)
    if name == "service" and arg:
        return fmt.format_service_table(board.index, arg, lang, now(), WIDTH, board.strings)
    if name == "country" and arg:
        answer = query.country_answer(board.index, arg)
        return fmt.format_answer(answer, lang, now(), WIDTH, board.strings)
    if name == "centres":
        return fmt.format_centres(board.index, lang, now(), WIDTH, board.strings)
    return ""


def menu_page(request: web.Request, menu: Menu) -> web.Response:
    """One rubrique: its text, what its `show` prints, the text after, then its items."""
    lang = request[LANG]
    session = web_session(request)
    role = session.caller.role.value if session else "guest"
    parts = [to_html(menu.text.get(lang, ""))]
    if menu.show is not None:
        parts.append(to_html(show_markup(request, menu.show)))
        if menu.after:
            parts.append(to_html(menu.after.get(lang, "")))
    items = []
    for item in menu.offered(role):
        href = action_href(item.action)
        if href is None:
            continue
        items.append(
            f'<li><a href="{clean(href)}"><span class="k">{clean(item.key)}</span> '
            f"{clean(item.label.get(lang, ''))}</a></li>"
        )
    parts.append("<ul>" + "".join(items) + "</ul>")
    return html_page(request, menu.title.get(lang, menu.name), "\n".join(parts))


async def index(request: web.Request) -> web.StreamResponse:
    """The help index."""
    return menu_page(request, board_of(request).menus.index)


async def rubrique(request: web.Request) -> web.StreamResponse:
    """Any rubrique by name."""
    menus = board_of(request).menus
    name = request.match_info["name"]
    if name not in menus:
        raise web.HTTPNotFound()
    return menu_page(request, menus[name])


# --- directory ---------------------------------------------------------------------------


def _search_form(request: web.Request, action: str, name: str, value: str) -> str:
    t = frame(request).t
    return (
        f'<form method="get" action="{action}"><input type="search" name="{name}" '
        f'value="{clean(value)}" maxlength="120" size="30" autofocus> '
        f'<button type="submit">{t("web.search")}</button></form>'
    )


def _answer_page(request: web.Request, title: str, answer: query.Answer, form: str) -> web.Response:
    """A look-up's answer as a page. The layout of one answer in one minute is done once:
    an answer depends only on what was asked (and the directory), its open/closed marks
    on the minute."""
    board = board_of(request)
    minute = now().replace(second=0, microsecond=0)
    key = (request.path, answer.query, request[LANG], minute)
    cache = request.app[ANSWERS]
    html = cache.get(key)
    if html is None:
        markup = fmt.format_answer(answer, request[LANG], minute, WIDTH, board.strings)
        html = to_html(markup)
        if len(cache) >= ANSWER_CACHE_SIZE:
            cache.clear()
        cache[key] = html
    return html_page(request, title, form + html)


ANSWER_CACHE_SIZE = 1024


async def directory(request: web.Request) -> web.StreamResponse:
    """The look-up: a search box, and the answer to what was typed."""
    board = board_of(request)
    t = frame(request).t
    text = request.query.get("q", "")[:120]
    title = board.strings.get("dir.prompt_title", request[LANG])
    form = _search_form(request, "/annuaire", "q", text) + f"<p>{t('web.dir_help')}</p>"
    links = (
        f'<p><a href="/annuaire/pays">{t("web.dir_countries")}</a> | '
        f'<a href="/annuaire/ouverts">{t("web.dir_open_now")}</a> | '
        f'<a href="/annuaire/numero">{t("web.dir_reverse")}</a> | '
        f'<a href="/annuaire/centres">{t("web.dir_centres")}</a></p>'
    )
    if not text.strip():
        return html_page(request, title, form + links)
    return _answer_page(request, title, query.search(board.index, text), form + links)


async def countries(request: web.Request) -> web.StreamResponse:
    """Every country, a link to its card."""
    board = board_of(request)
    lang = request[LANG]
    rows = sorted(board.directory.countries, key=lambda c: c.names.get(lang))
    items = "".join(
        f'<li><a href="/annuaire/pays/{clean(c.code)}">{clean(c.names.get(lang))}</a></li>'
        for c in rows
    )
    return html_page(request, frame(request).t("web.dir_countries"), f"<ul>{items}</ul>")


async def country(request: web.Request) -> web.StreamResponse:
    """One country's card."""
    board = board_of(request)
    code = request.match_info["code"]
    if code not in board.index.countries:
        raise web.HTTPNotFound()
    answer = query.country_answer(board.index, code)
    title = board.index.countries[code].names.get(request[LANG])
    return _answer_page(request, title, answer, "")


async def service(request: web.Request) -> web.StreamResponse:
    """One service's table, every country."""
    board = board_of(request)
    code = request.match_info["code"]
    found = board.index.service(code)
    if found is None:
        raise web.HTTPNotFound()
    markup = fmt.format_service_table(board.index, code, request[LANG], now(), WIDTH, board.strings)
    return html_page(request, found.names.get(request[LANG]), to_html(markup))


async def centres(request: web.Request) -> web.StreamResponse:
    """The international support centres."""
    board = board_of(request)
    markup = fmt.format_centres(board.index, request[LANG], now(), WIDTH, board.strings)
    return html_page(request, frame(request).t("web.dir_centres"), to_html(markup))


async def reverse(request: web.Request) -> web.StreamResponse:
    """Who has this number (reverse look-up)."""
    board = board_of(request)
    text = request.query.get("n", "")[:120]
    title = frame(request).t("web.dir_reverse")
    form = _search_form(request, "/annuaire/numero", "n", text)
    if not text.strip():
        return html_page(request, title, form)
    return _answer_page(request, title, query.number_answer(board.index, text), form)


def open_entries(board: Node, moment: datetime) -> list[query.Entry]:
    """Every listing open at `moment`, in service then seed order."""
    found = []
    for service_ in board.directory.services:
        for entry in board.index.service_entries(service_.code):
            if entry.status(moment).is_open:
                found.append(entry)
    return found


async def open_now(request: web.Request) -> web.StreamResponse:
    """Every service open right now, by service and country."""
    board = board_of(request)
    lang = request[LANG]
    moment = now()
    entries = open_entries(board, moment)
    t = frame(request).t
    if not entries:
        return html_page(request, t("web.dir_open_now"), f"<p>{t('web.dir_open_none')}</p>")
    rows = []
    for entry in entries:
        numbers = ", ".join(n.text for n in entry.numbers if not n.nd)
        rows.append(
            f"<tr><td>{clean(entry.service.names.get(lang))}</td>"
            f'<td><a href="/annuaire/pays/{clean(entry.country.code)}">'
            f"{clean(entry.country.names.get(lang))}</a></td><td>{clean(numbers)}</td></tr>"
        )
    table = '<table class="list">' + "".join(rows) + "</table>"
    stamp = f'<p class="dim">{clean(moment.strftime("%d/%m/%Y %H:%M UTC"))}</p>'
    return html_page(request, t("web.dir_open_now"), stamp + table)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def api_search(request: web.Request) -> web.StreamResponse:
    """GET /api/directory/search?q=...: the look-up's answer as JSON."""
    board = board_of(request)
    text = request.query.get("q", "")[:120]
    return _json(query.answer_to_json(query.search(board.index, text), now()))


async def api_country(request: web.Request) -> web.StreamResponse:
    """GET /api/directory/country/CODE: a country's card as JSON (404 when unknown)."""
    board = board_of(request)
    code = request.match_info["code"]
    if code not in board.index.countries:
        return _json({"error": "unknown country"}, 404)
    return _json(query.answer_to_json(query.country_answer(board.index, code), now()))


async def api_countries(request: web.Request) -> web.StreamResponse:
    """GET /api/directory/countries: every country's code and names."""
    board = board_of(request)
    return _json(
        [
            {"code": c.code, "iso": c.iso, "names": {g: c.names.get(g) for g in LANGS}}
            for c in board.directory.countries
        ]
    )


async def api_number(request: web.Request) -> web.StreamResponse:
    """GET /api/directory/number?n=...: the reverse look-up as JSON."""
    board = board_of(request)
    text = request.query.get("n", "")[:120]
    return _json(query.answer_to_json(query.number_answer(board.index, text), now()))


async def api_open(request: web.Request) -> web.StreamResponse:
    """GET /api/directory/open: the listings open right now."""
    board = board_of(request)
    moment = now()
    answer = query.Answer(query.Kind.SERVICE, "open", entries=tuple(open_entries(board, moment)))
    return _json(query.answer_to_json(answer, moment))


# --- technical library ------------------------------------------------------------------


def _note_rows(request: web.Request, notes: list[Any]) -> str:
    t = frame(request).t
    if not notes:
        return f"<p>{t('web.lib_none')}</p>"
    rows = "".join(
        f'<tr><td><a href="/bibliotheque/note/{n.number}?l={clean(n.lang)}">{n.number:05d}</a>'
        f"</td><td>{clean(n.lang)}</td><td>{n.date:%d/%m/%Y}</td><td>{clean(n.title)}</td></tr>"
        for n in notes
    )
    return f'<table class="list">{rows}</table>'


async def library(request: web.Request) -> web.StreamResponse:
    """The library's front page: search box, products, categories, newest notes."""
    board = board_of(request)
    lang = request[LANG]
    t = frame(request).t
    text = request.query.get("q", "")[:80]
    body = [
        _search_form(request, "/bibliotheque", "q", text),
        f"<p>{t('lib.search_help')}</p>",
    ]
    if text.strip():
        # The telnet screen's search, its query syntax included ("...", -word, OR, word*).
        results = await search_library(_db(request), text, public=True, limit=50)
        hits = results.hits
        from bbs.documents.text import unmark

        body.append(f'<p class="dim">{t("lib.count", count=results.total)}</p>')

        rows = "".join(
            f'<tr><td><a href="/bibliotheque/note/{h.number}?l={clean(h.lang)}">{h.number:05d}</a>'
            f"</td><td>{clean(h.lang)}</td><td>{h.date:%d/%m/%Y}</td><td>{clean(h.title)}<br>"
            f'<span class="dim">{clean(unmark(h.snippet))}</span></td></tr>'
            for h in hits
        )
        body.append(
            f'<table class="list">{rows}</table>' if hits else f"<p>{t('web.lib_none')}</p>"
        )
    products = "".join(
        f'<li><a href="/bibliotheque/produit/{p.code}">{clean(p.names.get(lang))}</a></li>'
        for p in lib.products()
    )
    categories = "".join(
        f'<li><a href="/bibliotheque/categorie/{c.code}">{clean(c.names.get(lang))}</a></li>'
        for c in lib.categories()
    )
    body.append(f"<h2>{t('web.lib_products')}</h2><ul>{products}</ul>")
    body.append(f"<h2>{t('web.lib_categories')}</h2><ul>{categories}</ul>")
    body.append(f'<p><a href="/bibliotheque/nouveautes">{t("web.lib_new")}</a></p>')
    return html_page(request, board.strings.get("lib.search_title", lang), "\n".join(body))


async def library_product(request: web.Request) -> web.StreamResponse:
    """The notes about one product, newest first."""
    code = request.match_info["code"]
    if code not in {p.code for p in lib.products()}:
        raise web.HTTPNotFound()
    notes = await notes_by_product(_db(request), code, public=True)
    title = lib.product(code).names.get(request[LANG])
    return html_page(request, title, _note_rows(request, notes))


async def library_category(request: web.Request) -> web.StreamResponse:
    """The notes of one category, newest first."""
    code = request.match_info["code"]
    if code not in {c.code for c in lib.categories()}:
        raise web.HTTPNotFound()
    notes = await notes_by_category(_db(request), code, public=True)
    title = lib.category(code).names.get(request[LANG])
    return html_page(request, title, _note_rows(request, notes))


async def library_new(request: web.Request) -> web.StreamResponse:
    """The newest notes (by their date)."""
    from datetime import date

    notes = await notes_since(_db(request), date(1900, 1, 1), public=True, limit=30)
    return html_page(request, frame(request).t("web.lib_new"), _note_rows(request, notes))


def _file_path(board: Node, name: str) -> Path | None:
    """The library file `name` inside the files folder, or None (no escape, no symlink)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    root = board.files_dir.resolve()
    path = root / name
    if path.is_symlink() or not path.is_file() or path.resolve().parent != root:
        return None
    return path


NOTE_CACHE_SECONDS = 2.0
"""How long a rendered note page is reused: a `bbs load` shows within this."""

NOTE_CACHE_SIZE = 512


async def library_note(request: web.Request) -> web.StreamResponse:
    """One public note, in the asked language when it exists; its file as a link."""
    try:
        number = int(request.match_info["number"])
    except ValueError:
        raise web.HTTPNotFound() from None
    key = (number, request.query.get("l", ""), request[LANG])
    cache = request.app[NOTE_CACHE]
    moment = time.monotonic()
    kept = cache.get(key)
    if kept is None or moment - kept[0] > NOTE_CACHE_SECONDS:
        # Callers asking at once for a page not yet built wait for one reading of it.
        pending = request.app[NOTE_PENDING]
        reading = pending.get(key)
        if reading is None:
            reading = pending[key] = asyncio.ensure_future(_note_body(request, number))
            reading.add_done_callback(lambda _: pending.pop(key, None))
        found = await asyncio.shield(reading)
        if found is None:
            raise web.HTTPNotFound()
        if len(cache) >= NOTE_CACHE_SIZE:
            cache.clear()
        kept = cache[key] = (moment, *found)
    return html_page(request, kept[1], kept[2])


async def _note_body(request: web.Request, number: int) -> tuple[str, str] | None:
    """A public note's title and page body, or None."""
    board = board_of(request)
    db = _db(request)
    langs = await note_languages(db, number)
    if not langs:
        return None
    wanted = request.query.get("l", request[LANG])
    note_lang = (
        wanted if wanted in langs else (request[LANG] if request[LANG] in langs else langs[0])
    )
    note = await get_note(db, number, note_lang)
    if note is None or not note.public:
        return None
    path = _file_path(board, note.file) if note.file else None
    size = path.stat().st_size if path is not None else None
    body = to_pre(note_document(board.strings, request[LANG], note, size))
    if note.file and path is not None:
        label = frame(request).t("web.download", file=note.file, size=size)
        body += f'<p><a href="/fichiers/{clean(note.file)}" download>{label}</a></p>'
    others = [g for g in langs if g != note.lang]
    if others:
        body += (
            "<p>"
            + " ".join(
                f'<a href="/bibliotheque/note/{number}?l={g}">{g.upper()}</a>' for g in others
            )
            + "</p>"
        )
    return note.title, body


async def library_file(request: web.Request) -> web.StreamResponse:
    """A public note's file: Content-Length, Last-Modified, ETag, ranges (FileResponse)."""
    board = board_of(request)
    name = request.match_info["name"]
    path = _file_path(board, name)
    if path is None or not await notes_with_file(_db(request), name, public=True):
        raise web.HTTPNotFound()
    response = web.FileResponse(path, chunk_size=64 * 1024)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the application ---------------------------------------------------------------------


def make_app(board: Node, edge: Edge | None = None) -> web.Application:
    """The site for `board`; `edge` is the telnet server's (shared per-address counts)."""

    config = board.config
    app = web.Application(
        middlewares=[edge_middleware],
        # Forms are small; an attached file is streamed and capped by the upload area.
        client_max_size=MAX_FORM_BYTES,
        handler_args={"max_field_size": 8190, "max_line_size": 8190},
    )
    app[BOARD] = board
    if edge is None:
        from bbs.telnet.server import Edge as EdgeClass

        edge = EdgeClass(config, config.node_label)
    app[EDGE] = edge
    app[SESSIONS] = SessionStore()
    app[NOTE_CACHE] = {}
    app[NOTE_PENDING] = {}
    app[ANSWERS] = {}
    r = app.router
    r.add_get("/", index)
    r.add_get("/r/{name}", rubrique)
    r.add_get("/annuaire", directory)
    r.add_get("/annuaire/pays", countries)
    r.add_get("/annuaire/pays/{code}", country)
    r.add_get("/annuaire/service/{code}", service)
    r.add_get("/annuaire/centres", centres)
    r.add_get("/annuaire/numero", reverse)
    r.add_get("/annuaire/ouverts", open_now)
    r.add_get("/api/directory/search", api_search)
    r.add_get("/api/directory/countries", api_countries)
    r.add_get("/api/directory/country/{code}", api_country)
    r.add_get("/api/directory/number", api_number)
    r.add_get("/api/directory/open", api_open)
    r.add_get("/bibliotheque", library)
    r.add_get("/bibliotheque/produit/{code}", library_product)
    r.add_get("/bibliotheque/categorie/{code}", library_category)
    r.add_get("/bibliotheque/nouveautes", library_new)
    r.add_get("/bibliotheque/note/{number}", library_note)
    r.add_get("/fichiers/{name}", library_file)
    members.routes(app)
    terminal.routes(app)
    r.add_static("/static", STATIC, follow_symlinks=False, show_index=False)
    return app


async def start_web(board: Node, host: str, port: int, edge: Edge | None = None) -> web.AppRunner:
    """Serve the site on host:port until the runner is cleaned up."""
    app = make_app(board, edge)
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=2.0,
        keepalive_timeout=REQUEST_TIMEOUT,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    return runner
