"""The `bbs` program as an operator runs it: start-up checks, SIGTERM with callers, the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.telnet_client import Script, TelnetClient

ROOT = Path(__file__).resolve().parents[2]
BBS = str(Path(sys.executable).with_name("bbs"))
pytestmark = pytest.mark.e2e


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BBS, *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env
    )


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'bbs.db'}"
    assert run("db", "upgrade", "--db", url).returncode == 0
    loaded = run("load", "data", "--db", url)
    assert loaded.returncode == 0, loaded.stderr
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def node(loaded_db: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    env = {**os.environ, "BBS_SHUTDOWN_GRACE": "0.5", "BBS_CONNECT_MAXWAIT": "1"}
    proc = subprocess.Popen(
        [BBS, "serve", "--port", str(port), "--db", loaded_db],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stdout.read() if proc.stdout else "died") from None
                import time

                time.sleep(0.1)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


async def test_sigterm_warns_callers_and_exits_zero(
    node: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = node
    callers = [await TelnetClient.connect(port, Script(ttypes=["dumb"])) for _ in range(3)]
    try:
        for caller in callers:
            await caller.wait_for(b"Appuyez sur Entree")
        proc.send_signal(signal.SIGTERM)
        for caller in callers:
            await caller.wait_for(b"Le serveur s'arrete pour maintenance")
            await caller.closed(5)
        code = await asyncio.get_running_loop().run_in_executor(None, proc.wait, 5)
        assert code == 0
    finally:
        for caller in callers:
            caller.close()


def test_directory_cli_text_and_json(loaded_db: str) -> None:
    text = run("directory", "search", "belgique", "fax", "--db", loaded_db)
    assert text.returncode == 0, text.stderr
    assert "+32 2 714 31 34" in text.stdout
    data = run("directory", "search", "46 8 750 83 70", "--json", "--db", loaded_db)
    assert data.returncode == 0
    assert "Su" in json.dumps(json.loads(data.stdout), ensure_ascii=False)
    country = run("directory", "country", "Norway", "--json", "--db", loaded_db)
    assert country.returncode == 0 and "+46 8 750 83 70" in country.stdout
    missing = run("directory", "country", "Atlantide", "--db", loaded_db)
    assert missing.returncode == 1


def test_menus_check_names_file_and_line(tmp_path: Path) -> None:
    menus = tmp_path / "menus"
    shutil.copytree(ROOT / "menus", menus)
    fax = menus / "fax.toml"
    text = fax.read_text(encoding="utf-8")
    assert 'action = "cmd:service:fax"' in text
    fax.write_text(
        text.replace('action = "cmd:service:fax"', 'action = "menu:nulle_part"', 1),
        encoding="utf-8",
    )
    line = next(
        n
        for n, row in enumerate(fax.read_text(encoding="utf-8").splitlines(), 1)
        if "nulle_part" in row
    )
    env = {**os.environ, "BBS_MENUS_DIR": str(menus)}
    checked = run("menus", "check", env=env)
    assert checked.returncode == 2
    assert f"fax.toml:{line}:" in checked.stderr
    assert "nulle_part" in checked.stderr
    assert run("menus", "check").returncode == 0


def test_serve_refuses_bad_menus(tmp_path: Path, loaded_db: str) -> None:
    menus = tmp_path / "menus"
    shutil.copytree(ROOT / "menus", menus)
    web = menus / "web.toml"
    web.write_text(
        web.read_text(encoding="utf-8")
        + '\n[[items]]\nkey = "N"\naction = "back"\n[items.label]\nfr = "x"\nen = "x"\nde = "x"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "BBS_MENUS_DIR": str(menus)}
    served = run("serve", "--port", str(free_port()), "--db", loaded_db, env=env)
    assert served.returncode == 2
    assert "web.toml:" in served.stderr and "Traceback" not in served.stderr


def test_serve_on_an_older_schema_says_what_to_do(tmp_path: Path) -> None:
    """An empty database is prepared by `bbs serve` itself (tests/test_first_run.py); one
    at an older schema is refused with the one command to run."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert run("db", "upgrade", "--db", url).returncode == 0
    with contextlib.closing(sqlite3.connect(tmp_path / "old.db")) as db:
        db.execute("UPDATE alembic_version SET version_num = '0005'")
        db.commit()
    served = run("serve", "--port", str(free_port()), "--db", url)
    assert served.returncode == 2
    assert "bbs db upgrade" in served.stderr and "Traceback" not in served.stderr


def test_load_is_idempotent_and_refuses_a_bad_file_leaving_the_database_alone(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    assert run("db", "upgrade", "--db", url).returncode == 0
    assert run("load", "data", "--db", url).returncode == 0
    again = run("load", "data", "--db", url)
    assert again.returncode == 0 and "unchanged" in again.stdout
    before = stable(run("directory", "country", "Canada", "--json", "--db", url).stdout)

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    canada = data / "listings" / "canada.toml"
    lines = canada.read_text(encoding="utf-8").splitlines()
    bad = next(n for n, row in enumerate(lines) if row.startswith('country = "CA"'))
    lines[bad] = 'country = "ZZ"'
    canada.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused = run("load", str(data), "--db", url)
    assert refused.returncode == 2
    assert "canada.toml:" in refused.stderr and "ZZ" in refused.stderr
    assert refused.stderr.count("\n") == 1

    canada.write_text("[[listing]\n", encoding="utf-8")
    broken = run("load", str(data), "--db", url)
    assert broken.returncode == 2 and "canada.toml:" in broken.stderr
    assert stable(run("directory", "country", "Canada", "--json", "--db", url).stdout) == before


def stable(answer: str) -> object:
    """A JSON answer without what depends on the clock (the time, open or closed)."""

    def strip(node: object) -> object:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("now", "status")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(json.loads(answer))
