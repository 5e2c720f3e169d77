"""Build the library's downloadable files: data/files/*.zip.

    .venv/bin/python tools/make_files.py [--out data/files] [--check]

Each archive goes with one note of data/library (its `Fichier:` line) and holds what a
caller of 1995 found in such a file: a FILE_ID.DIZ for the board's file list, a
LISEZMOI.TXT (README.TXT for English notes) in plain ASCII with CR LF line ends and a
final Ctrl-Z, and one or more binary members standing for the driver, template or demo.

The binary members are test data, not programs. Each is a text header, a table of
fixed-size records, a pseudo-random stream (SHAKE-256 of the member's name, so it is
the same at every run and different for every member) and, in the middle, one run of
every byte value 0-255 followed by the bytes a transfer has to escape: telnet IAC
(0xFF), ZMODEM's ZDLE/CAN (0x18), XON and XOFF (0x11, 0x13) and DLE (0x10) with their
high-bit twins, CR after '@' (0x40 0x0D), CR NUL and CR LF.

Output is deterministic: fixed entry dates (the note's date), fixed MS-DOS host and
attributes, members in catalogue order, fixed compression level. Running the script
twice gives byte-identical archives; `--check` compares a fresh build with the files
on disk and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import struct
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "data" / "files"

STORED = zipfile.ZIP_STORED
DEFLATED = zipfile.ZIP_DEFLATED
LEVEL = 9
DOS_ARCHIVE_BIT = 0x20
"""External attributes of every entry: MS-DOS, archive bit set, nothing else."""

ESCAPES = b"".join(
    [
        b"\xff" * 64,  # telnet IAC, doubled on the wire
        b"\xff\xfa\xff\xf0\xff\xff",  # IAC SB, IAC SE, IAC IAC inside data
        b"\x18" * 48,  # ZDLE / CAN: five in a row abort a ZMODEM session
        b"\x11" * 16,  # XON
        b"\x13" * 16,  # XOFF
        b"\x10" * 16,  # DLE
        b"\x91\x93\x90" * 8,  # the same with the high bit set
        b"\x40\x0d" * 24,  # CR after '@' (the Telenet escape ZMODEM guards)
        b"\x0d\x00\x0d\x0a\x0d\x0d\x0a\x0a",  # CR NUL, CR LF, bare CR and LF
        b"\x1a" * 8,  # Ctrl-Z, end of file for CP/M and DOS copy
        b"\x00" * 32,
    ]
)
"""Runs of the bytes a telnet or ZMODEM sender must escape, after one run of 0..255."""


@dataclass(frozen=True, slots=True)
class Member:
    """A binary member: its 8.3 name and exact size in bytes."""

    name: str
    size: int


@dataclass(frozen=True, slots=True)
class Archive:
    """One downloadable file and the note it goes with."""

    name: str
    document: str
    lang: str
    date: tuple[int, int, int]
    compression: int
    diz: str
    readme: str
    members: tuple[Member, ...]

    @property
    def readme_name(self) -> str:
        return "LISEZMOI.TXT" if self.lang == "fr" else "README.TXT"


def dos_text(text: str) -> bytes:
    """ASCII with CR LF line ends and a final Ctrl-Z, as DOS editors saved it."""
    lines = text.strip("\n").split("\n")
    for line in lines:
        if len(line) > 76:
            raise ValueError(f"line longer than 76 columns: {line!r}")
    return ("\r\n".join(lines) + "\r\n").encode("ascii") + b"\x1a"


def blob(archive: Archive, member: Member) -> bytes:
    """The member's bytes: header, records, pseudo-random stream with the escapes inside."""
    header = (
        f"LOTUS-BBS TEST DATA\r\n"
        f"Archive: {archive.name.upper()}  Member: {member.name}\r\n"
        f"Document: {archive.document}  Date: {archive.date[0]:04d}-"
        f"{archive.date[1]:02d}-{archive.date[2]:02d}\r\n"
        f"Not a program: bytes for testing file transfers.\r\n"
    ).encode("ascii") + b"\x1a"
    special = bytes(range(256)) + ESCAPES
    room = member.size - len(header) - len(special)
    if room < 0:
        raise ValueError(f"{archive.name}/{member.name}: size {member.size} too small")
    key = member.name.encode("ascii").ljust(12, b" ")
    records = bytearray()
    index = 0
    while len(records) + 16 <= room // 4:
        records += struct.pack("<HH12s", index, (index * 40503) & 0xFFFF, key)
        index += 1
    seed = f"lotus-bbs:{archive.name}:{member.name}".encode("ascii")
    stream = hashlib.shake_256(seed).digest(room - len(records))
    half = len(stream) // 2
    data = header + bytes(records) + stream[:half] + special + stream[half:]
    assert len(data) == member.size
    return data


def entry(name: str, archive: Archive) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(*archive.date, 9, 30, 0))
    info.compress_type = archive.compression
    info.create_system = 0
    info.create_version = 20
    info.extract_version = 20
    info.external_attr = DOS_ARCHIVE_BIT
    return info


def build(archive: Archive) -> bytes:
    """The archive's bytes: FILE_ID.DIZ, the read-me, then the binary members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(entry("FILE_ID.DIZ", archive), dos_text(archive.diz), compresslevel=LEVEL)
        zf.writestr(
            entry(archive.readme_name, archive), dos_text(archive.readme), compresslevel=LEVEL
        )
        for member in archive.members:
            zf.writestr(entry(member.name, archive), blob(archive, member), compresslevel=LEVEL)
    return buffer.getvalue()


# ------------------------------------------------------------------ catalogue

ARCHIVES: tuple[Archive, ...] = (
    Archive(
        name="lj4drv.zip",
        document="10158",
        lang="fr",
        date=(1994, 5, 2),
        compression=STORED,
        diz="""
LJ4DRV.ZIP - Lotus 1-2-3 pour DOS
Pilotes HP LaserJet 4 / 4L / 4M
pour 1-2-3 Release 2.4 et 3.4.
Voir le document 10158.
""",
        readme="""
LOTUS 1-2-3 POUR DOS - PILOTES HP LASERJET 4, 4L ET 4M
Document 10158 - mai 1994

CONTENU
  HPLJ4R24.DRV   pilote pour 1-2-3 Release 2.4 (et Wysiwyg)
  HPLJ4R34.DRV   pilote pour 1-2-3 Release 3.4 et 3.4a

INSTALLATION (Release 2.4)
  1. Copiez HPLJ4R24.DRV dans le repertoire de 1-2-3 (C:\\123R24).
  2. Lancez INSTALL depuis ce repertoire.
  3. Choisissez "Modifier le jeu de pilotes en cours", puis
     "Imprimante texte" et "Imprimante graphique".
  4. Selectionnez "HP LaserJet 4 (600 ppp)" dans la liste.
  5. Enregistrez le jeu de pilotes sous 123.SET et quittez.

INSTALLATION (Release 3.4)
  1. Copiez HPLJ4R34.DRV dans le repertoire de 1-2-3 (C:\\123R34).
  2. Lancez INSTALL, choisissez "Changer les options d'impression".
  3. Selectionnez "HP LaserJet 4" et enregistrez.

REMARQUES
  - La resolution de 600 ppp demande 2 Mo de memoire dans
    l'imprimante pour une page pleine en mode graphique.
  - Sur une LaserJet 4L (300 ppp), choisissez l'entree 300 ppp.

Lotus Assistance clients - Services telematiques
""",
        members=(Member("HPLJ4R24.DRV", 19_840), Member("HPLJ4R34.DRV", 22_016)),
    ),
    Archive(
        name="123mod.zip",
        document="10204",
        lang="fr",
        date=(1994, 9, 12),
        compression=DEFLATED,
        diz="""
123MOD.ZIP - Modeles 1-2-3 (WK1)
Budget, amortissements, facturation
pour 1-2-3 Release 2.x et suivantes.
Voir le document 10204.
""",
        readme="""
MODELES DE GESTION POUR LOTUS 1-2-3 RELEASE 2.4
Document 10204 - septembre 1994

CONTENU
  BUDGET.WK1    budget annuel par mois et par poste
  AMORT.WK1     tableau d'amortissement lineaire et degressif
  FACTURE.WK1   facture avec remise et calcul de la TVA

Les trois modeles sont au format WK1 : ils s'ouvrent aussi avec
1-2-3 Release 3.x, 1-2-3 pour Windows et 1-2-3 pour OS/2.

UTILISATION
  1. Copiez les fichiers dans votre repertoire de donnees.
  2. Dans 1-2-3, tapez /Fichier Lire (/File Retrieve) et
     choisissez le modele.
  3. Les cellules a remplir sont deverrouillees ; la protection
     de la feuille est activee (/Feuille Global Protection).
  4. Enregistrez votre travail sous un autre nom que le modele.

Lotus Assistance clients - Services telematiques
""",
        members=(
            Member("BUDGET.WK1", 7_168),
            Member("AMORT.WK1", 5_632),
            Member("FACTURE.WK1", 6_400),
        ),
    ),
    Archive(
        name="123w5dem.zip",
        document="12092",
        lang="fr",
        date=(1995, 2, 20),
        compression=DEFLATED,
        diz="""
123W5DEM.ZIP - Demonstration
Lotus 1-2-3 Release 5 pour Windows
Film ScreenCam et classeur exemple.
Voir le document 12092.
""",
        readme="""
DEMONSTRATION DE LOTUS 1-2-3 RELEASE 5 POUR WINDOWS
Document 12092 - fevrier 1995

CONTENU
  DEMO5.SCM     film ScreenCam de 6 minutes (sans son)
  DEMO5.WK4     classeur utilise dans le film

CONFIGURATION NECESSAIRE
  Windows 3.1 ou Windows pour Workgroups 3.11, 4 Mo de memoire,
  affichage VGA 256 couleurs conseille.

LECTURE DU FILM
  Le film se lit avec le lecteur ScreenCam livre avec SmartSuite
  ou avec 1-2-3 Release 5. Lancez le lecteur, choisissez
  Fichier Ouvrir et selectionnez DEMO5.SCM.

Le classeur DEMO5.WK4 s'ouvre avec 1-2-3 Release 4 ou 5 pour
Windows. Il montre les cartes geographiques, le gestionnaire de
versions et l'interrogation d'une base Approach.

Lotus Assistance clients - Services telematiques
""",
        members=(Member("DEMO5.SCM", 356_352), Member("DEMO5.WK4", 16_384)),
    ),
    Archive(
        name="123wsm.zip",
        document="12110",
        lang="fr",
        date=(1995, 6, 6),
        compression=DEFLATED,
        diz="""
123WSM.ZIP - SmartMasters 1-2-3
Bilan, tresorerie, notes de frais
pour 1-2-3 Release 4 et 5 Windows.
Voir le document 12110.
""",
        readme="""
SMARTMASTERS POUR 1-2-3 POUR WINDOWS (RELEASE 4 ET 5)
Document 12110 - juin 1995

CONTENU
  BILAN.WK4     bilan simplifie et compte de resultat
  TRESOR.WK4    plan de tresorerie sur douze mois
  NOTEFRS.WK4   note de frais avec baremes kilometriques

INSTALLATION
  1. Copiez les fichiers .WK4 dans le repertoire des SmartMasters
     (par defaut C:\\123R5W\\MASTERS).
  2. Dans 1-2-3, choisissez Fichier Nouveau : les modeles
     apparaissent dans la liste "Creer a partir d'un SmartMaster".

Les baremes kilometriques de NOTEFRS.WK4 sont ceux de 1995 ;
mettez-les a jour dans la feuille "Baremes".

Lotus Assistance clients - Services telematiques
""",
        members=(
            Member("BILAN.WK4", 21_504),
            Member("TRESOR.WK4", 18_944),
            Member("NOTEFRS.WK4", 17_408),
        ),
    ),
    Archive(
        name="os2dlens.zip",
        document="13050",
        lang="en",
        date=(1994, 2, 15),
        compression=STORED,
        diz="""
OS2DLENS.ZIP - Lotus 1-2-3 for OS/2
DataLens driver for dBASE IV files,
with MDX index support.
See document 13050.
""",
        readme="""
LOTUS 1-2-3 FOR OS/2 - DATALENS DRIVER FOR DBASE IV
Document 13050 - February 1994

CONTENTS
  DLDBASE4.DLD   DataLens driver, dBASE III PLUS and dBASE IV
  DLDBASE4.MSG   driver messages (English)

INSTALLATION
  1. Copy both files to the 1-2-3 for OS/2 program directory
     (by default C:\\123G).
  2. Start 1-2-3 and choose Data External Connect; the driver
     appears as "dBASE_IV" in the list.
  3. Give the directory that holds the .DBF files as the
     database name.

NOTES
  - Production indexes (.MDX) are kept up to date when 1-2-3
    adds records; .NDX indexes are not.
  - Close the table in dBASE before connecting from 1-2-3 if
    both run on the same machine without file sharing.

Lotus Customer Support - Bulletin board service
""",
        members=(Member("DLDBASE4.DLD", 24_576), Member("DLDBASE4.MSG", 2_048)),
    ),
    Archive(
        name="ntfsup.zip",
        document="20202",
        lang="fr",
        date=(1995, 4, 10),
        compression=DEFLATED,
        diz="""
NTFSUP.ZIP - Modeles Lotus Notes 3.x
Suivi des appels clients et base de
discussion (fichiers NTF).
Voir le document 20202.
""",
        readme="""
MODELES DE BASES LOTUS NOTES : SUIVI DES APPELS ET DISCUSSION
Document 20202 - avril 1995

CONTENU
  SUPPORT.NTF   suivi des appels clients (Notes 3.x et 4.0)
  DISCUSS.NTF   base de discussion avec vues par categorie

INSTALLATION SUR LE SERVEUR
  1. Copiez les deux fichiers dans le repertoire de donnees du
     serveur Notes (par defaut C:\\NOTES\\DATA).
  2. Depuis un poste client, choisissez Fichier Nouvelle base,
     puis le serveur : les modeles apparaissent dans la liste.
  3. Creez la base, puis reglez la liste de controle d'acces
     (ACL) avant de la publier.

Les modeles heritent de leur conception : une mise a jour du
modele se propage aux bases par la tache Design du serveur.

Lotus Assistance clients - Services telematiques
""",
        members=(Member("SUPPORT.NTF", 51_200), Member("DISCUSS.NTF", 38_912)),
    ),
    Archive(
        name="notes4dm.zip",
        document="20221",
        lang="fr",
        date=(1996, 2, 5),
        compression=STORED,
        diz="""
NOTES4DM.ZIP - Demonstration
Lotus Notes 4.0 : visite guidee
(film ScreenCam, 8 minutes).
Voir le document 20221.
""",
        readme="""
DEMONSTRATION DE LOTUS NOTES 4.0 : VISITE GUIDEE
Document 20221 - fevrier 1996

CONTENU
  NOTES4.SCM    film ScreenCam de 8 minutes
  VISITE.NSF    petite base exemple utilisee dans le film

Le film presente la nouvelle interface a trois volets, les
agents, le navigateur Web InterNotes et le travail hors ligne.

LECTURE
  Lancez le lecteur ScreenCam et ouvrez NOTES4.SCM. Le film est
  enregistre en 640 x 480 ; reglez l'affichage sur au moins
  256 couleurs.

La base VISITE.NSF s'ouvre avec Notes 4.0. Elle n'est pas
lisible par Notes 3.x (format de disque plus recent).

Lotus Assistance clients - Services telematiques
""",
        members=(Member("NOTES4.SCM", 229_376), Member("VISITE.NSF", 24_576)),
    ),
    Archive(
        name="ccmdm.zip",
        document="30162",
        lang="en",
        date=(1995, 8, 21),
        compression=STORED,
        diz="""
CCMDM.ZIP - cc:Mail Remote 2.x
Modem file for V.34 / V.FC modems
(28,800 bps).  See document 30162.
""",
        readme="""
CC:MAIL REMOTE - MODEM FILE FOR 28,800 BPS MODEMS
Document 30162 - August 1995

  V34.MDM     modem definition, V.34 and V.FC

Copy V34.MDM to the cc:Mail Remote directory, then choose
it under Remote Setup, Modem. Set the port speed to 57,600
and use hardware (RTS/CTS) flow control.

Lotus Customer Support - Bulletin board service
""",
        members=(Member("V34.MDM", 1_536),),
    ),
    Archive(
        name="amiflt.zip",
        document="40146",
        lang="fr",
        date=(1994, 11, 28),
        compression=DEFLATED,
        diz="""
AMIFLT.ZIP - Ami Pro 3.x
Filtres Word pour Windows 6.0 et
WordPerfect 6.0 pour Windows.
Voir le document 40146.
""",
        readme="""
AMI PRO 3.0 ET 3.1 - FILTRES WORD 6.0 ET WORDPERFECT 6.0
Document 40146 - novembre 1994

CONTENU
  WORD6.FLT     import et export Word pour Windows 6.0
  WPWIN6.FLT    import WordPerfect 6.0 pour Windows

INSTALLATION
  1. Quittez Ami Pro.
  2. Copiez les deux fichiers dans le repertoire des filtres
     (par defaut C:\\AMIPRO).
  3. Relancez Ami Pro : les formats apparaissent dans la liste
     "Type de fichier" de Fichier Ouvrir et Fichier Enregistrer
     sous.

Les tableaux, notes de bas de page et styles de paragraphe sont
convertis ; les champs Word et les objets OLE ne le sont pas.

Lotus Assistance clients - Services telematiques
""",
        members=(Member("WORD6.FLT", 69_632), Member("WPWIN6.FLT", 51_200)),
    ),
    Archive(
        name="amisty.zip",
        document="40163",
        lang="fr",
        date=(1994, 6, 20),
        compression=STORED,
        diz="""
AMISTY.ZIP - Feuilles de style
Ami Pro 3.x : courrier, telecopie,
rapport. Voir le document 40163.
""",
        readme="""
FEUILLES DE STYLE AMI PRO 3.X
Document 40163 - juin 1994

  _COURFR.STY   lettre a la francaise, adresse a droite
  _FAXFR.STY    page de garde de telecopie
  _RAPPFR.STY   rapport avec table des matieres

Copiez les fichiers dans C:\\AMIPRO\\STYLES, puis choisissez
Fichier Nouveau dans Ami Pro : les feuilles apparaissent avec
leur description quand la case "Liste par description" est
cochee.

Lotus Assistance clients - Services telematiques
""",
        members=(
            Member("_COURFR.STY", 2_560),
            Member("_FAXFR.STY", 2_304),
            Member("_RAPPFR.STY", 3_072),
        ),
    ),
    Archive(
        name="flslide.zip",
        document="50148",
        lang="en",
        date=(1994, 10, 3),
        compression=DEFLATED,
        diz="""
FLSLIDE.ZIP - Freelance Graphics 2.1
35 mm slide output driver for
Windows 3.1. See document 50148.
""",
        readme="""
FREELANCE GRAPHICS 2.1 FOR WINDOWS - 35 MM SLIDE OUTPUT DRIVER
Document 50148 - October 1994

CONTENTS
  SLIDE35.DRV   Windows 3.1 printer driver, film recorder output
  SLIDE35.HLP   help for the driver's Setup dialog box

INSTALLATION
  1. In Control Panel, open Printers and choose Add.
  2. Select "Install Unlisted or Updated Printer" and give the
     directory where you unzipped the files.
  3. Connect the new printer to FILE:.
  4. In Freelance, choose File Print Setup and pick the driver.
     Each page printed becomes one slide in the output file.

Send the output file to your slide service bureau on diskette.
Ask them which film recorder resolution they expect (4K or 8K)
and set it in the driver's Setup dialog box.

Lotus Customer Support - Bulletin board service
""",
        members=(Member("SLIDE35.DRV", 28_672), Member("SLIDE35.HLP", 6_144)),
    ),
    Archive(
        name="flg96dem.zip",
        document="50166",
        lang="fr",
        date=(1996, 5, 13),
        compression=DEFLATED,
        diz="""
FLG96DEM.ZIP - Demonstration
Freelance Graphics 96 pour Windows 95
(film ScreenCam et presentation PRZ).
Voir le document 50166.
""",
        readme="""
DEMONSTRATION DE FREELANCE GRAPHICS 96
Document 50166 - mai 1996

CONTENU
  FLG96.SCM     film ScreenCam de 5 minutes
  EXEMPLE.PRZ   presentation utilisee dans le film

Le film montre la creation d'une presentation a partir d'un
SmartMaster, le trieur de pages, les diagrammes et l'affichage
en mode ecran avec transitions.

EXEMPLE.PRZ s'ouvre avec Freelance Graphics 96. Freelance 2.x
ne lit pas le format PRZ : enregistrez la presentation au format
PRE depuis Freelance 96 pour l'utiliser avec une version 2.x.

Lotus Assistance clients - Services telematiques
""",
        members=(Member("FLG96.SCM", 190_464), Member("EXEMPLE.PRZ", 12_288)),
    ),
    Archive(
        name="flsmart.zip",
        document="50184",
        lang="fr",
        date=(1995, 3, 27),
        compression=STORED,
        diz="""
FLSMART.ZIP - SmartMasters
Freelance Graphics 2.1 : six jeux de
presentation supplementaires.
Voir le document 50184.
""",
        readme="""
SMARTMASTERS POUR FREELANCE GRAPHICS 2.1 POUR WINDOWS
Document 50184 - mars 1995

CONTENU
  AZUR.MAS      fond bleu degrade, titres blancs
  BOCAGE.MAS    tons verts, pour les presentations internes
  GRANIT.MAS    texture grise, sobre, pour les rapports
  RUBAN.MAS     bandeau de couleur en haut de page
  SALON.MAS     grand format pour la projection
  TRAME.MAS     noir et blanc, pour les transparents

INSTALLATION
  Copiez les fichiers .MAS dans le repertoire des masques
  (par defaut C:\\FLW\\MASTERS). Dans Freelance, choisissez
  Presentation Choisir un SmartMaster et parcourez la liste.

Lotus Assistance clients - Services telematiques
""",
        members=(
            Member("AZUR.MAS", 26_624),
            Member("BOCAGE.MAS", 24_064),
            Member("GRANIT.MAS", 27_136),
            Member("RUBAN.MAS", 23_552),
            Member("SALON.MAS", 25_600),
            Member("TRAME.MAS", 19_968),
        ),
    ),
    Archive(
        name="aprapps.zip",
        document="60151",
        lang="fr",
        date=(1995, 10, 16),
        compression=DEFLATED,
        diz="""
APRAPPS.ZIP - Applications Approach
Contacts, stocks, factures pour
Approach 3.0 (APR + DBF).
Voir le document 60151.
""",
        readme="""
APPLICATIONS APPROACH 3.0 PRETES A L'EMPLOI
Document 60151 - octobre 1995

CONTENU
  CONTACTS.APR  CONTACTS.DBF   fichier de contacts et relances
  STOCK.APR     STOCK.DBF      gestion de stock simple
  FACTURES.APR  FACTURES.DBF   factures liees aux contacts

INSTALLATION
  1. Creez un repertoire, par exemple C:\\APPROACH\\APPLIS.
  2. Decompressez l'archive dans ce repertoire : les fichiers
     APR et DBF doivent rester ensemble.
  3. Dans Approach, choisissez Fichier Ouvrir et ouvrez le
     fichier APR voulu.

FACTURES.APR utilise aussi CONTACTS.DBF : gardez les trois
applications dans le meme repertoire.

Lotus Assistance clients - Services telematiques
""",
        members=(
            Member("CONTACTS.APR", 13_312),
            Member("CONTACTS.DBF", 9_216),
            Member("STOCK.APR", 11_776),
            Member("STOCK.DBF", 7_680),
            Member("FACTURES.APR", 15_360),
            Member("FACTURES.DBF", 10_752),
        ),
    ),
    Archive(
        name="org2dem.zip",
        document="70166",
        lang="fr",
        date=(1995, 11, 6),
        compression=STORED,
        diz="""
ORG2DEM.ZIP - Demonstration
Lotus Organizer 2.0 : film ScreenCam
et agenda exemple (OR2).
Voir le document 70166.
""",
        readme="""
DEMONSTRATION DE LOTUS ORGANIZER 2.0
Document 70166 - novembre 1995

CONTENU
  ORG2.SCM      film ScreenCam de 4 minutes
  DEMO.OR2      agenda exemple (Organizer 2.0)

Le film montre l'agenda, le carnet d'adresses, la planification
de reunions avec cc:Mail et l'impression au format Filofax.

DEMO.OR2 s'ouvre avec Organizer 2.0 ; Organizer 1.1 ne lit pas
les fichiers OR2.

Lotus Assistance clients - Services telematiques
""",
        members=(Member("ORG2.SCM", 92_160), Member("DEMO.OR2", 10_240)),
    ),
    Archive(
        name="ssdemo.zip",
        document="80182",
        lang="fr",
        date=(1996, 6, 24),
        compression=DEFLATED,
        diz="""
SSDEMO.ZIP - Demonstration
SmartSuite 96 : films ScreenCam
(SmartCenter, Word Pro, TeamReview).
Voir le document 80182.
""",
        readme="""
DEMONSTRATION DE LOTUS SMARTSUITE 96
Document 80182 - juin 1996

CONTENU
  SSUITE96.SCM  film ScreenCam de 10 minutes

Le film presente la barre SmartCenter et ses tiroirs, Word Pro
et la revue de documents en equipe (TeamReview), Approach 96 et
le passage des donnees de 1-2-3 vers Freelance Graphics 96.

LECTURE
  Il faut le lecteur ScreenCam (fourni avec SmartSuite) et un
  affichage d'au moins 800 x 600 en 256 couleurs.

Lotus Assistance clients - Services telematiques
""",
        members=(Member("SSUITE96.SCM", 272_384),),
    ),
)


def write(out: Path, archives: Sequence[Archive] = ARCHIVES) -> list[Path]:
    """Build every archive into `out`; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for archive in archives:
        path = out / archive.name
        path.write_bytes(build(archive))
        paths.append(path)
    return paths


def check(out: Path, archives: Sequence[Archive] = ARCHIVES) -> list[str]:
    """Names of the archives in `out` that differ from a fresh build (or are missing)."""
    stale = []
    for archive in archives:
        path = out / archive.name
        if not path.is_file() or path.read_bytes() != build(archive):
            stale.append(archive.name)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        stale = check(args.out)
        for name in stale:
            print(f"{name}: differs from a fresh build", file=sys.stderr)
        return 1 if stale else 0
    for path in write(args.out):
        print(f"{path.name:14} {path.stat().st_size:8d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
