"""The signed-in part of the site: sign-in and out, the Knowledge base (subscribers only,
as on telnet) and "assistance par liaison" (incidents: list, open, read, answer, attach)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from bbs.accounts import auth
from bbs.accounts.model import Caller
from bbs.documents.text import unmark
from bbs.kb import model as kb_model
from bbs.kb.access import access_until, today
from bbs.kb.search import search_base
from bbs.kb.store import get_article
from bbs.library.search import get_note, note_languages
from bbs.services.library import note_document
from bbs.store.db import transaction
from bbs.support import incidents as inc
from bbs.support.entitlements import Right, incident_rights
from bbs.support.products import family_name, product_name
from bbs.terminal.markup import escape
from bbs.transfer.channel import TransferError
from bbs.transfer.uploads import UploadArea
from bbs.web.common import (
    DROP_COOKIE,
    LANG,
    SESSION,
    SESSIONS,
    SET_COOKIE,
    _db,
    board_of,
    client_address,
    frame,
    html_page,
    web_session,
)
from bbs.web.layout import clean, csrf_field
from bbs.web.markup import to_pre
from bbs.web.sessions import csrf_ok

log = logging.getLogger(__name__)

MAX_FORM_FIELD = 20_000
"""Characters one form field may hold (an incident's text is at most inc.TEXT_MAX)."""


def _caller(request: web.Request) -> Caller | None:
    session = web_session(request)
    if session is None or session.caller.is_guest:
        return None
    return session.caller


async def _form(request: web.Request) -> dict[str, str]:
    """A url-encoded form after its CSRF check; 403 page when the token is missing or wrong."""
    data = await request.post()
    if not csrf_ok(web_session(request), _text(data.get("csrf"))):
        log.warning("web: %s %s refused: bad CSRF token", client_address(request), request.path)
        raise _csrf_refused(request)
    return {k: _text(v)[:MAX_FORM_FIELD] for k, v in data.items()}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _csrf_refused(request: web.Request) -> web.HTTPForbidden:
    t = frame(request).t
    return web.HTTPForbidden(
        text=f'<!DOCTYPE html><html><body><p class="err">{t("web.csrf")}</p></body></html>',
        content_type="text/html",
    )


def _need_sign_in(request: web.Request) -> web.Response:
    t = frame(request, forms=True).t
    return html_page(
        request,
        t("web.signin_title"),
        _sign_in_form(request),
        status=401,
        message=t("web.signin_needed"),
    )


# --- sign-in ------------------------------------------------------------------------------


def _sign_in_form(request: web.Request, name: str = "") -> str:
    f = frame(request, forms=True)
    t = f.t
    return (
        f"<p>{t('web.signin_help')}</p>"
        f'<form method="post" action="/connexion">{csrf_field(f)}'
        f'<p><label>{t("web.name")}<br><input name="name" value="{clean(name)}" maxlength="60" '
        'autocomplete="username" required></label></p>'
        f'<p><label>{t("web.password")}<br><input type="password" name="password" '
        'maxlength="200" autocomplete="current-password" required></label></p>'
        f'<p><button type="submit">{t("web.signin_button")}</button></p></form>'
    )


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    """The sign-in form."""
    t = frame(request, forms=True).t
    return html_page(request, t("web.signin_title"), _sign_in_form(request))


async def sign_in(request: web.Request) -> web.StreamResponse:
    """Check name and password exactly as telnet does (throttle, lockout, Argon2id);
    on success a new session replaces the old one (no session fixation)."""
    form = await _form(request)
    board = board_of(request)
    db = _db(request)
    name, password = form.get("name", "")[:120], form.get("password", "")[:1024]
    attempt = await auth.authenticate(db, name, password, peer=f"web:{client_address(request)}")
    if attempt.outcome is auth.Outcome.OK and attempt.account is not None:
        caller = await auth.caller_for(
            db, attempt.account, attempt.previous_login, datetime.now(UTC)
        )
        store = request.app[SESSIONS]
        old = web_session(request)
        if old is not None:
            store.drop(old.token)
        fresh = store.new(caller)
        request[SESSION] = fresh
        request[SET_COOKIE] = fresh.token
        target = request.query.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        raise web.HTTPSeeOther(target)
    if attempt.outcome is auth.Outcome.WAIT:
        message = board.strings.get("acct.wait", request[LANG], seconds=attempt.wait)
    elif attempt.outcome is auth.Outcome.LOCKED:
        message = board.strings.get("acct.locked", request[LANG], minutes=attempt.wait // 60)
    else:
        message = board.strings.get("acct.refused", request[LANG])
    return html_page(
        request,
        board.strings.get("web.signin_title", request[LANG]),
        _sign_in_form(request, name),
        status=401,
        message=clean(message),
    )


async def sign_out(request: web.Request) -> web.StreamResponse:
    """Forget the session."""
    await _form(request)
    session = web_session(request)
    if session is not None:
        request.app[SESSIONS].drop(session.token)
        request[SESSION] = None
    request[DROP_COOKIE] = True
    raise web.HTTPSeeOther("/")


# --- Knowledge base -----------------------------------------------------------------------


async def _kb_gate(request: web.Request) -> tuple[Caller | None, web.Response | None]:
    """The caller when they may use the base today; else the page that says why not."""
    board = board_of(request)
    lang = request[LANG]
    caller = _caller(request)
    until = None
    if caller is not None:
        until = await access_until(_db(request), caller, today())
    if caller is not None and until is not None:
        return caller, None
    log.info("web %s: Knowledge base refused to a non-subscriber", client_address(request))
    t = frame(request, forms=caller is None).t
    body = f'<p class="warn">{clean(board.strings.get("kb.closed", lang))}</p>'
    if caller is None:
        body += f"<p>{clean(board.strings.get('kb.guest_hint', lang))}</p>" + _sign_in_form(request)
    body += f"<p>{clean(board.strings.get('kb.how', lang))}</p>"
    body += '<p><a href="/annuaire/service/knowledge">→</a></p>'
    return None, html_page(request, t("web.kb_title"), body, status=403)


async def kb_search(request: web.Request) -> web.StreamResponse:
    """Search the base (the same search as telnet's), subscribers only."""
    _, refusal = await _kb_gate(request)
    if refusal is not None:
        return refusal
    t = frame(request).t
    text = request.query.get("q", "")[:80]
    body = (
        f'<form method="get" action="/kb"><input type="search" name="q" value="{clean(text)}" '
        f'maxlength="80"> <button type="submit">{t("web.search")}</button></form>'
    )
    if text.strip():
        hits = await search_base(_db(request), text, limit=30)
        rows = "".join(
            f'<tr><td><a href="/kb/{clean(h.reference)}">{clean(h.reference)}</a></td>'
            f"<td>{clean(h.lang)}</td><td>{h.date:%d/%m/%Y}</td><td>{clean(h.title)}<br>"
            f'<span class="dim">{clean(unmark(h.snippet))}</span></td></tr>'
            for h in hits
        )
        body += f'<table class="list">{rows}</table>' if hits else f"<p>{t('web.lib_none')}</p>"
    return html_page(request, t("web.kb_title"), body)


async def kb_document(request: web.Request) -> web.StreamResponse:
    """One document of the base: an article (KB-nnnn) or a note (nnnnn), subscribers only."""
    _, refusal = await _kb_gate(request)
    if refusal is not None:
        return refusal
    board = board_of(request)
    lang = request[LANG]
    word = request.match_info["ref"][:20]
    db = _db(request)
    if word.isdigit() and len(word) == 5:
        langs = await note_languages(db, int(word))
        if langs:
            note = await get_note(db, int(word), lang if lang in langs else langs[0])
            if note is not None:
                return html_page(
                    request, note.title, to_pre(note_document(board.strings, lang, note, None))
                )
    number = kb_model.parse_reference(word)
    if number is not None:
        async with transaction(db, write=False) as conn:
            article = await get_article(conn, number)
        if article is not None:
            header = board.strings.get(
                "kb.header",
                lang,
                reference=article.reference,
                product=product_name(article.product, lang),
                kind=kb_model.kind(article.kind).names.get(lang),
                date=f"{article.date:%d/%m/%Y}",
            )
            markup = "{h}" + escape(header) + "{/}\n\n" + escape(article.body) + "\n"
            return html_page(request, article.title, to_pre(markup))
    raise web.HTTPNotFound()


# --- incidents ----------------------------------------------------------------------------


def _right_label(request: web.Request, right: Right) -> str:
    strings = board_of(request).strings
    lang = request[LANG]
    if right.basis == "free":
        return strings.get(
            "inc.right_free",
            lang,
            product=product_name(right.product or "", lang),
            days=right.days_left,
        )
    credits = (
        strings.get("inc.unlimited", lang)
        if right.credits_left is None
        else strings.get("inc.credits", lang, count=right.credits_left)
    )
    return strings.get(
        "inc.right_contract",
        lang,
        number=right.contract_number or "",
        family=family_name(right.family, lang),
        credits=credits,
        days=right.days_left,
    )


def _state(request: web.Request, state: str) -> str:
    return board_of(request).strings.get(f"inc.state.{state}", request[LANG])


async def incidents(request: web.Request) -> web.StreamResponse:
    """The caller's incidents, most recently changed first, with a link to open one."""
    caller = _caller(request)
    if caller is None:
        return _need_sign_in(request)
    t = frame(request).t
    listed = await inc.caller_incidents(_db(request), caller)
    rows = "".join(
        f'<tr><td><a href="/incidents/{item.incident.id}">{item.incident.id}</a></td>'
        f"<td>{clean(_state(request, item.incident.state.value))}</td>"
        f"<td>{clean(item.incident.summary)}</td><td>{item.unread or ''}</td></tr>"
        for item in listed
    )
    body = f'<p><a href="/incidents/nouveau">{t("web.inc_new")}</a></p>'
    body += f'<table class="list">{rows}</table>' if listed else f"<p>{t('web.inc_none')}</p>"
    return html_page(request, t("web.inc_title"), body)


async def _rights(request: web.Request, caller: Caller) -> list[Right]:
    assert caller.account_id is not None
    async with transaction(_db(request), write=False) as conn:
        return await incident_rights(conn, caller.account_id, datetime.now(UTC).date())


def _new_form(request: web.Request, rights: list[Right], values: dict[str, str]) -> str:
    f = frame(request, forms=True)
    t = f.t
    lang = request[LANG]
    options = "".join(
        f'<option value="{i}">{clean(_right_label(request, r))}</option>'
        for i, r in enumerate(rights)
    )
    products: list[str] = []
    for right in rights:
        products += [p for p in inc.covered_products(right) if p not in products]
    product_options = "".join(
        f'<option value="{clean(p)}"{" selected" if values.get("product") == p else ""}>'
        f"{clean(product_name(p, lang))}</option>"
        for p in products
    )

    def field(name: str, label: str, limit: int) -> str:
        return (
            f'<p><label>{label}<br><input name="{name}" value="{clean(values.get(name, ""))}" '
            f'maxlength="{limit}" required></label></p>'
        )

    return (
        f'<form method="post" action="/incidents/nouveau">{csrf_field(f)}'
        f'<p><label>{t("web.inc_right")}<br><select name="right">{options}</select></label></p>'
        f'<p><label>{t("web.inc_product")}<br><select name="product">{product_options}'
        "</select></label></p>"
        + field("version", t("web.inc_version"), inc.VERSION_MAX)
        + field("os", t("web.inc_os"), inc.OS_MAX)
        + field("summary", t("web.inc_summary"), inc.SUMMARY_MAX)
        + f'<p><label>{t("web.inc_description")}<br><textarea name="description" rows="10" '
        f'maxlength="{inc.TEXT_MAX}" required>{clean(values.get("description", ""))}</textarea>'
        f'</label></p><p><button type="submit">{t("web.inc_open")}</button></p></form>'
    )


async def new_incident_page(request: web.Request) -> web.StreamResponse:
    """The form to open an incident, with the rights the caller holds today."""
    caller = _caller(request)
    if caller is None:
        return _need_sign_in(request)
    t = frame(request).t
    if caller.is_staff:
        body = f"<p>{clean(board_of(request).strings.get('inc.staff_open', request['lang']))}</p>"
        return html_page(request, t("web.inc_new"), body, status=403)
    rights = await _rights(request, caller)
    if not rights:
        return html_page(request, t("web.inc_new"), f"<p>{t('web.inc_no_right')}</p>")
    return html_page(request, t("web.inc_new"), _new_form(request, rights, {}))


async def new_incident(request: web.Request) -> web.StreamResponse:
    """Open the incident: the store checks the form, the right and the credit."""
    caller = _caller(request)
    form = await _form(request)
    if caller is None:
        return _need_sign_in(request)
    t = frame(request).t
    rights = await _rights(request, caller)
    try:
        right = rights[int(form.get("right", ""))]
    except (ValueError, IndexError):
        return html_page(request, t("web.inc_new"), f"<p>{t('web.inc_no_right')}</p>", status=400)
    new = inc.NewIncident(
        right=right,
        product=form.get("product", ""),
        product_version=form.get("version", "").strip(),
        os=form.get("os", "").strip(),
        summary=form.get("summary", "").strip(),
        description=form.get("description", "").replace("\r\n", "\n").strip(),
    )
    try:
        number = await inc.open_incident(_db(request), caller, new)
    except inc.NoCredit:
        key = "inc.no_credit"
    except inc.RightGone:
        key = "inc.right_gone"
    except inc.NotAllowed as refused:
        key = str(refused) if str(refused) in board_of(request).strings else "inc.not_allowed"
    else:
        log.info(
            "web %s: incident %d opened by account %s",
            client_address(request),
            number,
            caller.account_id,
        )
        raise web.HTTPSeeOther(f"/incidents/{number}")
    message = clean(board_of(request).strings.get(key, request[LANG], number="", contract=""))
    values = {k: form.get(k, "") for k in ("product", "version", "os", "summary", "description")}
    return html_page(
        request, t("web.inc_new"), _new_form(request, rights, values), status=400, message=message
    )


def _number(request: web.Request) -> int:
    try:
        return int(request.match_info["number"])
    except ValueError:
        raise web.HTTPNotFound() from None


_FORM_ACTIONS = (inc.Action.REPLY, inc.Action.ASK, inc.Action.RESOLVE, inc.Action.ANSWER)
"""What the web form offers: the actions that are a message (the rest stay on telnet)."""


async def incident_page(request: web.Request) -> web.StreamResponse:
    """One incident: its history (the specialists' answers), its files, reply and attach."""
    caller = _caller(request)
    if caller is None:
        return _need_sign_in(request)
    db = _db(request)
    file = await inc.read_incident(db, caller, _number(request))
    if file is None:
        raise web.HTTPNotFound()
    if file.incident.account_id == caller.account_id:
        await inc.mark_seen(db, caller, file.incident.id)
    return html_page(
        request,
        f"{file.incident.id} - {file.incident.summary}",
        _incident_body(request, caller, file),
    )


def _incident_body(request: web.Request, caller: Caller, file: inc.IncidentFile) -> str:
    f = frame(request, forms=True)
    t = f.t
    strings = board_of(request).strings
    lang = request[LANG]
    i = file.incident
    head = (
        f'<table class="list"><tr><th>{clean(strings.get("inc.state", lang))}</th>'
        f"<td>{clean(_state(request, i.state.value))}</td></tr>"
        f"<tr><th>{clean(strings.get('inc.product', lang))}</th>"
        f"<td>{clean(product_name(i.product, lang))} {clean(i.product_version)} / {clean(i.os)}"
        f"</td></tr><tr><th>{clean(strings.get('inc.opened_by', lang))}</th>"
        f"<td>{clean(i.opener)} ({clean(i.company)})</td></tr></table>"
    )
    events = []
    for event in file.events:
        kind = f"inc.ev.{event.kind}"
        label = strings.get(kind, lang) if kind in strings else event.kind
        who = clean(event.actor) + (" (Lotus)" if event.staff else "")
        text = clean(event.body).replace("\n", "<br>") if event.body else ""
        events.append(
            f"<tr><td>{event.at:%d/%m/%Y %H:%M}</td><td>{who}</td><td>{clean(label)}</td>"
            f"<td>{text}</td></tr>"
        )
    body = head + f"<h2>{t('web.inc_history')}</h2>"
    body += '<table class="list">' + "".join(events) + "</table>"
    if file.attachments:
        rows = "".join(
            f"<li>{clean(a.sender_name)} ({a.size}) {clean(a.description)}</li>"
            for a in file.attachments
        )
        body += f"<h2>{t('web.inc_files')}</h2><ul>{rows}</ul>"
    allowed = [a for a in inc.actions_for(caller, i) if a in _FORM_ACTIONS]
    if allowed:
        options = "".join(
            f'<option value="{a.value}">{clean(strings.get(f"inc.do.{a.value}", lang))}</option>'
            for a in allowed
        )
        body += (
            f"<h2>{t('web.inc_reply')}</h2>"
            f'<form method="post" action="/incidents/{i.id}/repondre">{csrf_field(f)}'
            f'<input type="hidden" name="version" value="{i.version}">'
            f'<input type="hidden" name="seen" value="{file.last_event_id}">'
            f'<p><select name="action">{options}</select></p>'
            f'<p><textarea name="body" rows="8" maxlength="{inc.TEXT_MAX}" required></textarea></p>'
            f'<p><button type="submit">{t("web.inc_send")}</button></p></form>'
        )
    if inc.may_act(caller, i, inc.Action.ATTACH):
        body += (
            f"<h2>{t('web.inc_attach')}</h2>"
            f'<form method="post" action="/incidents/{i.id}/joindre?csrf={clean(f.csrf)}" '
            f'enctype="multipart/form-data">{csrf_field(f)}'
            f"<p><label>{t('web.inc_file_label')} "
            '<input type="file" name="file" required></label></p>'
            f'<p><label>{t("web.inc_file_desc")} <input name="description" '
            f'maxlength="{inc.DESCRIPTION_MAX}"></label></p>'
            f'<p><button type="submit">{t("web.inc_send")}</button></p></form>'
        )
    return body


async def reply(request: web.Request) -> web.StreamResponse:
    """Answer (or, for a specialist, reply, ask or resolve) with a message."""
    caller = _caller(request)
    form = await _form(request)
    if caller is None:
        return _need_sign_in(request)
    number = _number(request)
    try:
        action = inc.Action(form.get("action", ""))
        version = int(form.get("version", ""))
        seen = int(form.get("seen", "0"))
    except ValueError:
        raise web.HTTPBadRequest() from None
    if action not in _FORM_ACTIONS:
        raise web.HTTPBadRequest()
    strings = board_of(request).strings
    try:
        await inc.act(
            _db(request),
            caller,
            number,
            action,
            read_version=version,
            seen_event=seen,
            body=form.get("body", "").replace("\r\n", "\n"),
        )
    except inc.Unknown:
        raise web.HTTPNotFound() from None
    except inc.Conflict:
        message = strings.get("inc.conflict", request[LANG])
    except inc.NotAllowed as refused:
        key = str(refused) if str(refused) in strings else "inc.not_allowed"
        message = strings.get(key, request[LANG])
    else:
        raise web.HTTPSeeOther(f"/incidents/{number}")
    file = await inc.read_incident(_db(request), caller, number)
    if file is None:
        raise web.HTTPNotFound()
    return html_page(
        request,
        f"{number} - {file.incident.summary}",
        _incident_body(request, caller, file),
        status=409,
        message=clean(message),
    )


async def attach(request: web.Request) -> web.StreamResponse:
    """Receive one example file into the upload area and attach it to the incident."""
    caller = _caller(request)
    if not csrf_ok(web_session(request), request.query.get("csrf")):
        raise _csrf_refused(request)
    if caller is None:
        return _need_sign_in(request)
    number = _number(request)
    board = board_of(request)
    config = board.config
    description = ""
    upload = None
    area = UploadArea(
        Path(config.upload_dir),
        max_file_size=config.upload_max_bytes,
        min_free_bytes=config.upload_min_free_bytes,
        max_files=1,
        node=config.node_label,
    )
    reader = await request.multipart()
    try:
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "description":
                description = (await part.text())[: inc.DESCRIPTION_MAX]
            elif part.name == "file" and part.filename and upload is None:
                upload = await _receive(area, part)
    except TransferError:
        message = board.strings.get(
            "web.inc_file_too_big", request[LANG], max=config.upload_max_bytes
        )
        return html_page(request, str(number), "", status=413, message=clean(message))
    if upload is None:
        raise web.HTTPBadRequest()
    try:
        await inc.attach(
            _db(request),
            caller,
            number,
            [
                inc.Upload(
                    stored_name=upload.id,
                    sender_name=upload.name,
                    size=upload.size,
                    sha256=upload.sha256,
                    description=description.strip(),
                )
            ],
        )
    except (inc.Unknown, inc.NotAllowed):
        raise web.HTTPNotFound() from None
    raise web.HTTPSeeOther(f"/incidents/{number}")


async def _receive(area: UploadArea, part: BodyPartReader) -> Any:
    """Stream one multipart file into the upload area; the committed upload."""
    sink = area.open(part.filename or "", None, None)
    try:
        while True:
            chunk = await part.read_chunk(64 * 1024)
            if not chunk:
                break
            sink.write(chunk)
    except BaseException:
        sink.abort()
        raise
    sink.commit()
    return area.received[-1]


def routes(app: web.Application) -> None:
    """Add the signed-in pages to `app`."""
    r = app.router
    r.add_get("/connexion", sign_in_page)
    r.add_post("/connexion", sign_in)
    r.add_post("/deconnexion", sign_out)
    r.add_get("/kb", kb_search)
    r.add_get("/kb/{ref}", kb_document)
    r.add_get("/incidents", incidents)
    r.add_get("/incidents/nouveau", new_incident_page)
    r.add_post("/incidents/nouveau", new_incident)
    r.add_get("/incidents/{number}", incident_page)
    r.add_post("/incidents/{number}/repondre", reply)
    r.add_post("/incidents/{number}/joindre", attach)
