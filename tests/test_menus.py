"""The real menus/ folder: it loads, follows the hotkey scheme and says what the seed says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bbs.menus.loader import load_menus
from bbs.menus.model import (
    ROOT,
    ActionKind,
    CommandSpec,
    Menu,
    MenuSet,
    StaticCommand,
    normalize_word,
    one_of,
    parse_action,
)
from bbs.menus.strings import LANGS
from bbs.terminal.markup import strip

REPO = Path(__file__).resolve().parent.parent
MENUS = REPO / "menus"
SEED = REPO / "seed" / "000_9987a0a7e4d1268d.txt"

SERVICES = [
    "telematique",
    "gratuite",
    "fax",
    "latam_filiale",
    "latam_bureau",
    "compuserve",
    "web",
    "ftp",
    "knowledge",
    "assistance_base",
    "passport",
    "minitel",
]
COUNTRIES = ["CA", "FR", "DE", "GB", "US", "BE", "CH"]

RUBRIQUES = {
    "index",
    "automatises",
    "telematique",
    "web",
    "complementaires",
    "gratuite",
    "passport",
    "compuserve",
    "canada",
    "amerique_latine",
    "fax",
    "ftp",
    "knowledge",
    "centres",
}


def fake_commands() -> dict[str, CommandSpec]:
    """The commands the session registers, with fixed lists of valid codes."""
    from bbs.services import account, assistance, fax, forums, incidents, knowledge, web

    # The areas' commands validate their own arguments without the directory.
    areas = (account, assistance, knowledge, incidents, forums, fax, web)
    return {
        **{command.name: command for area in areas for command in area.COMMANDS},
        "service": StaticCommand(takes_arg=True, validate=one_of(SERVICES), showable=True),
        "country": StaticCommand(takes_arg=True, validate=one_of(COUNTRIES), showable=True),
        "centres": StaticCommand(showable=True),
        "directory": StaticCommand(),
        "terminal": StaticCommand(),
        "help": StaticCommand(),
        "lib_products": StaticCommand(),
        "lib_categories": StaticCommand(),
        "lib_new": StaticCommand(),
        "lib_search": StaticCommand(),
        "upload": StaticCommand(),
    }


@pytest.fixture(scope="module")
def menus() -> MenuSet:
    return load_menus(MENUS, fake_commands())


def action_of(menu: Menu, key: str) -> str:
    """The action of the item with hotkey `key`, as written in the menu file."""
    item = menu.item(key)
    assert item is not None, (menu.name, key)
    return str(item.action)


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def seed_prose() -> str:
    """The seed as flat text, its links reduced to their words."""
    return flat(re.sub(r"\[([^\]]+)\]\(#\)", r"\1", seed_text()))


def flat(text: str) -> str:
    """Text compared loosely: no markdown asterisks, single spaces."""
    return " ".join(text.replace("*", "").split())


_HINT = re.compile(r"\s*\{k\}[^{}]*\{/\}(?:\s*(?:à|et|to|and|bis|und)\s*\{k\}[^{}]*\{/\})?")


def seed_lines(markup: str) -> list[str]:
    """The French lines of a text as the seed would print them: hotkey hints removed."""
    return [flat(line) for line in strip(_HINT.sub("", markup)).split("\n") if line.strip()]


# ------------------------------------------------------------------ structure


BOARD_MENUS = {"bibliotheque", "compte", "assistance", "incidents", "forums"}
"""Menus of the board's own functions, not rubriques of the seed."""


def test_every_rubrique_is_a_menu(menus: MenuSet) -> None:
    assert {menu.name for menu in menus} == RUBRIQUES | BOARD_MENUS
    assert menus.index.name == ROOT


def test_root_offers_the_board_functions(menus: MenuSet) -> None:
    index = menus.index
    actions = {item.key: str(item.action) for item in index.items}
    assert actions["A"] == "cmd:directory"
    assert actions["T"] == "cmd:terminal"
    assert actions["?"] == "cmd:help"
    assert actions["G"] == "logoff"
    assert [actions[str(n)] for n in range(1, 10)] == [
        "menu:automatises",
        "menu:telematique",
        "menu:web",
        "menu:complementaires",
        "menu:gratuite",
        "menu:passport",
        "menu:compuserve",
        "menu:canada",
        "menu:amerique_latine",
    ]
    assert index.art == "index"


@pytest.mark.parametrize("name", sorted(RUBRIQUES - {ROOT}))
def test_every_rubrique_has_index_back_and_goodbye(menus: MenuSet, name: str) -> None:
    menu = menus[name]
    assert action_of(menu, "I") == "menu:index"
    assert action_of(menu, "r") == "back"
    assert action_of(menu, "G") == "logoff"


AREA_KEYS = {"K", "F", "M", "S", "P"}
"""Index letters leading to the board's own areas (knowledge, forums, support, account)."""


def test_hotkey_scheme(menus: MenuSet) -> None:
    """Digits lead to rubriques (to commands in the board's own menus); N shows a
    rubrique's own numbers; letters lead to no menu but the index, the library (B) and,
    from the index, the board's own areas (K, F, M, S, P)."""
    for menu in menus:
        for item in menu.items:
            if item.key.isdigit() and menu.name not in BOARD_MENUS:
                assert item.action.kind is ActionKind.MENU, (menu.name, item.key)
            elif item.action.kind is ActionKind.MENU:
                assert (item.key, item.action.target) in (
                    ("I", ROOT),
                    ("B", "bibliotheque"),
                ) or (menu.name == ROOT and item.key in AREA_KEYS), (menu.name, item.key)
            if item.key == "N":
                assert item.action.kind is ActionKind.CMD
                assert item.action.target in ("service", "country", "centres")


def test_hotkeys_named_in_a_text_exist(menus: MenuSet) -> None:
    for menu in menus:
        for texts in (menu.text, menu.after or {}):
            for lang, text in texts.items():
                for key in re.findall(r"\{k\}([^{}]*)\{/\}", text):
                    assert menu.item(key) is not None, (menu.name, lang, key)


@pytest.mark.parametrize(
    ("name", "show"),
    [
        ("telematique", "cmd:service:telematique"),
        ("gratuite", "cmd:service:gratuite"),
        ("fax", "cmd:service:fax"),
        ("canada", "cmd:canada_here"),
        ("amerique_latine", "cmd:service:latam_bureau"),
        ("centres", "cmd:centres"),
        # This board's own address first (when on), then the web and FTP services' tables.
        ("web", "cmd:web_here"),
        ("ftp", "cmd:ftp_here"),
    ],
)
def test_rubriques_with_a_table_show_it(menus: MenuSet, name: str, show: str) -> None:
    assert str(menus[name].show) == show


def test_second_tables_are_items(menus: MenuSet) -> None:
    assert action_of(menus["gratuite"], "L") == "cmd:service:latam_filiale"
    assert action_of(menus["compuserve"], "M") == "cmd:service:minitel"


@pytest.mark.parametrize(
    ("word", "action"),
    [
        ("INDEX", "menu:index"),
        ("top", "menu:index"),
        ("Aide", "menu:index"),
        ("TELEMATIQUE", "menu:telematique"),
        ("télématique", "menu:telematique"),
        ("BBS", "menu:telematique"),
        ("FAX", "menu:fax"),
        ("WEB", "menu:web"),
        ("FTP", "menu:ftp"),
        ("PASSPORT", "menu:passport"),
        ("CANADA", "menu:canada"),
        ("LATINO", "menu:amerique_latine"),
        ("AMERIQUE", "menu:amerique_latine"),
        ("Amérique", "menu:amerique_latine"),
        ("CENTRES", "menu:centres"),
        ("CENTERS", "menu:centres"),
        ("GRATUITE", "menu:gratuite"),
        ("FREE", "menu:gratuite"),
        ("COMPUSERVE", "menu:compuserve"),
        ("CIS", "menu:compuserve"),
        ("SERVICES", "menu:complementaires"),
        ("AUTO", "menu:automatises"),
        ("KNOWLEDGE", "menu:knowledge"),
        ("ANNUAIRE", "cmd:directory"),
        ("DIRECTORY", "cmd:directory"),
        ("TERMINAL", "cmd:terminal"),
    ],
)
def test_go_words(menus: MenuSet, word: str, action: str) -> None:
    assert str(menus.go_action(word)) == action


def test_go_words_are_listed_sorted(menus: MenuSet) -> None:
    words = menus.go_words()
    assert list(words) == sorted(words)
    assert "ANNUAIRE" in words and "FAX" in words
    assert menus.go_action("NOWHERE") is None


def test_key_hint_folds_runs_of_digits(menus: MenuSet) -> None:
    assert menus.index.key_hint() == "1-9, B, K, F, M, S, P, Q, A, T, ?, G"
    assert menus["canada"].key_hint() == "1, 2, N, I, R, G"


def test_action_round_trip() -> None:
    for text in ("menu:fax", "back", "logoff", "cmd:help", "cmd:service:fax", "cmd:country:CA"):
        assert str(parse_action(text)) == text
    assert parse_action("cmd:service:fax").arg == "fax"
    assert parse_action("cmd:help").arg is None
    assert normalize_word(" amérique ") == "AMERIQUE"


# -------------------------------------------------------------- translations


@pytest.mark.parametrize("name", sorted(RUBRIQUES))
def test_translations_have_the_french_shape(menus: MenuSet, name: str) -> None:
    """Each language has the same paragraphs and hotkey hints; text is translated, not copied."""
    menu = menus[name]
    for texts in (menu.text, menu.after):
        if texts is None:
            continue
        fr = texts["fr"]
        for lang in LANGS:
            assert texts[lang].count("\n") == fr.count("\n"), (name, lang)
            assert re.findall(r"\{k\}[^{}]*\{/\}", texts[lang]) == re.findall(
                r"\{k\}[^{}]*\{/\}", fr
            ), (name, lang)
            if lang != "fr" and fr:
                assert texts[lang] != fr, (name, lang)
    for item in menu.items:
        assert all(item.label[lang].strip() for lang in LANGS)


# --------------------------------------------------------------- the seed


@pytest.mark.parametrize("name", sorted(RUBRIQUES))
def test_french_text_is_the_seeds(menus: MenuSet, name: str) -> None:
    """Every French line is the seed's, word for word (hotkey hints aside)."""
    seed = seed_prose()
    menu = menus[name]
    for texts in (menu.text, menu.after):
        if texts is None:
            continue
        for line in seed_lines(texts["fr"]):
            assert line in seed, (name, line)


DISTINCTIVE = {
    "index": "De plus, les horaires d'appel indiqués ci-après ne tiennent pas compte des "
    "périodes de congé Lotus.",
    "automatises": "A l'exception de la base de connaissance Lotus Knowledge, tous ces services "
    "sont gratuits.",
    "telematique": "Vous devez disposer d'un ordinateur équipé d'un logiciel d'émulation de "
    "terminal et d'un modem pour être en mesure de vous y connecter.",
    "web": "La page d'accueil de service Assistance de Lotus sur le World Wide Web",
    "complementaires": "Le gestionnaire des comptes de l'assistance comprend vos besoins "
    "professionnels et les objectifs de votre entreprise et vous aident à les réaliser.",
    "gratuite": "Cette assistance gratuite - dont la durée est généralement de 60 jours - est "
    "offerte pour tous les logiciels de bureautique standard.",
    "passport": "Le support Premium est un accord contractuel annuel disponible chez les "
    "revendeurs agréés Lotus.",
    "compuserve": "En France, vous pouvez également obtenir des informations sur les produits "
    "Lotus par l'intermédiaire du Minitel, au 3616 LOTUSTEL.",
    "canada": "L'assistance au Canada est disponible en anglais et en français.",
    "amerique_latine": "Appelez le bureau Lotus local pour plus d'informations sur les services "
    "d'assistance clients disponibles :",
    "fax": "Il vous suffit de téléphoner et de demander un catalogue complet d'informations",
    "ftp": "Le serveur FTP anonyme de l'assistance clients de Lotus vous offre via Internet",
    "knowledge": "Vous avez le choix entre un CD-ROM mensuel ou une licence",
    "centres": "Centres d'assistance internationaux de Lotus",
}


@pytest.mark.parametrize("name", sorted(RUBRIQUES))
def test_distinctive_sentence(menus: MenuSet, name: str) -> None:
    sentence = DISTINCTIVE[name]
    assert flat(sentence) in seed_prose()
    menu = menus[name]
    french = " ".join([menu.title["fr"], menu.text["fr"], (menu.after or {}).get("fr", "")])
    assert flat(sentence) in flat(strip(_HINT.sub("", french)))


def test_seed_typos_are_kept(menus: MenuSet) -> None:
    assert "et vous aident à les réaliser" in menus["complementaires"].text["fr"]
    assert "vous permet de vous poser des questions" in menus["complementaires"].text["fr"]
    assert "des mises à jours, etc..." in menus["knowledge"].text["fr"]
    assert "problèmes d'ordre techniques" in menus["compuserve"].text["fr"]


def test_remarks_are_there(menus: MenuSet) -> None:
    assert "Remarque" in menus["index"].text["fr"]
    assert "Remarque" in menus["gratuite"].text["fr"]
    assert "Remarque" in menus["compuserve"].text["fr"]
    assert "consultez votre revendeur" in menus["index"].text["fr"]
    assert "*Touch-Tone est une marque déposée de AT&T Co." in (menus["fax"].after or {})["fr"]
    assert "Parité = Sans, Bits = 8, Bit de stop = 1" in (menus["telematique"].after or {})["fr"]


# Sections of the seed: (heading line as printed, menu). Links that follow a heading,
# up to the next one, belong to that menu.
SECTIONS = [
    ("Index d'aide - Assistance clients Lotus", "index"),
    ("Programmes automatisés d'assistance clients", "automatises"),
    ("L'assistance clients Lotus sur le Web", "web"),
    ("Services télématiques", "telematique"),
    ("Services complémentaires d'assistance clients", "complementaires"),
    ("3Assistance clients gratuite (Garantie)", "gratuite"),
    ("Support Passport Premium", "passport"),
    ("CompuServe", "compuserve"),
    ("Assistance clients au Canada", "canada"),
    ("Assistance clients en Amérique latine", "amerique_latine"),
    ("Fax sur demande", "fax"),
    ("Serveur FTP d'assistance clients Lotus", "ftp"),
    ("Base de connaissance Lotus Knowledge", "knowledge"),
    ("Centres d'assistance internationaux de Lotus", "centres"),
]

# The seed's link texts, which are not always the titles of what they lead to.
LINKS = {
    "Index d'aide - Assistance clients Lotus": "index",
    "Programmes automatisés d'assistance clients": "automatises",
    "Services automatisés d'assistance clients": "automatises",
    "Services télématiques": "telematique",
    "Lotus sur le Web": "web",
    "Services complémentaires d'assistance clients": "complementaires",
    "Programmes complémentaires d'assistance clients": "complementaires",
    "Assistance clients gratuite": "gratuite",
    "Support Passport Lotus": "passport",
    "Support Passport Premium Lotus": "passport",
    "CompuServe": "compuserve",
    "Assistance clients au Canada": "canada",
    "Assistance clients en Amérique latine": "amerique_latine",
    "Fax sur demande": "fax",
    "Centres d'assistance internationaux de Lotus": "centres",
}


def seed_links() -> list[tuple[str, str]]:
    """(menu, link text) for every link of the seed, by the section it appears in."""
    lines = seed_text().splitlines()
    starts = {}
    for heading, menu in SECTIONS:
        # The last plain line equal to the heading: earlier ones are unlinked mentions.
        starts[max(n for n, line in enumerate(lines) if line.strip() == heading)] = menu
    found = []
    current = "index"
    for number, line in enumerate(lines):
        current = starts.get(number, current)
        found += [(current, text) for text in re.findall(r"\[([^\]]+)\]\(#\)", line)]
    return found


def test_seed_is_parsed_into_sections() -> None:
    links = seed_links()
    assert len(links) == 32
    assert ("complementaires", "Support Passport Premium Lotus") in links
    assert ("knowledge", "Centres d'assistance internationaux de Lotus") in links


@pytest.mark.parametrize(("menu", "link"), seed_links())
def test_every_seed_link_is_an_item(menus: MenuSet, menu: str, link: str) -> None:
    target = LINKS[link]
    actions = {(item.action.kind, item.action.target) for item in menus[menu].items}
    assert (ActionKind.MENU, target) in actions, (menu, link)


def test_unlinked_mentions_in_automatises_are_items(menus: MenuSet) -> None:
    targets = {item.action.target for item in menus["automatises"].items}
    assert {"fax", "telematique", "compuserve", "web", "ftp", "knowledge"} <= targets


def labels_fr(menu: Menu) -> set[str]:
    return {item.label["fr"] for item in menu.items}


def test_link_labels_are_the_seeds(menus: MenuSet) -> None:
    for menu, link in seed_links():
        if LINKS[link] != menu:
            assert link in labels_fr(menus[menu]), (menu, link)
