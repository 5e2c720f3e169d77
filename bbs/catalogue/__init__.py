"""Products, contract families, library categories and KB article kinds: `data/catalogue.toml`.

The catalogue is read once, at start-up, from the board's data folder:
`use_catalogue(config.data_dir)` (the command line does it as soon as the
configuration is known) reads, checks and installs it; `catalogue()` returns the
installed one, or reads the default data folder's the first time when nothing was
installed (tools and tests that never start a board).
"""

from __future__ import annotations

from pathlib import Path

from bbs.catalogue.datafile import CATALOGUE_FILE, read_catalogue
from bbs.catalogue.model import Catalogue
from bbs.config import Config

_installed: list[Catalogue] = []


def default_data_dir() -> Path:
    """The default configuration's data folder when it has a catalogue (a board run
    from its folder), else the data folder of this source tree."""
    configured = Path(Config().data_dir)
    if (configured / CATALOGUE_FILE).is_file():
        return configured
    return Path(__file__).resolve().parents[2] / "data"


def use_catalogue(data_dir: str | Path) -> Catalogue:
    """Read the catalogue of `data_dir` and make it the one `catalogue()` returns.

    Raises `bbs.directory.datafiles.DataError` ("path:line: ...") when it cannot be
    used; the installed catalogue is then left as it was.
    """
    found = read_catalogue(Path(data_dir))
    _installed[:] = [found]
    return found


def catalogue() -> Catalogue:
    """The installed catalogue (see the module's doc)."""
    if not _installed:
        use_catalogue(default_data_dir())
    return _installed[0]
