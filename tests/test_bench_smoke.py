"""Smoke test of the load benchmark: `python -m bench --quick --only echo` end to end.

Only the bare echo server: the board's timings are not something the unit suite can
depend on. The full benchmark is `make bench`.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from bench.client import TelnetClient

REPO = Path(__file__).resolve().parent.parent


def test_quick_echo_run_prints_sane_figures(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "echo", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any("search p50 ms" in line and "RSS/caller KiB" in line for line in lines)
    row = next(line for line in lines if line.split()[:3] == ["50", "echo", "50/50"])
    assert "PASS" in done.stdout

    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["machine"]["cpus"] >= 1 and record["machine"]["python"]
    (case,) = record["cases"]
    assert case["server"] == "echo" and case["n"] == 50, row
    lat = case["done"]["latency"]
    assert lat["count"] == 50 * 3
    assert 0 < lat["p50_ms"] <= lat["p99_ms"] <= lat["max_ms"] < 2000
    assert case["done"]["failures"]["count"] == 0
    assert case["connected"]["per_second"] > 0
    assert 1 < case["rss_per_caller_kib"] < 1000
    # The server process was stopped and reaped.
    assert not Path(f"/proc/{case['server_pid']}").exists()


def test_client_strips_iac_and_answers_negotiation() -> None:
    class Wire:
        def __init__(self) -> None:
            self.sent = b""

        def write(self, data: bytes) -> None:
            self.sent += data

        def is_closing(self) -> bool:
            return False

    async def scenario() -> tuple[bytes, bytes]:
        client = TelnetClient()
        wire = Wire()
        client.transport = wire  # type: ignore[assignment]
        # DO TTYPE, WILL ECHO, DO NEW-ENVIRON, "a", IAC IAC, SB TTYPE SEND split over packets.
        client.data_received(b"\xff\xfd\x18\xff\xfb\x01\xff\xfd\x27a\xff\xff\xff\xfa")
        client.data_received(b"\x18\x01\xff\xf0b")
        return bytes(client.buffer), wire.sent

    screen, sent = asyncio.run(scenario())
    assert screen == b"a\xffb"
    assert sent == (
        b"\xff\xfb\x18"  # WILL TTYPE
        b"\xff\xfd\x01"  # DO ECHO
        b"\xff\xfc\x27"  # WONT NEW-ENVIRON
        b"\xff\xfa\x18\x00dumb\xff\xf0"  # SB TTYPE IS dumb SE
    )
