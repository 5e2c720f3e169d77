"""Smoke tests of the benchmark: `python -m bench --quick --only echo` end to end, a
tiny `--only transfers` run (64 KiB, ZMODEM), a 40-caller `--only scale` run and a
20-login `--only cluster` run.

The load smoke runs only the bare echo server and the transfer smoke only checks that every
transfer completes: the board's timings are not something the unit suite can depend on.
The full benchmark is `make bench`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


@pytest.mark.e2e
def test_transfer_smoke_through_the_board_and_the_reference(tmp_path: Path) -> None:
    """`--only transfers` on a 64 KiB file, ZMODEM both ways, two typists: every run
    completes intact, and the JSON keeps what the load run wrote before."""
    assert shutil.which("sz") and shutil.which("rz"), "lrzsz missing (make setup installs it)"
    out = tmp_path / "latest.json"
    out.write_text(json.dumps({"cases": ["kept"], "date": "before"}), encoding="utf-8")
    argv = [sys.executable, "-m", "bench", "--only", "transfers", "--json", str(out)]
    argv += ["--xfer-size", "64K", "--xfer-protocols", "Z", "--xfer-repeat", "1"]
    argv += ["--typists", "2", "--load-seconds", "1"]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "board MB/s" in done.stdout and "reference MB/s" in done.stdout
    assert "key -> echo, during a download" in done.stdout

    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["cases"] == ["kept"] and record["date"] == "before"
    xfer = record["transfers"]
    assert xfer["settings"]["size"] == 65536 and not xfer.get("error")
    rows = {(r["protocol"], r["direction"]): r for r in xfer["rows"]}
    assert set(rows) == {("Z", "download"), ("Z", "upload")}
    for row in rows.values():
        for side in ("board", "reference"):
            figures = row[side]
            assert figures["runs"] == figures["ok"] == 1, figures["failures"]
            assert figures["total_mb_s"] > 0 and figures["peer_mb_s"] > 0
    load = xfer["load"]
    assert load["connected"]["idle"] == 2 and load["downloads"]
    assert all(run["ok"] for run in load["downloads"])
    assert load["latency"]["key_between"]["count"] > 0
    verdicts = {t["target"]: t["verdict"] for t in xfer["targets"]}
    assert verdicts["every transfer through the board completes with the file intact"] == "PASS"


def _bench(tmp_path: Path, *args: str, timeout: float) -> tuple[str, dict[str, Any]]:
    """Run ``python -m bench ARGS --json ...``; (stdout, the JSON record)."""
    out = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    record: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return done.stdout, record


@pytest.mark.e2e
def test_scale_smoke_every_caller_arrives_and_types(tmp_path: Path) -> None:
    """`--only scale` on 40 callers (4 typing, two drivers): both servers carry them all,
    the typists' keys are timed, the probe measured the loop, nothing is left running."""
    args = ["--only", "scale", "--quick", "--scale-n", "40", "--scale-active", "4"]
    args += ["--scale-seconds", "3", "--scale-procs", "2"]
    stdout, record = _bench(tmp_path, *args, timeout=90)
    assert "key p50/p99/max ms" in stdout and "RSS/caller KiB" in stdout
    rows = {row["server"]: row for row in record["scale"]["rows"]}
    assert set(rows) == {"echo", "board"}
    for name, row in rows.items():
        assert not row.get("error"), row.get("error")
        assert row["idle"] == 40 and row["connect"]["failures"]["count"] == 0, name
        typing = row["typing"]
        assert typing["active"] == 4 and typing["failures"]["count"] == 0, typing
        assert typing["idle_still_connected"] == typing["idle_total"] == 36
        assert 0 < typing["keys"]["p50_ms"] <= typing["keys"]["max_ms"] < 5000
        assert row["connect"]["per_second"] > 0 and row["rss_per_caller_kib"] is not None
        assert row["probe_active"]["loop_lag_samples"] > 0
        assert not Path(f"/proc/{row['server_pid']}").exists()
    verdicts = {t["target"]: t["verdict"] for t in record["scale"]["targets"]}
    assert verdicts["every caller served, the board alive"] == "PASS"


@pytest.mark.e2e
@pytest.mark.postgres
def test_cluster_smoke_logins_and_pages_through_haproxy(tmp_path: Path) -> None:
    """`--only cluster` with 20 logins and one pair: both topologies log everybody in
    through HAProxy and every page arrives, across nodes in the two-node row."""
    assert shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists(), "make setup"
    args = ["--only", "cluster", "--quick", "--cluster-callers", "20", "--cluster-pairs", "1"]
    stdout, record = _bench(tmp_path, *args, timeout=120)
    assert "logins/s" in stdout and "page p50/p99/max ms" in stdout
    cluster = record["cluster"]
    assert not cluster.get("error"), cluster["error"]
    rows = {row["nodes"]: row for row in cluster["rows"]}
    assert set(rows) == {1, 2}
    for count, row in rows.items():
        assert not row.get("error"), row.get("error")
        assert row["logins"]["ok"] == 20 and row["logins"]["failed"] == 0, count
        assert row["pages"]["page"]["count"] == 3, row["pages"]
        assert len(row["nodes_cpu_share"]) == count


def test_ssh_part_signs_in_over_both_and_measures_memory(tmp_path: Path) -> None:
    out = tmp_path / "ssh.json"
    args = ["--logins", "6", "--idle", "6", "--settle", "0.2", "--concurrency", "2"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.ssh", *args, "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # A handful of callers makes the memory ratio noise: only that it ran is checked here.
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "| sign-ins a second |" in done.stdout, done.stdout + done.stderr
    record = json.loads(out.read_text(encoding="utf-8"))
    for name in ("telnet_logins", "ssh_guest_logins", "ssh_password_logins"):
        assert record[name]["failed"] == 0 and record[name]["per_second"] > 0, record[name]
    for name in ("telnet_idle", "ssh_idle"):
        assert record[name]["n"] == 6 and record[name]["rss_after_kib"] > 0
