"""Broken copies of menus/: each problem is refused, naming the file and the line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bbs.menus.loader import load_menus
from bbs.menus.model import MenuError
from tests.test_menus import MENUS, fake_commands


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A fresh copy of the real menus folder to break."""
    copy = tmp_path / "menus"
    shutil.copytree(MENUS, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based line of the `nth` line containing `needle`."""
    hits = [n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line]
    assert len(hits) >= nth, needle
    return hits[nth - 1]


def refused(folder: Path) -> MenuError:
    with pytest.raises(MenuError) as info:
        load_menus(folder, fake_commands())
    return info.value


def assert_refused(folder: Path, path: Path, line: int, *words: str) -> None:
    error = refused(folder)
    where = f"{path}:{line}: "
    matching = [p for p in error.problems if p.startswith(where)]
    assert matching, f"no problem at {where}; got:\n{error}"
    for word in words:
        assert any(word in p for p in matching), (word, matching)


def test_real_folder_loads(folder: Path) -> None:
    menus = {p.stem for p in folder.glob("*.toml")} - {"go", "defaults"}
    assert {m.name for m in load_menus(folder, fake_commands())} == menus


def test_toml_syntax_error(folder: Path) -> None:
    path = folder / "fax.toml"
    edit(path, 'go = ["FAX"', 'go = ["FAX" "TELECOPIE"')
    assert_refused(folder, path, line_of(path, "TELECOPIE"), "TOML syntax error")


def test_unknown_action_kind(folder: Path) -> None:
    path = folder / "fax.toml"
    edit(path, 'action = "cmd:service:fax"', 'action = "jump:index"')
    assert_refused(folder, path, line_of(path, "jump:index"), "unknown action", "jump:index")


def test_missing_menu_target(folder: Path) -> None:
    path = folder / "canada.toml"
    edit(path, 'action = "menu:gratuite"', 'action = "menu:gratuit"')
    assert_refused(folder, path, line_of(path, "menu:gratuit"), "no menu 'gratuit'")


def test_unknown_command(folder: Path) -> None:
    path = folder / "index.toml"
    edit(path, 'action = "cmd:terminal"', 'action = "cmd:modem"')
    assert_refused(folder, path, line_of(path, "cmd:modem"), "unknown command 'modem'")


def test_invalid_command_argument(folder: Path) -> None:
    path = folder / "web.toml"
    edit(path, 'action = "cmd:service:web"', 'action = "cmd:service:gopher"')
    assert_refused(folder, path, line_of(path, "cmd:service:gopher"), "gopher")


def test_missing_command_argument(folder: Path) -> None:
    path = folder / "web.toml"
    edit(path, 'action = "cmd:service:web"', 'action = "cmd:service"')
    assert_refused(folder, path, line_of(path, '"cmd:service"'), "needs an argument")


def test_argument_to_a_command_that_takes_none(folder: Path) -> None:
    path = folder / "index.toml"
    edit(path, 'action = "cmd:help"', 'action = "cmd:help:now"')
    assert_refused(folder, path, line_of(path, "cmd:help:now"), "takes no argument")


def test_duplicate_hotkey_any_case(folder: Path) -> None:
    path = folder / "gratuite.toml"
    edit(path, 'key = "L"', 'key = "n"')
    assert_refused(folder, path, line_of(path, 'key = "n"'), "hotkey 'n' already used on line")


@pytest.mark.parametrize("key", ["12", " ", ""])
def test_hotkey_must_be_one_visible_character(folder: Path, key: str) -> None:
    path = folder / "fax.toml"
    edit(path, 'key = "N"', f'key = "{key}"')
    assert_refused(folder, path, line_of(path, f'key = "{key}"'), "one printable")


def test_missing_translation_of_a_label(folder: Path) -> None:
    path = folder / "ftp.toml"
    edit(path, 'de = "Adresse und Zeiten des FTP-Servers"\n', "")
    # The 1st [[items]] is N; its label table is the line reported.
    assert_refused(folder, path, line_of(path, "[items.label]"), "label lacks", "de")


def test_missing_translation_of_a_title(folder: Path) -> None:
    path = folder / "ftp.toml"
    edit(path, 'en = "Lotus customer support FTP server"\n', "")
    assert_refused(folder, path, line_of(path, "[title]"), "title lacks", "en")


def test_missing_text(folder: Path) -> None:
    path = folder / "centres.toml"
    edit(path, '[text]\nfr = ""\nen = ""\nde = ""\n', "")
    assert_refused(folder, path, 1, "text missing")


def test_go_word_used_twice(folder: Path) -> None:
    path = folder / "web.toml"
    edit(path, 'go = ["WEB", "WWW"]', 'go = ["WEB", "WWW", "FAX"]')
    assert_refused(folder, path, line_of(path, "go = "), "GO word 'FAX' already used", "fax.toml")


def test_go_file_word_used_by_a_menu(folder: Path) -> None:
    path = folder / "go.toml"
    edit(path, "TERMINAL =", 'BBS = "cmd:terminal"\nTERMINAL =')
    assert_refused(folder, path, line_of(path, "BBS ="), "GO word 'BBS' already used")


def test_go_file_bad_action(folder: Path) -> None:
    path = folder / "go.toml"
    edit(path, 'TERMINAL = "cmd:terminal"', 'TERMINAL = "cmd:terminal:vt52"')
    assert_refused(folder, path, line_of(path, "TERMINAL ="), "takes no argument")


def test_go_word_must_be_capitals(folder: Path) -> None:
    path = folder / "ftp.toml"
    edit(path, 'go = ["FTP"]', 'go = ["ftp"]')
    assert_refused(folder, path, line_of(path, "go = "), "GO word 'ftp'")


def test_show_must_be_a_command(folder: Path) -> None:
    path = folder / "fax.toml"
    edit(path, 'show = "cmd:service:fax"', 'show = "menu:index"')
    assert_refused(folder, path, line_of(path, "show = "), "show must be a cmd")


def test_show_must_only_print(folder: Path) -> None:
    path = folder / "fax.toml"
    edit(path, 'show = "cmd:service:fax"', 'show = "cmd:directory"')
    assert_refused(folder, path, line_of(path, "show = "), "asks questions")


def test_after_needs_show(folder: Path) -> None:
    path = folder / "fax.toml"
    edit(path, 'show = "cmd:service:fax"\n', "")
    assert_refused(folder, path, line_of(path, "[after]"), "set show")


def test_art_files_missing(folder: Path) -> None:
    (folder / "art" / "index.txt").unlink()
    path = folder / "index.toml"
    assert_refused(folder, path, line_of(path, "art = "), "index.txt")


def test_art_named_but_never_drawn(folder: Path) -> None:
    path = folder / "fax.toml"
    edit(path, 'go = ["FAX"', 'art = "fax"\ngo = ["FAX"')
    assert_refused(folder, path, line_of(path, "art = "), "fax.ans", "fax.txt")


def test_unreachable_menu(folder: Path) -> None:
    orphan = folder / "orphan.toml"
    shutil.copy(folder / "ftp.toml", orphan)
    edit(orphan, 'go = ["FTP"]', 'go = ["ORPHAN"]')
    assert_refused(folder, orphan, 1, "cannot be reached")


def test_back_on_the_root(folder: Path) -> None:
    path = folder / "index.toml"
    edit(path, 'action = "cmd:help"', 'action = "back"')
    assert_refused(folder, path, line_of(path, 'action = "back"'), "nothing to go back to")


def test_unknown_keys(folder: Path) -> None:
    path = folder / "ftp.toml"
    edit(path, 'go = ["FTP"]', 'go = ["FTP"]\ncolour = "blue"')
    edit(path, 'key = "N"', 'key = "N"\nhidden = true')
    error = refused(folder)
    assert f"{path}:{line_of(path, 'colour')}: unknown key 'colour'" in error.problems
    assert f"{path}:{line_of(path, 'hidden')}: item: unknown key 'hidden'" in error.problems


def test_bad_markup_in_text(folder: Path) -> None:
    path = folder / "ftp.toml"
    edit(path, "Le serveur FTP anonyme", "Le {b}serveur{/} FTP anonyme")
    assert_refused(folder, path, line_of(path, "[text]"), "text (fr)", "unknown markup tag")


def test_markup_left_open(folder: Path) -> None:
    path = folder / "ftp.toml"
    edit(path, "The anonymous FTP server", "The {em}anonymous FTP server")
    assert_refused(folder, path, line_of(path, "[text]"), "text (en)", "never closed")


def test_braces_in_a_label(folder: Path) -> None:
    path = folder / "ftp.toml"
    edit(path, 'fr = "Adresse et horaires du serveur FTP"', 'fr = "{k}Adresse{/}"')
    assert_refused(folder, path, line_of(path, "[items.label]"), "plain text")


def test_second_item_line_is_found(folder: Path) -> None:
    """The line is that of the offending item, not of the first one."""
    path = folder / "complementaires.toml"
    edit(path, 'action = "menu:gratuite"', 'action = "menu:gratis"')
    line = line_of(path, "menu:gratis")
    assert line > line_of(path, "[[items]]", 3)
    assert_refused(folder, path, line, "no menu 'gratis'")


def test_every_problem_is_reported_at_once(folder: Path) -> None:
    edit(folder / "fax.toml", 'action = "cmd:service:fax"', 'action = "menu:nowhere"')
    edit(folder / "web.toml", 'key = "N"', 'key = "NN"')
    edit(folder / "ftp.toml", 'show = "cmd:ftp_here"', 'show = "logoff"')
    error = refused(folder)
    assert len(error.problems) == 3
    assert str(error).count("\n") == 2


def test_no_root(folder: Path) -> None:
    (folder / "index.toml").unlink()
    error = refused(folder)
    assert any("no index.toml" in p for p in error.problems)


def test_roles_must_be_known_role_names(folder: Path) -> None:
    path = folder / "defaults.toml"
    edit(path, 'key = "I"', 'key = "I"\nroles = ["sysop", "root"]')
    assert_refused(folder, path, line_of(path, '"root"]'), "roles", "sysop")


def test_roles_must_be_a_non_empty_list(folder: Path) -> None:
    path = folder / "defaults.toml"
    edit(path, 'key = "I"', 'key = "I"\nroles = []')
    assert_refused(folder, path, line_of(path, "roles = []"), "non-empty list")


def test_defaults_are_checked_like_any_item(folder: Path) -> None:
    path = folder / "defaults.toml"
    edit(path, 'action = "back"', 'action = "menu:nowhere"')
    assert_refused(folder, path, line_of(path, "menu:nowhere"), "no menu 'nowhere'")


def test_every_rubrique_gets_the_defaults_after_its_own_items(folder: Path) -> None:
    menus = load_menus(folder, fake_commands())
    for menu in menus.menus.values():
        keys = [item.key for item in menu.items]
        if menu.name == "index":
            assert "R" not in keys
        else:
            assert keys[-3:] == ["I", "R", "G"], menu.name
