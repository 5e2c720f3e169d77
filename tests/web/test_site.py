"""The web site over a real socket: pages, JSON, downloads, sign-in, CSRF, the KB gate and
incidents, all from the same data and store functions as the telnet screens."""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from bbs.accounts.model import Caller, Role
from bbs.board import Board
from bbs.support import incidents as inc
from tests.web.conftest import PASSWORD, PLAIN, SPECIALIST, SUBSCRIBER

Client = TestClient[Any, Any]

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def text(response: Any) -> str:
    """A page's text with HTML entities decoded (apostrophes come as &#x27;)."""
    return html.unescape(await response.text())


async def csrf_of(client: Client, path: str) -> str:
    """The CSRF token of the form on `path`."""
    response = await client.get(path)
    found = _CSRF.search(await response.text())
    assert found, f"no form on {path}"
    return found.group(1)


async def sign_in(client: Client, name: str, password: str = PASSWORD) -> int:
    """Sign in through the form; the status of the answer (after redirects)."""
    token = await csrf_of(client, "/connexion")
    response = await client.post(
        "/connexion", data={"csrf": token, "name": name, "password": password}
    )
    return response.status


async def test_index_in_three_languages(client: Client) -> None:
    french = await text(await client.get("/"))
    assert "Index d'aide - Assistance clients Lotus" in french
    assert "Soucieuse de vous offrir une assistance technique de qualité" in french
    english = await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert "Help index - Lotus customer support" in await text(english)
    german = await client.get("/?lang=de")
    assert "Hilfeindex - Lotus Kundendienst" in await german.text()
    # The switch is kept in a cookie for the next page, whatever the browser asks for.
    again = await client.get("/", headers={"Accept-Language": "en"})
    assert "Hilfeindex" in await again.text()


async def test_every_rubrique_renders(client: Client, board: Board) -> None:
    for menu in board.menus:
        response = await client.get("/" if menu.name == "index" else f"/r/{menu.name}")
        assert response.status == 200, menu.name
        assert menu.title["fr"] in await text(response), menu.name
    assert (await client.get("/r/nothing")).status == 404


async def test_rubrique_3_shows_the_historic_table(client: Client) -> None:
    page = await text(await client.get("/r/web"))
    assert "L'assistance clients Lotus sur le Web" in page
    assert "http://www.support.lotus.com/" in page


async def test_directory_search_country_reverse_open(client: Client) -> None:
    page = await (await client.get("/annuaire", params={"q": "belgique fax"})).text()
    assert "Belgique" in page
    assert (await client.get("/annuaire/pays/BE")).status == 200
    assert (await client.get("/annuaire/pays/XX")).status == 404
    countries = await (await client.get("/annuaire/pays")).text()
    assert 'href="/annuaire/pays/BE"' in countries
    reverse = await client.get("/annuaire/numero", params={"n": "ftp.support.lotus.com"})
    assert reverse.status == 200
    assert (await client.get("/annuaire/ouverts")).status == 200
    assert (await client.get("/annuaire/centres")).status == 200


async def test_directory_json(client: Client) -> None:
    answer = await (await client.get("/api/directory/search", params={"q": "belgique"})).json()
    assert answer["kind"] == "country"
    assert answer["cards"][0]["country"]["code"] == "BE"
    card = await (await client.get("/api/directory/country/BE")).json()
    assert card["cards"][0]["entries"]
    assert (await client.get("/api/directory/country/ZZ")).status == 404
    countries = await (await client.get("/api/directory/countries")).json()
    assert any(c["code"] == "FR" for c in countries)
    number = await (
        await client.get("/api/directory/number", params={"n": "ftp.support.lotus.com"})
    ).json()
    assert number["found"]
    opened = await (await client.get("/api/directory/open")).json()
    assert all(e["status"]["open"] for e in opened.get("entries", []))


async def test_user_text_is_escaped(client: Client) -> None:
    attack = "<script>alert(1)</script>"
    page = await (await client.get("/annuaire", params={"q": attack})).text()
    assert attack not in page
    assert "&lt;script&gt;" in page


async def test_library_browse_search_read(client: Client) -> None:
    front = await (await client.get("/bibliotheque")).text()
    assert "/bibliotheque/produit/123-win" in front
    listing = await (await client.get("/bibliotheque/produit/123-win")).text()
    assert "/bibliotheque/note/" in listing
    assert (await client.get("/bibliotheque/produit/nothing")).status == 404
    assert (await client.get("/bibliotheque/categorie/pilote")).status == 200
    assert (await client.get("/bibliotheque/nouveautes")).status == 200
    found = await (await client.get("/bibliotheque", params={"q": "imprim*"})).text()
    assert "/bibliotheque/note/" in found
    # The telnet screen's syntax: a word excluded leaves fewer notes than without it.
    everything = found.count("/bibliotheque/note/")
    fewer = await (await client.get("/bibliotheque", params={"q": "imprim* -laserjet"})).text()
    assert fewer.count("/bibliotheque/note/") < everything


async def _note_with_file(client: Client) -> tuple[str, str]:
    listing = await (await client.get("/bibliotheque/categorie/pilote")).text()
    note = re.search(r'href="(/bibliotheque/note/\d+\?l=\w+)"', listing)
    assert note
    page = await (await client.get(note.group(1))).text()
    link = re.search(r'href="(/fichiers/[^"]+)"', page)
    assert link, page
    return note.group(1), link.group(1)


async def test_download_with_headers_ranges_and_etag(client: Client, board: Board) -> None:
    _, link = await _note_with_file(client)
    name = link.rsplit("/", 1)[1]
    original = (board.files_dir / name).read_bytes()
    whole = await client.get(link)
    assert whole.status == 200
    body = await whole.read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(original).digest()
    assert whole.headers["Content-Length"] == str(len(original))
    assert whole.headers["Content-Type"] == "application/zip"
    assert "Last-Modified" in whole.headers
    etag = whole.headers["ETag"]
    part = await client.get(link, headers={"Range": "bytes=10-99"})
    assert part.status == 206
    assert await part.read() == original[10:100]
    assert part.headers["Content-Range"] == f"bytes 10-99/{len(original)}"
    same = await client.get(link, headers={"If-None-Match": etag})
    assert same.status == 304


async def test_downloads_only_library_files(client: Client) -> None:
    for path in ("/fichiers/..%2Fbbs.db", "/fichiers/README.md", "/fichiers/.hidden"):
        assert (await client.get(path)).status == 404, path
    assert (await client.get("/static/../app.py")).status in (403, 404)


async def test_sign_in_sets_a_safe_cookie_and_a_new_session(client: Client) -> None:
    token = await csrf_of(client, "/connexion")
    before = client.session.cookie_jar.filter_cookies(client.make_url("/"))["lotus_session"].value
    response = await client.post(
        "/connexion",
        data={"csrf": token, "name": SUBSCRIBER.name, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    after = response.cookies["lotus_session"].value
    assert after != before
    page = await (await client.get("/")).text()
    assert SUBSCRIBER.name in page


async def test_wrong_password_is_refused(client: Client) -> None:
    # An unknown name (a known one would be throttled for the next tests).
    assert await sign_in(client, "Personne Web", "not the password") == 401
    page = await (await client.get("/")).text()
    assert "Personne Web" not in page.split("<h1>")[0]


async def test_forms_without_csrf_are_refused(client: Client) -> None:
    await client.get("/connexion")
    response = await client.post("/connexion", data={"name": SUBSCRIBER.name, "password": PASSWORD})
    assert response.status == 403
    forged = await client.post(
        "/connexion", data={"csrf": "forged", "name": SUBSCRIBER.name, "password": PASSWORD}
    )
    assert forged.status == 403
    assert "Abonne Web" not in await (await client.get("/")).text()


async def test_knowledge_base_gate(client: Client) -> None:
    guest = await client.get("/kb", params={"q": "imprimante"})
    assert guest.status == 403
    assert await sign_in(client, PLAIN.name) == 200
    plain = await client.get("/kb", params={"q": "imprimante"})
    assert plain.status == 403
    await client.post("/deconnexion", data={"csrf": await csrf_of(client, "/")})
    assert await sign_in(client, SUBSCRIBER.name) == 200
    allowed = await client.get("/kb", params={"q": "imprim*"})
    assert allowed.status == 200
    assert 'href="/kb/' in await allowed.text()


async def test_incident_opened_on_the_web_is_in_the_store(client: Client, board: Board) -> None:
    assert (await client.get("/incidents")).status == 401
    assert await sign_in(client, SUBSCRIBER.name) == 200
    page = await (await client.get("/incidents/nouveau")).text()
    token = _CSRF.search(page)
    assert token
    product = re.search(r'<select name="product"><option value="([^"]+)"', page)
    assert product, page
    response = await client.post(
        "/incidents/nouveau",
        data={
            "csrf": token.group(1),
            "right": "0",
            "product": product.group(1),
            "version": "5.0",
            "os": "Windows 95",
            "summary": "Impression <b>lente</b>",
            "description": "L'impression prend dix minutes.",
        },
    )
    assert response.status == 200, await response.text()
    number = int(response.url.path.rsplit("/", 1)[1])
    subscriber = Caller(
        account_id=SUBSCRIBER.id, name=SUBSCRIBER.name, role=Role.CONTACT, company_id=1
    )
    assert board.db is not None
    file = await inc.read_incident(board.db, subscriber, number)
    assert file is not None
    assert file.incident.summary == "Impression <b>lente</b>"
    assert "&lt;b&gt;lente" in await response.text()
    # A specialist answers (as on telnet); the caller reads it on the web and replies.
    specialist = Caller(account_id=SPECIALIST.id, name=SPECIALIST.name, role=Role.SPECIALIST)
    taken = await inc.act(board.db, specialist, number, inc.Action.TAKE, read_version=0)
    await inc.act(
        board.db,
        specialist,
        number,
        inc.Action.ASK,
        read_version=taken.version,
        body="Quelle imprimante ?",
    )
    page = await (await client.get(f"/incidents/{number}")).text()
    assert "Quelle imprimante ?" in page
    token = _CSRF.search(page)
    version = re.search(r'name="version" value="(\d+)"', page)
    seen = re.search(r'name="seen" value="(\d+)"', page)
    assert token and version and seen
    answered = await client.post(
        f"/incidents/{number}/repondre",
        data={
            "csrf": token.group(1),
            "action": "answer",
            "version": version.group(1),
            "seen": seen.group(1),
            "body": "Une LaserJet 4.",
        },
    )
    assert answered.status == 200
    file = await inc.read_incident(board.db, specialist, number)
    assert file is not None
    assert file.events[-1].body == "Une LaserJet 4."
    # An example file, through the multipart form.
    form = FormData()
    form.add_field("csrf", token.group(1))
    form.add_field("file", b"exemple " * 100, filename="trace.txt")
    form.add_field("description", "trace de l'impression")
    attached = await client.post(f"/incidents/{number}/joindre?csrf={token.group(1)}", data=form)
    assert attached.status == 200, await attached.text()
    file = await inc.read_incident(board.db, specialist, number)
    assert file is not None
    assert [a.sender_name for a in file.attachments] == ["trace.txt"]
    assert file.attachments[0].size == 800
    # Without the token, nothing is attached.
    refused = await client.post(f"/incidents/{number}/joindre", data=FormData({"x": "y"}))
    assert refused.status == 403


async def test_terminal_page_uses_only_local_assets(client: Client) -> None:
    page = await (await client.get("/terminal")).text()
    assert '<script src="/static/xterm/xterm.js">' in page
    assert "http://" not in page.split("<footer>")[0].split("</style>")[1]
    script = await client.get("/static/xterm/xterm.js")
    assert script.status == 200
    licence = await client.get("/static/xterm/LICENSE")
    assert "MIT" in await licence.text()


async def test_an_incident_opened_on_telnet_shows_on_the_web(client: Client, board: Board) -> None:
    from datetime import UTC, datetime

    from bbs.store.db import transaction
    from bbs.support.entitlements import incident_rights

    assert board.db is not None
    subscriber = Caller(
        account_id=SUBSCRIBER.id, name=SUBSCRIBER.name, role=Role.CONTACT, company_id=1
    )
    async with transaction(board.db, write=False) as conn:
        rights = await incident_rights(conn, SUBSCRIBER.id, datetime.now(UTC).date())
    # The store function the telnet screen calls.
    number = await inc.open_incident(
        board.db,
        subscriber,
        inc.NewIncident(
            right=rights[0],
            product=inc.covered_products(rights[0])[0],
            product_version="4.0",
            os="OS/2",
            summary="Ouvert sur telnet",
            description="Le serveur télématique.",
        ),
    )
    assert await sign_in(client, SUBSCRIBER.name) == 200
    listing = await text(await client.get("/incidents"))
    assert f'href="/incidents/{number}"' in listing
    assert "Ouvert sur telnet" in listing
    page = await text(await client.get(f"/incidents/{number}"))
    assert "Le serveur télématique." in page
    # Someone else's incident is not found, whatever its number.
    assert (await client.get("/incidents/999999")).status == 404
