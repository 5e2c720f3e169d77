"""data/library read into a Library: the fields as written, and bad files refused at their line.

Also home of the small hand-written library the other `test_library_*` modules use
(`write_sample`, `sample_library`).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from bbs.library.datafiles import LibraryError, read_library
from bbs.library.model import Library, categories, category, product, products

# --- the sample library ------------------------------------------------------------

FILES: dict[str, bytes] = {
    "lj4drv.zip": b"PK\x03\x04" + bytes(range(256)) * 3,
    "amisty.zip": b"PK\x03\x04" + bytes(range(255, -1, -1)),
    "unused.zip": b"PK\x05\x06" + bytes(18),
}

SAMPLE: dict[str, str] = {
    "12041-fr.txt": """\
Document: 12041
Langue: fr
Produit: 123-win
Categorie: faq
Titre: 1-2-3 pour Windows : le message « Mémoire insuffisante » à l'ouverture
Date: 1994-11-08
Mots-cles: mémoire, ouverture, fichier WK4, Windows 3.1

SYMPTÔME

À l'ouverture d'un classeur, 1-2-3 pour Windows affiche le message
« Mémoire insuffisante » et le fichier ne se charge pas.

CAUSE

La mémoire disponible sous Windows est trop faible : trop d'applications
ouvertes, ou un fichier d'échange trop petit.

SOLUTION

Fermez les autres applications et agrandissez le fichier d'échange dans
le Panneau de configuration (icône 386 étendu).
""",
    "12041-en.txt": """\
Document: 12041
Langue: en
Produit: 123-win
Categorie: faq
Titre: 1-2-3 for Windows: "Insufficient memory" when opening a file
Date: 1994-11-08
Mots-cles: memory, opening, WK4 file, Windows 3.1

SYMPTOM

When a workbook is opened, 1-2-3 for Windows says "Insufficient memory"
and the file does not load.

SOLUTION

Close the other applications and enlarge the swap file in the Control
Panel (386 Enhanced icon).
""",
    "10158-fr.txt": """\
Document: 10158
Langue: fr
Produit: 123-dos
Categorie: pilote
Titre: Pilotes d'imprimante HP LaserJet 4 pour 1-2-3 pour DOS
Date: 1995-03-14
Mots-cles: imprimante, LaserJet 4, pilote, impression
Fichier: lj4drv.zip

Le fichier LJ4DRV.ZIP contient les pilotes d'imprimante de la famille
HP LaserJet 4 pour 1-2-3 pour DOS. Copiez les fichiers .DRV dans le
répertoire du programme puis choisissez l'imprimante dans l'Install.
""",
    "20001-fr.txt": """\
Document: 20001
Langue: fr
Produit: notes
Categorie: bulletin
Titre: Lotus Notes : réplication interrompue entre deux serveurs
Date: 1995-09-02
Mots-cles: réplication, serveur, Notes 3
Public: non

Une réplication planifiée s'arrête sans message entre deux serveurs
Notes 3 reliés par modem. Vérifiez les documents Connexion du carnet
d'adresses public et l'heure des deux serveurs.

Le journal du serveur peut aussi être envoyé vers une imprimante.
""",
    "30010-en.txt": """\
Document: 30010
Langue: en
Produit: amipro
Categorie: modele
Titre: Ami Pro style sheets for letters and faxes
Date: 1994-02-20
Mots-cles: style sheets, templates, letters
Fichier: amisty.zip

AMISTY.ZIP holds twelve style sheets for business letters, memos and fax
cover sheets. Copy the .STY files into the Ami Pro STYLES directory.
""",
    "40002-fr.txt": """\
Document: 40002
Langue: fr
Produit: ccmail
Categorie: maj
Titre: cc:Mail pour Windows 2.2 : ce qui change
Date: 1996-02-01
Mots-cles: mise à jour, cc:Mail 2.2

La version 2.2 de cc:Mail pour Windows facilite la mise en œuvre des
bureaux de poste distants et corrige l'affichage des pièces jointes.
""",
}


def write_sample(data: Path, notes: dict[str, str] | None = None) -> Path:
    """Write the sample library (or `notes`) and its files into the data folder `data`."""
    library = data / "library"
    files = data / "files"
    library.mkdir(parents=True, exist_ok=True)
    files.mkdir(parents=True, exist_ok=True)
    (library / "README.md").write_text("# not a note\n", encoding="utf-8")
    for name, content in FILES.items():
        (files / name).write_bytes(content)
    for name, text in (SAMPLE if notes is None else notes).items():
        (library / name).write_text(text, encoding="utf-8")
    return data


def sample_library(tmp_path: Path) -> Library:
    """The sample library as read from files written under `tmp_path`."""
    return read_library(write_sample(tmp_path / "sample-data"))


# --- reading -----------------------------------------------------------------------


def test_the_sample_reads_with_every_field(tmp_path: Path) -> None:
    library = sample_library(tmp_path)
    assert [(n.number, n.lang) for n in library.notes] == [
        (10158, "fr"),
        (12041, "en"),
        (12041, "fr"),
        (20001, "fr"),
        (30010, "en"),
        (40002, "fr"),
    ]
    note = library.note(12041, "fr")
    assert note is not None
    assert note.document == "12041"
    assert note.product == "123-win" and note.category == "faq"
    assert note.title == "1-2-3 pour Windows : le message « Mémoire insuffisante » à l'ouverture"
    assert note.date == date(1994, 11, 8)
    assert note.keywords == ("mémoire", "ouverture", "fichier WK4", "Windows 3.1")
    assert note.file is None and note.public
    assert note.body.startswith("SYMPTÔME\n\nÀ l'ouverture")
    assert note.body.endswith("(icône 386 étendu).")
    notes = library.note(20001, "fr")
    assert notes is not None and not notes.public
    driver = library.note(10158, "fr")
    assert driver is not None and driver.file == "lj4drv.zip"


def test_files_are_the_referenced_ones_with_size_and_sha256(tmp_path: Path) -> None:
    library = sample_library(tmp_path)
    assert [f.name for f in library.files] == ["amisty.zip", "lj4drv.zip"]
    for file in library.files:
        content = FILES[file.name]
        assert file.size == len(content)
        assert file.sha256 == hashlib.sha256(content).hexdigest()


def test_crlf_files_and_a_byte_order_mark_read_the_same(tmp_path: Path) -> None:
    plain = sample_library(tmp_path)
    data = tmp_path / "crlf"
    write_sample(data, {})
    for name, text in SAMPLE.items():
        raw = text.replace("\n", "\r\n").encode()
        (data / "library" / name).write_bytes(b"\xef\xbb\xbf" + raw if "fr" in name else raw)
    assert read_library(data) == plain


def test_a_missing_library_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match=r"library:0: missing library folder"):
        read_library(tmp_path)


def test_an_empty_library_folder_is_an_empty_library(tmp_path: Path) -> None:
    write_sample(tmp_path, {})
    assert read_library(tmp_path) == Library()


def test_products_and_categories_have_three_names_each() -> None:
    PRODUCTS, CATEGORIES = products(), categories()
    PRODUCT_CODES = {p.code for p in PRODUCTS}
    CATEGORY_CODES = {c.code for c in CATEGORIES}
    assert {
        *("123-dos", "123-win", "123-os2", "notes", "ccmail", "amipro"),
        *("freelance", "approach", "organizer", "smartsuite"),
    } == PRODUCT_CODES
    assert {
        *("faq", "bulletin", "maj", "produit", "livre-blanc", "pilote", "demo", "modele"),
    } == CATEGORY_CODES
    for names in [p.names for p in PRODUCTS] + [c.names for c in CATEGORIES]:
        assert all((names.fr, names.en, names.de))
    assert product("123-os2").names.fr == "1-2-3 pour OS/2"
    assert category("modele").names.get("en") == "Templates"
    assert {c.code for c in CATEGORIES if c.needs_file} == {"pilote", "demo", "modele"}


# --- refusals, at their line ---------------------------------------------------------

NOTE = SAMPLE["12041-fr.txt"]


def _with(old: str, new: str) -> str:
    assert NOTE.count(old) == 1, old
    return NOTE.replace(old, new)


BAD: list[tuple[str, str, str, str]] = [
    # (id, note text, file name, expected "name:line: ..." fragment)
    (
        "unknown key",
        _with("Date:", "Auteur: moi\nDate:"),
        "12041-fr.txt",
        ":6: unknown key 'Auteur'",
    ),
    (
        "accented key",
        _with("Categorie:", "Catégorie:"),
        "12041-fr.txt",
        ":4: unknown key 'Catégorie' (write 'Categorie')",
    ),
    (
        "repeated key",
        _with("Date:", "Titre: encore\nDate:"),
        "12041-fr.txt",
        ":6: Titre given twice (line 5)",
    ),
    (
        "not key: value",
        _with("Date:", "une ligne\nDate:"),
        "12041-fr.txt",
        ":6: a header line is 'Key: value'",
    ),
    (
        "empty value",
        _with("Titre: 1-2-3", "Titre:\nX: 1-2-3"),
        "12041-fr.txt",
        ":5: Titre has no value",
    ),
    (
        "missing key",
        _with("Mots-cles: mémoire, ouverture, fichier WK4, Windows 3.1\n", ""),
        "12041-fr.txt",
        ":6: the header lacks Mots-cles",
    ),
    (
        "document digits",
        _with("Document: 12041", "Document: 1204"),
        "12041-fr.txt",
        ":1: Document: must be 5 digits",
    ),
    (
        "document name",
        NOTE,
        "12042-fr.txt",
        ":1: Document: 12041 does not match the file name 12042-fr.txt",
    ),
    ("language", _with("Langue: fr", "Langue: de"), "12041-fr.txt", ":2: Langue: must be fr or en"),
    (
        "language name",
        _with("Langue: fr", "Langue: en"),
        "12041-fr.txt",
        ":2: Langue: en does not match",
    ),
    (
        "product",
        _with("Produit: 123-win", "Produit: 123-mac"),
        "12041-fr.txt",
        ":3: Produit: must be one of 123-dos",
    ),
    (
        "category",
        _with("Categorie: faq", "Categorie: astuce"),
        "12041-fr.txt",
        ":4: Categorie: must be one of faq",
    ),
    (
        "date format",
        _with("1994-11-08", "08/11/1994"),
        "12041-fr.txt",
        ":6: Date: must be YYYY-MM-DD",
    ),
    (
        "date day",
        _with("1994-11-08", "1994-02-30"),
        "12041-fr.txt",
        ":6: Date: 1994-02-30 is not a day",
    ),
    (
        "date range",
        _with("1994-11-08", "1997-01-02"),
        "12041-fr.txt",
        ":6: Date: 1997-01-02 is not between 1993 and 1996",
    ),
    (
        "keyword",
        _with("mémoire, ouverture", "mémoire,, ouverture"),
        "12041-fr.txt",
        ":7: Mots-cles: an empty keyword",
    ),
    (
        "public",
        _with("Windows 3.1\n", "Windows 3.1\nPublic: peut-être\n"),
        "12041-fr.txt",
        ":8: Public: must be oui or non",
    ),
    (
        "missing file",
        _with("Windows 3.1\n", "Windows 3.1\nFichier: absent.zip\n"),
        "12041-fr.txt",
        ":8: Fichier: no file",
    ),
    (
        "file path",
        _with("Windows 3.1\n", "Windows 3.1\nFichier: ../secret.zip\n"),
        "12041-fr.txt",
        ":8: Fichier: '../secret.zip' must be a plain file name",
    ),
    (
        "driver needs file",
        _with("Categorie: faq", "Categorie: pilote"),
        "12041-fr.txt",
        ":4: Categorie: a pilote note needs a Fichier",
    ),
    ("no header", "\n" + NOTE, "12041-fr.txt", ":1: the file must start with its header"),
    ("no body", NOTE.split("\n\n")[0] + "\n\n\n", "12041-fr.txt", ":9: the note has no body"),
    (
        "header only",
        NOTE.split("\n\n")[0] + "\n",
        "12041-fr.txt",
        ":7: no blank line and body after the header",
    ),
    (
        "wide line",
        _with("SYMPTÔME", "SYMPTÔME " + "é" * 68),
        "12041-fr.txt",
        ":9: line is 77 columns wide, at most 76",
    ),
    (
        "tab",
        _with("CAUSE", "\tCAUSE"),
        "12041-fr.txt",
        ":14: control character U+0009 (use spaces)",
    ),
    ("control", _with("CAUSE", "CAUSE\x1b[0m"), "12041-fr.txt", ":14: control character U+001B"),
    ("file name", NOTE, "12041-francais.txt", ":0: a note file is named NNNNN-LL.txt"),
    ("file name case", NOTE, "12041-FR.txt", ":0: a note file is named NNNNN-LL.txt"),
]


@pytest.mark.parametrize(
    ("text", "name", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_a_bad_note_is_refused_at_its_line(
    tmp_path: Path, text: str, name: str, expected: str
) -> None:
    data = write_sample(tmp_path, {name: text})
    with pytest.raises(LibraryError) as caught:
        read_library(data)
    message = str(caught.value)
    assert message.startswith(f"{data / 'library' / name}:"), message
    assert expected in message, message


def test_bytes_that_are_not_utf8_are_refused_at_their_line(tmp_path: Path) -> None:
    data = write_sample(tmp_path, {})
    raw = NOTE.encode().replace(b"CAUSE", b"CAUSE \xe9t\xe9")
    (data / "library" / "12041-fr.txt").write_bytes(raw)
    with pytest.raises(LibraryError, match=r"12041-fr\.txt:14: not UTF-8 \(byte 0xe9\)"):
        read_library(data)


def test_two_languages_of_one_document_must_agree_on_product_and_category(
    tmp_path: Path,
) -> None:
    english = SAMPLE["12041-en.txt"].replace("Produit: 123-win", "Produit: 123-os2")
    data = write_sample(tmp_path, {"12041-fr.txt": NOTE, "12041-en.txt": english})
    with pytest.raises(LibraryError) as caught:
        read_library(data)
    message = str(caught.value)
    # Files are read in name order: the French one is found in conflict with the English.
    assert message.startswith(f"{data / 'library' / '12041-fr.txt'}:3: Produit: '123-win'")
    assert "'en' version of document 12041" in message and "'123-os2'" in message
