"""The benchmark's tables, its targets with PASS/MISS, and the JSON record."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Case = dict[str, Any]
"""One (server, N) measurement as the harness records it (JSON-ready)."""

MEMORY_FACTOR = 2.0
P99_AT, P99_MS = 1000, 20.0
MAX_AT, MAX_MS = 5000, 250.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """One target: what it asks, the figure, PASS / MISS / n/a."""

    target: str
    figure: str
    verdict: str


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    uname = platform.uname()
    return {
        "uname": f"{uname.system} {uname.release} {uname.version} {uname.machine}",
        "node": uname.node,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
    }


def _num(value: Any, fmt: str = ".1f") -> str:
    return "-" if value is None else format(value, fmt)


def table(rows: Sequence[Sequence[str]], header: Sequence[str], right: set[int]) -> str:
    """Plain-text table, columns aligned (those in `right` to the right)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _row_start(case: Case) -> list[str]:
    return [str(case["n"]), case["server"]]


def results_table(cases: Sequence[Case]) -> str:
    """The headline figures, one line per (N, server)."""
    header = [
        "N",
        "server",
        "callers ok",
        "conn/s",
        "search p50 ms",
        "p99 ms",
        "max ms",
        "RSS/caller KiB",
        "CPU ms/search",
    ]
    rows: list[list[str]] = []
    for case in cases:
        if case.get("error"):
            rows.append([*_row_start(case), "not run", *["-"] * (len(header) - 3)])
            continue
        connected = case.get("connected") or {}
        done = case.get("done") or {}
        lat = done.get("latency") or {}
        if not lat.get("count"):
            lat = {}
        ok = done.get("completed", connected.get("idle"))
        rows.append(
            [
                *_row_start(case),
                f"{_num(ok, 'd')}/{case['n']}",
                _num(connected.get("per_second"), ".0f"),
                _num(lat.get("p50_ms"), ".2f"),
                _num(lat.get("p99_ms"), ".2f"),
                _num(lat.get("max_ms"), ".1f"),
                _num(case.get("rss_per_caller_kib")),
                _num(case.get("cpu_ms_per_search"), ".2f"),
            ]
        )
    return table(rows, header, right=set(range(len(header))) - {1})


def _gc_share(probe: dict[str, Any], cpu: float | None) -> str:
    """The collector's CPU time as a share of the server's, during the rounds."""
    gens = (probe.get("gc") or {}).values()
    spent = sum(g.get("cpu_total_ms", 0.0) for g in gens) / 1000
    return f"{spent / cpu * 100:.0f}%" if cpu and gens else "-"


def diagnostics_table(cases: Sequence[Case]) -> str:
    """Where the time goes: arrival, GO, the server's own stalls and GC, the harness's lag."""
    header = [
        "N",
        "server",
        "1st prompt p50/p99 ms",
        "GO p50/p99/max ms",
        "srv stall max ms",
        "GC gen2 n/max ms",
        "GC CPU",
        "GC objs/caller",
        "client lag ms",
        "other CPU",
    ]
    rows: list[list[str]] = []
    for case in cases:
        if case.get("error"):
            continue
        connected = case.get("connected") or {}
        done = case.get("done") or {}
        first = connected.get("first_prompt") or {}
        nav = done.get("nav") or {}
        probe = case.get("probe_rounds") or {}
        gen2 = (probe.get("gc") or {}).get("2") or {}
        lag = max(
            (connected.get("client_lag") or {}).get("max_ms", 0.0),
            (done.get("client_lag") or {}).get("max_ms", 0.0),
        )
        other = case.get("other_cpu_share")
        rows.append(
            [
                *_row_start(case),
                f"{_num(first.get('p50_ms'))}/{_num(first.get('p99_ms'))}",
                (
                    f"{_num(nav['p50_ms'])}/{_num(nav['p99_ms'])}/{_num(nav['max_ms'], '.0f')}"
                    if nav.get("count")
                    else "-"
                ),
                _num(probe.get("loop_lag_max_ms")),
                f"{gen2['count']}/{gen2['max_ms']:.0f}" if gen2 else "-",
                _gc_share(probe, case.get("server_cpu_s")),
                _num(case.get("gc_objects_per_caller"), ".0f"),
                _num(lag if done or connected else None),
                "-" if other is None else f"{other * 100:.0f}%",
            ]
        )
    return table(rows, header, right=set(range(len(header))) - {1})


def _find(cases: Sequence[Case], server: str, n: int) -> Case | None:
    return next((c for c in cases if c["server"] == server and c["n"] == n), None)


def _usable(case: Case | None) -> bool:
    return bool(case) and not case.get("error") and bool(case.get("done"))  # type: ignore[union-attr]


def _why_not(
    case: Case | None, n: int, server: str, sizes: Sequence[int], servers: Sequence[str]
) -> str:
    if case is None:
        if n not in sizes:
            return f"not run (N={n} not in --sizes)"
        if server not in servers:
            return f"{server} not in this run (--only)"
        return f"{server} not measured (interrupted?)"
    if case.get("error"):
        return f"{server} not run: {str(case['error']).splitlines()[0][:70]}"
    return f"{server} run incomplete"


def verdicts(cases: Sequence[Case], sizes: Sequence[int], servers: Sequence[str]) -> list[Verdict]:
    """The targets, judged on the board (the echo server's figure beside it)."""
    out: list[Verdict] = []
    for n in sizes:
        board, echo = _find(cases, "board", n), _find(cases, "echo", n)
        target = f"N={n}: RSS per idle caller at a menu <= {MEMORY_FACTOR:g}x bare server"
        if board is None or echo is None:
            missing = "board" if board is None else "echo"
            out.append(Verdict(target, _why_not(None, n, missing, sizes, servers), "n/a"))
        elif not (board.get("rss_per_caller_kib") is not None and echo.get("rss_per_caller_kib")):
            bad = board if board.get("rss_per_caller_kib") is None else echo
            out.append(Verdict(target, _why_not(bad, n, bad["server"], sizes, servers), "n/a"))
        else:
            b, e = board["rss_per_caller_kib"], echo["rss_per_caller_kib"]
            ok = b <= MEMORY_FACTOR * e
            out.append(
                Verdict(
                    target,
                    f"board {b:.1f} KiB vs echo {e:.1f} KiB ({b / e:.2f}x)",
                    "PASS" if ok else "MISS",
                )
            )
    for n, pct, limit, what in (
        (P99_AT, "p99_ms", P99_MS, "p99"),
        (MAX_AT, "max_ms", MAX_MS, "max"),
    ):
        target = f"N={n}: search {what} < {limit:g} ms"
        board, echo = _find(cases, "board", n), _find(cases, "echo", n)
        if not _usable(board):
            out.append(Verdict(target, _why_not(board, n, "board", sizes, servers), "n/a"))
            continue
        assert board is not None
        value = board["done"]["latency"][pct]
        figure = f"board {value:.1f} ms"
        if _usable(echo):
            assert echo is not None
            figure += f" (echo {echo['done']['latency'][pct]:.1f} ms)"
        out.append(Verdict(target, figure, "PASS" if value < limit else "MISS"))
    for case in cases:
        if case.get("error"):
            continue
        target = f"N={case['n']} {case['server']}: every caller served, server alive"
        failed = (case.get("done") or case.get("connected") or {}).get("failures", {})
        count = failed.get("count", case["n"]) if case.get("connected") else case["n"]
        dead = case.get("server_exit")
        figure = f"{count} failed" + (f", server exited ({dead})" if dead is not None else "")
        out.append(Verdict(target, figure, "PASS" if not count and dead is None else "MISS"))
    return out


def verdict_table(items: Sequence[Verdict]) -> str:
    """Targets beside the figures."""
    rows = [[v.target, v.figure, v.verdict] for v in items]
    return table(rows, ["target", "measured", "verdict"], right=set())


def problems(cases: Sequence[Case]) -> list[str]:
    """Failures, errors and server complaints worth reading, one paragraph each."""
    out: list[str] = []
    for case in cases:
        label = f"{case['server']} N={case['n']}"
        if case.get("error"):
            out.append(f"{label}: could not run: {case['error']}")
            continue
        for phase in ("warm", "connected", "done"):
            info = case.get(phase) or {}
            if phase == "warm" and info and not info.get("ok"):
                out.append(f"{label}: warm-up caller failed: {info.get('failure')}")
            failed = info.get("round_failures" if phase == "done" else "failures") or {}
            if failed.get("count"):
                out.append(
                    f"{label}: {failed['count']} caller(s) failed during "
                    f"{'arrival' if phase == 'connected' else 'the rounds'} "
                    f"{failed.get('by_phase')}:\n    " + "\n    ".join(failed.get("reasons", []))
                )
        if case.get("server_exit") is not None:
            out.append(f"{label}: server exited with status {case['server_exit']} during the run")
        other = case.get("other_cpu_share")
        if other is not None and other > 0.25:
            out.append(
                f"{label}: other processes kept {other * 100:.0f}% of a CPU busy during the "
                "rounds: the latencies are pessimistic; rerun on a quiet machine"
            )
        log = case.get("server_log") or {}
        if log.get("errors"):
            out.append(
                f"{label}: server logged {log['errors']} error/warning line(s), e.g.:\n    "
                + "\n    ".join(log.get("examples", []))
            )
    return out


def render(
    cases: Sequence[Case],
    sizes: Sequence[int],
    servers: Sequence[str],
    options: dict[str, Any],
    notes: Sequence[str],
) -> str:
    """The whole printed report."""
    info = machine()
    head = (
        f"lotus-bbs bench  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  "
        f"{info['uname'].split()[0]} {platform.machine()}, {info['cpus']} CPUs, "
        f"Python {info['python']}\n"
        f"{options['rounds']} search(es) per caller, think time ~{options['think']:g} s, "
        f"{options['connect_concurrency']} connecting at once; servers, callers: separate processes"
    )
    legend = (
        "conn/s: callers reaching their first prompt per second. search: Enter -> completed\n"
        "screen (echo: line -> echoed line + prompt); max = the worst stall a caller saw.\n"
        "RSS/caller: (server VmRSS, all callers idle at a prompt - before) / callers.\n"
        "GO: 'GO ANNUAIRE' -> directory prompt. srv stall / GC: measured inside the server\n"
        "during the rounds (GC CPU: the collector's share of the server's CPU time).\n"
        "client lag: the callers' own loop lateness (a floor for latency).\n"
        "other CPU: what other processes on the machine used meanwhile (noise)."
    )
    body = results_table(cases) if cases else "(no case finished)"
    diag = diagnostics_table(cases) if cases else ""
    parts = [
        head,
        "",
        body,
        "",
        diag,
        "",
        legend,
        "",
        verdict_table(verdicts(cases, sizes, servers)),
    ]
    found = problems(cases)
    if notes or found:
        parts += ["", "Notes:"]
        parts += [f"- {n}" for n in notes]
        parts += [f"- {p}" for p in found]
    return "\n".join(parts)


def write_json(
    path: Path,
    cases: Sequence[Case],
    sizes: Sequence[int],
    servers: Sequence[str],
    options: dict[str, Any],
    notes: Sequence[str],
    interrupted: bool = False,
    transfers: dict[str, Any] | None = None,
    scale: dict[str, Any] | None = None,
    cluster: dict[str, Any] | None = None,
) -> None:
    """The record of this run, into `path`.

    What this run did not measure is kept from the file as it was: a run of the load
    cases only keeps the last "transfers", and ``--only transfers`` replaces only those.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {}
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(old, dict):
            record = old
    except (OSError, ValueError):
        pass
    if servers:
        record.update(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine(),
                "options": options,
                "interrupted": interrupted,
                "cases": list(cases),
                "targets": [
                    {"target": v.target, "measured": v.figure, "verdict": v.verdict}
                    for v in verdicts(cases, sizes, servers)
                ],
                "notes": list(notes) + problems(cases),
            }
        )
    if transfers is not None:
        record["transfers"] = {
            **transfers,
            "interrupted": interrupted,
            "targets": [
                {"target": v.target, "measured": v.figure, "verdict": v.verdict}
                for v in transfer_verdicts(transfers)
            ],
            "notes": transfer_problems(transfers),
        }
    if scale is not None:
        record["scale"] = {
            **scale,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "targets": [
                {"target": v.target, "measured": v.figure, "verdict": v.verdict}
                for v in scale_verdicts(scale)
            ],
            "problems": scale_problems(scale),
        }
    if cluster is not None:
        record["cluster"] = {
            **cluster,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "problems": cluster_problems(cluster),
        }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------------- transfers

XFER_DL_TARGET = 0.8
"""ZMODEM download through the board: at least this share of the reference's MB/s."""
XFER_UL_TARGET = 0.5
"""ZMODEM upload through the board: at least this share of its own ZMODEM download."""
XFER_KEY_P99_MS = 100.0
"""Keystroke p99 at the menu while the board sends a ZMODEM download."""


def _row(record: dict[str, Any], letter: str, direction: str) -> dict[str, Any] | None:
    return next(
        (
            r
            for r in record.get("rows") or []
            if r["protocol"] == letter and r["direction"] == direction
        ),
        None,
    )


def _mbs(side: dict[str, Any], key: str = "total_mb_s") -> str:
    if not side.get("runs"):
        return "-"
    if not side.get("ok"):
        return "FAILED"
    text = f"{side[key]:.1f}"
    return text if side["ok"] == side["runs"] else f"{text} ({side['runs'] - side['ok']} failed)"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def _row_target(record: dict[str, Any], row: dict[str, Any]) -> tuple[str, str]:
    """(target, PASS/MISS/-) for one row of the transfer table."""
    board = row["board"]
    if row["protocol"] == "Z" and row["direction"] == "download":
        ref = row["reference"]
        target = f">= {XFER_DL_TARGET:g}x reference"
        if board.get("total_mb_s") and ref.get("total_mb_s"):
            ok = board["total_mb_s"] >= XFER_DL_TARGET * ref["total_mb_s"]
            return target, "PASS" if ok else "MISS"
        return target, "MISS" if board.get("runs") and not board.get("ok") else "n/a"
    if row["protocol"] == "Z" and row["direction"] == "upload":
        down = _row(record, "Z", "download")
        target = f">= {XFER_UL_TARGET:g}x board ZMODEM download"
        down_rate = (down or {}).get("board", {}).get("total_mb_s")
        if board.get("total_mb_s") and down_rate:
            ok = board["total_mb_s"] >= XFER_UL_TARGET * down_rate
            return f"{target} ({board['total_mb_s'] / down_rate:.2f}x)", "PASS" if ok else "MISS"
        return target, "MISS" if board.get("runs") and not board.get("ok") else "n/a"
    return "-", "-"


def transfer_table(record: dict[str, Any]) -> str:
    """One line per (protocol, direction): board and reference MB/s, ratio, target."""
    header = [
        "protocol",
        "direction",
        "board MB/s",
        "reference MB/s",
        "ratio",
        "target",
        "verdict",
        "board xfer MB/s",
        "ref xfer MB/s",
        "xfer ratio",
    ]
    rows: list[list[str]] = []
    for row in record.get("rows") or []:
        board, ref = row["board"], row["reference"]
        target, verdict = _row_target(record, row)
        rows.append(
            [
                row["name"],
                row["direction"],
                _mbs(board),
                _mbs(ref),
                _ratio(board.get("total_mb_s"), ref.get("total_mb_s")),
                target,
                verdict,
                _mbs(board, "peer_mb_s"),
                _mbs(ref, "peer_mb_s"),
                _ratio(board.get("peer_mb_s"), ref.get("peer_mb_s")),
            ]
        )
    return table(rows, header, right={2, 3, 4, 7, 8, 9})


KEY_ROWS = (
    ("key_during", "key -> echo, during a download"),
    ("enter_during", "Enter -> prompt, during a download"),
    ("key_between", "key -> echo, between downloads"),
    ("enter_between", "Enter -> prompt, between downloads"),
)


def keystroke_table(load: dict[str, Any]) -> str:
    """Keystroke latency of the typists, during the downloads and between them."""
    lat = load.get("latency") or {}
    rows: list[list[str]] = []
    for key, label in KEY_ROWS:
        figures = lat.get(key) or {}
        during = key.endswith("during")
        verdict = "-"
        if during:
            verdict = (
                "n/a"
                if not figures.get("count")
                else "PASS"
                if figures["p99_ms"] < XFER_KEY_P99_MS
                else "MISS"
            )
        rows.append(
            [
                label,
                _num(figures.get("count"), "d"),
                _num(figures.get("p50_ms"), ".2f"),
                _num(figures.get("p99_ms"), ".2f"),
                _num(figures.get("max_ms"), ".1f"),
                f"p99 < {XFER_KEY_P99_MS:g} ms" if during else "-",
                verdict,
            ]
        )
    header = [f"{load.get('typists', '?')} callers at the main menu", "n", "p50 ms", "p99 ms"]
    return table(rows, [*header, "max ms", "target", "verdict"], right={1, 2, 3, 4})


def transfer_verdicts(record: dict[str, Any]) -> list[Verdict]:
    """The transfer targets, judged on the board."""
    out: list[Verdict] = []
    settings = record.get("settings") or {}
    size = f"{settings.get('size', 0) / 1048576:g} MiB"
    down, up = _row(record, "Z", "download"), _row(record, "Z", "upload")
    target = f"ZMODEM download of {size}: board >= {XFER_DL_TARGET:g}x lrzsz reference"
    if down is None:
        out.append(Verdict(target, "not measured", "n/a"))
    else:
        b, r = down["board"].get("total_mb_s"), down["reference"].get("total_mb_s")
        _, verdict = _row_target(record, down)
        figure = f"board {_mbs(down['board'])} MB/s vs reference {_mbs(down['reference'])} MB/s"
        out.append(Verdict(target, f"{figure} ({_ratio(b, r)})", verdict))
    target = f"ZMODEM upload of {size}: >= {XFER_UL_TARGET:g}x the board's ZMODEM download"
    if up is None or down is None:
        out.append(Verdict(target, "not measured", "n/a"))
    else:
        b, d = up["board"].get("total_mb_s"), down["board"].get("total_mb_s")
        _, verdict = _row_target(record, up)
        figure = f"upload {_mbs(up['board'])} MB/s vs download {_mbs(down['board'])} MB/s"
        out.append(Verdict(target, f"{figure} ({_ratio(b, d)})", verdict))
    load = record.get("load")
    target = f"keystroke p99 < {XFER_KEY_P99_MS:g} ms at the menu during a ZMODEM download"
    if not load or load.get("error"):
        why = (load or {}).get("error", "not measured (--typists 0?)")
        out.append(Verdict(target, str(why).splitlines()[0][:80], "n/a"))
    else:
        lat = load.get("latency") or {}
        parts, verdicts = [], []
        for key, label in (("key_during", "key->echo"), ("enter_during", "Enter->prompt")):
            figures = lat.get(key) or {}
            if figures.get("count"):
                parts.append(f"{label} {figures['p99_ms']:.1f} ms (n={figures['count']})")
                verdicts.append(figures["p99_ms"] < XFER_KEY_P99_MS)
        verdict = "n/a" if not verdicts else "PASS" if all(verdicts) else "MISS"
        out.append(Verdict(target, ", ".join(parts) or "no sample during a download", verdict))
    rows = record.get("rows") or []
    runs = sum(r["board"]["runs"] for r in rows)
    failed = sum(r["board"]["runs"] - r["board"]["ok"] for r in rows)
    failed += sum(1 for r in ((load or {}).get("downloads") or []) if not r.get("ok"))
    out.append(
        Verdict(
            "every transfer through the board completes with the file intact",
            f"{failed} of {runs} failed" if runs else "none run",
            ("PASS" if not failed else "MISS") if runs else "n/a",
        )
    )
    return out


def transfer_problems(record: dict[str, Any]) -> list[str]:
    """Failed runs (board and reference), setup errors and server complaints."""
    out: list[str] = []
    if record.get("interrupted"):
        out.append("transfers: interrupted: results are partial")
    if record.get("error"):
        out.append(f"transfers: could not run: {record['error']}")
    for row in record.get("rows") or []:
        for side in ("board", "reference"):
            for failure in row[side].get("failures") or []:
                out.append(f"{side} {row['name']} {row['direction']}: {failure}")
        if row.get("note"):
            out.append(f"{row['name']} {row['direction']}: {row['note']}")
    load = record.get("load") or {}
    if load.get("error"):
        out.append(f"keystroke load: {load['error']}")
    for phase in ("connected", "failures"):
        info = load.get(phase) or {}
        info = info.get("failures", info) if phase == "connected" else info
        if info.get("count"):
            out.append(
                f"keystroke load: {info['count']} typist(s) failed:\n    "
                + "\n    ".join(info.get("reasons", []))
            )
    for run in load.get("downloads") or []:
        if not run.get("ok"):
            out.append(f"download under load: {run.get('failure')}")
    for name in ("board_log", "reference_log"):
        log = record.get(name) or {}
        if log.get("errors"):
            out.append(
                f"{name.replace('_', ' ')}: {log['errors']} error/warning line(s), e.g.:\n    "
                + "\n    ".join(log.get("examples", []))
            )
    if record.get("server_exit"):
        out.append(f"a server exited during the transfers: {record['server_exit']}")
    return out


def render_transfers(record: dict[str, Any]) -> str:
    """The printed transfer report."""
    settings = record.get("settings") or {}
    size = settings.get("size", 0)
    head = (
        f"Transfers: one file of {size} bytes ({size / 1048576:g} MiB, every byte value) "
        "through the board and through\nlrzsz behind a bare telnetlib3 server (reference), "
        f"over TCP telnet; median of up to {settings.get('repeat', '?')} runs"
    )
    legend = (
        "MB/s = 10^6 bytes/s, from the Enter that ends the command (DL/UL; the reference's\n"
        "command line) to the server's end line (board: 'Transfert termine'; reference: its\n"
        "'done' line). xfer MB/s: to the caller's lrzsz program exiting instead (the file\n"
        "complete on the caller's side, or the caller's sender done).\n"
        "Programs (caller <-> server): ZMODEM rz -y / sz, YMODEM rb -y / sb, XMODEM-1K\n"
        "rx -c / sx -k; reference downloads send with sb -k, sx -k (1 KiB blocks, as the board)."
    )
    parts = [head, "", transfer_table(record) if record.get("rows") else "(no transfer ran)"]
    load = record.get("load")
    if load and not load.get("error"):
        probe = load.get("probe") or {}
        runs = load.get("downloads") or []
        parts += [
            "",
            f"Keystrokes while {len(runs)} ZMODEM downloads ran back to back "
            f"({load.get('window_s', 0):.1f} s with a download under way: Enter to the "
            "caller's rz exiting):",
            keystroke_table(load),
            f"board loop stall max {_num(probe.get('loop_lag_max_ms'))} ms; typists' own "
            f"loop lag max {_num((load.get('client_lag') or {}).get('max_ms'))} ms",
        ]
    parts += ["", legend, "", verdict_table(transfer_verdicts(record))]
    found = transfer_problems(record)
    if found:
        parts += ["", "Notes:", *(f"- {p}" for p in found)]
    return "\n".join(parts)


# ---------------------------------------------------------------------- 10 000 callers

SCALE_KEY_P99_MS = 250.0
"""Keystroke p99 of the typing callers with everybody else idle at a menu."""


def _pmm(figures: dict[str, Any] | None, fmt: str = ".1f") -> str:
    """``p50 / p99 / max`` of a latency summary, or ``-``."""
    if not figures or not figures.get("count", 1):
        return "-"
    return " / ".join(_num(figures.get(k), fmt) for k in ("p50_ms", "p99_ms", "max_ms"))


def _lag(probe: dict[str, Any] | None) -> str:
    if not probe:
        return "-"
    keys = ("loop_lag_p50_ms", "loop_lag_p99_ms", "loop_lag_max_ms")
    return " / ".join(_num(probe.get(k)) for k in keys)


def scale_table(record: dict[str, Any]) -> str:
    """One line per server: arrival, memory per idle caller, keystrokes, the loop's lag."""
    header = [
        "server",
        "idle/N",
        "typing",
        "conn/s",
        "RSS/caller KiB",
        "key p50/p99/max ms",
        "Enter p50/p99/max ms",
        "loop lag p50/p99/max ms",
        "arrival lag max ms",
        "srv CPU",
    ]
    rows: list[list[str]] = []
    for row in record.get("rows") or []:
        if row.get("error"):
            rows.append([row["server"], "not run", *["-"] * (len(header) - 2)])
            continue
        typing = row.get("typing") or {}
        arrival = row.get("probe_arrival") or {}
        rows.append(
            [
                row["server"],
                f"{row.get('idle', 0)}/{row['n']}",
                f"{typing.get('active', 0)}",
                _num(row["connect"].get("per_second"), ".0f"),
                _num(row.get("rss_per_caller_kib")),
                _pmm(typing.get("keys")),
                _pmm(typing.get("screens")),
                _lag(row.get("probe_active")),
                _num(arrival.get("loop_lag_max_ms")),
                f"{row.get('active_cpu_share', 0) * 100:.0f}%",
            ]
        )
    return table(rows, header, right=set(range(1, len(header))))


def scale_problems(record: dict[str, Any]) -> list[str]:
    """Failed callers, dropped idle callers, server errors and exits, driver lag."""
    out: list[str] = list(record.get("notes") or [])
    for row in record.get("rows") or []:
        name = row["server"]
        if row.get("error"):
            out.append(f"{name}: not run: {row['error']}")
            continue
        for label, failures in (
            ("arrival", row["connect"]["failures"]),
            ("typing", (row.get("typing") or {}).get("failures") or {}),
        ):
            if failures.get("count"):
                out.append(
                    f"{name}: {failures['count']} caller(s) failed by the end of {label}: "
                    + "; ".join(failures.get("reasons") or [])
                )
        typing = row.get("typing") or {}
        if typing.get("idle_total") and typing["idle_still_connected"] < typing["idle_total"]:
            lost = typing["idle_total"] - typing["idle_still_connected"]
            out.append(f"{name}: {lost} idle caller(s) were disconnected during the typing")
        for phase in ("arrival", "active"):
            other = row.get(f"{phase}_other_cpu_share") or 0.0
            if other > 0.25:
                out.append(
                    f"{name}: other processes used {other * 100:.0f}% of a CPU during the "
                    f"{'arrival' if phase == 'arrival' else 'typing'} (noise: a shared machine)"
                )
        lag = max(row["connect"].get("client_lag_max_ms", 0), typing.get("client_lag_max_ms", 0))
        if lag > 50:
            out.append(f"{name}: the drivers' own loop lag reached {lag:.0f} ms (a latency floor)")
        log = row.get("server_log") or {}
        if log.get("errors"):
            out.append(f"{name}: the server logged {log['errors']} error/warning line(s), e.g.")
            out += [f"    {line}" for line in log.get("examples") or []]
        if row.get("server_exit") is not None:
            out.append(f"{name}: the server exited during the run ({row['server_exit']})")
    return out


def scale_verdicts(record: dict[str, Any]) -> list[Verdict]:
    """Every caller served and the board's keystroke p99, beside the reference."""
    board = next((r for r in record.get("rows") or [] if r["server"] == "board"), None)
    if not board or board.get("error"):
        why = (board or {}).get("error", "not run")
        return [Verdict("board carries N idle + A typing callers", str(why)[:60], "MISS")]
    typing = board.get("typing") or {}
    failed = board["connect"]["failures"]["count"] + (typing.get("failures") or {}).get("count", 0)
    served = f"{board['idle']}/{board['n']} idle, {failed} failed"
    keys = typing.get("keys") or {}
    return [
        Verdict(
            "every caller served, the board alive",
            served,
            "PASS" if not failed and board.get("server_exit") is None else "MISS",
        ),
        Verdict(
            f"key p99 < {SCALE_KEY_P99_MS:g} ms with everybody connected",
            f"{_num(keys.get('p99_ms'))} ms",
            "PASS" if keys.get("count") and keys["p99_ms"] < SCALE_KEY_P99_MS else "MISS",
        ),
    ]


def render_scale(record: dict[str, Any]) -> str:
    """The printed 10 000-caller report."""
    s = record.get("settings") or {}
    info = machine()
    head = (
        f"One node, {s.get('n')} callers idle at a menu, {s.get('active')} of them typing "
        f"(a key every {s.get('gap_min'):g}-{s.get('gap_max'):g} s: {s.get('go')}, a "
        f"directory search, back) for {s.get('seconds'):g} s\n"
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {info['uname'].split()[0]} "
        f"{platform.machine()}, {info['cpus']} CPUs, Python {info['python']}; "
        f"{s.get('procs')} driver processes, arrivals at up to {s.get('rate'):g}/s"
    )
    legend = (
        "conn/s: callers idle at the main menu (echo: its prompt) / first connect -> last one\n"
        "there (board: welcome, Enter, INVITE at the sign-in prompt, the menu).\n"
        "RSS/caller: (server VmRSS with everybody idle - before the arrival) / idle callers.\n"
        "key: a typed key -> its echo; Enter: Enter -> the completed screen (directory prompt,\n"
        "search results, main menu; echo: its prompt). Typing callers only.\n"
        "loop lag: inside the server, how late a 10 ms sleep wakes up, during the typing;\n"
        "arrival lag: the same, worst case while callers arrived. srv CPU: the server's CPU\n"
        "time during the typing / wall time (100% = one core)."
    )
    parts = [head, "", scale_table(record), "", legend]
    rows = [r for r in record.get("rows") or [] if not r.get("error")]
    if rows:
        detail = []
        for r in rows:
            t = r.get("typing") or {}
            by = t.get("by_screen") or {}
            detail.append(
                f"{r['server']}: {t.get('keys', {}).get('count', 0)} keys "
                f"({t.get('keys_per_second', 0):.0f}/s), arrival p50/p99/max "
                f"{_pmm(r['connect'].get('arrival'), '.0f')} ms; Enter after GO "
                f"{_pmm(by.get('go'))}, search {_pmm(by.get('search'))}, back "
                f"{_pmm(by.get('back'))} ms; server CPU per arrival "
                f"{_num(r.get('arrival_cpu_ms_per_caller'), '.2f')} ms; "
                f"RSS {r.get('rss_before_kib', 0) / 1024:.0f} -> "
                f"{r.get('rss_idle_kib', 0) / 1024:.0f} MiB; drivers' CPU "
                f"{r.get('drivers_cpu_share', 0) * 100:.0f}%"
            )
        parts += ["", *detail]
    for r in rows:
        for phase in ("arrival", "active"):
            stalls = (r.get(f"probe_{phase}") or {}).get("stall_samples") or []
            if stalls:
                parts += [
                    "",
                    f"{r['server']}: where its loop was when stalled over 200 ms "
                    f"({phase}; samples every 50 ms):",
                ]
                parts += [f"  {count:5d}  {where}" for where, count in stalls[:4]]
    parts += ["", verdict_table(scale_verdicts(record))]
    found = scale_problems(record)
    if found:
        parts += ["", "Notes:", *(p if p.startswith(" ") else f"- {p}" for p in found)]
    return "\n".join(parts)


# ---------------------------------------------------------------------- two nodes


def cluster_table(record: dict[str, Any]) -> str:
    """One line per topology: logins through HAProxy, and pages between two callers."""
    header = [
        "topology",
        "logins ok",
        "logins/s",
        "login p50/p99/max ms",
        "vs 1 node",
        "page",
        "page p50/p99/max ms",
        "node CPU",
    ]
    rows: list[list[str]] = []
    base: float | None = None
    for row in record.get("rows") or []:
        label = f"{row['nodes']} node{'s' if row['nodes'] > 1 else ''} + HAProxy"
        if row.get("error"):
            rows.append([label, "not run", *["-"] * (len(header) - 2)])
            continue
        lg = row["logins"]
        pg = row["pages"]
        if row["nodes"] == 1:
            base = lg["per_second"]
        ratio = f"{lg['per_second'] / base:.2f}x" if base and row["nodes"] > 1 else "-"
        rows.append(
            [
                label,
                f"{lg['ok']}/{lg['callers']}",
                _num(lg["per_second"], ".0f"),
                _pmm(lg["login"], ".0f"),
                ratio,
                "same node" if row["nodes"] == 1 else "node 1 -> 2",
                _pmm(pg["page"]),
                " + ".join(f"{x * 100:.0f}%" for x in row.get("nodes_cpu_share") or []),
            ]
        )
    return table(rows, header, right={1, 2, 3, 4, 6, 7})


def cluster_problems(record: dict[str, Any]) -> list[str]:
    out: list[str] = list(record.get("notes") or [])
    if record.get("error"):
        out.append(f"two-node table: could not run: {record['error']}")
    for row in record.get("rows") or []:
        name = f"{row['nodes']} node(s)"
        if row.get("error"):
            out.append(f"{name}: not run: {row['error']}")
            continue
        lg = row["logins"]
        if lg["failed"]:
            out.append(f"{name}: {lg['failed']} login(s) failed: " + "; ".join(lg["reasons"]))
        pg = row["pages"]
        if pg["failures"]:
            out.append(f"{name}: page failures: " + "; ".join(pg["failures"][:3]))
        if pg["page"]["count"] < pg["sent"]:
            out.append(f"{name}: {pg['page']['count']} of {pg['sent']} pages arrived")
        for node, log in (row.get("server_logs") or {}).items():
            if log.get("errors"):
                out.append(f"{name}, {node}: {log['errors']} error/warning line(s), e.g.")
                out += [f"    {line}" for line in log.get("examples") or []]
        for line in row.get("exits") or []:
            out.append(f"{name}: a node exited during the run ({line})")
    return out


def render_cluster(record: dict[str, Any]) -> str:
    """The printed two-node report."""
    s = record.get("settings") or {}
    info = machine()
    head = (
        "Nodes behind HAProxy (deploy/haproxy.cfg on loopback, send-proxy-v2) on one "
        f"PostgreSQL: {s.get('callers')} guest logins\nper topology ({s.get('inflight')} on "
        "their way at once), "
        f"then {s.get('pairs')} pairs of registered callers, {s.get('pages')} pages each\n"
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {info['uname'].split()[0]} "
        f"{platform.machine()}, {info['cpus']} CPUs, Python {info['python']}"
    )
    legend = (
        "logins/s: guests at the main menu / first connect -> last one there (through HAProxy:\n"
        "welcome, Enter, INVITE at the sign-in prompt, the menu; every session registered in\n"
        "PostgreSQL). login: per caller, TCP connect -> main menu. vs 1 node: logins/s ratio.\n"
        "page: 'PAGE n text' Enter on one caller's line -> the text on the other's screen\n"
        "(senders on node 1; receivers on node 1 with one node, on node 2 with two: the page\n"
        "crosses through PostgreSQL LISTEN/NOTIFY). node CPU: each node's CPU time during the\n"
        "logins / wall time (100% = one core)."
    )
    parts = [head, "", cluster_table(record), "", legend]
    found = cluster_problems(record)
    if found:
        parts += ["", "Notes:", *(p if p.startswith(" ") else f"- {p}" for p in found)]
    return "\n".join(parts)


# ---------------------------------------------------------------------- closer to the floor

FLOOR_ARRIVAL_CPU = 2.0
"""CPU per arrival: at most this multiple of the bare server's."""
FLOOR_CONN_RATE = 0.6
"""Connections per second: at least this share of the bare server's."""
FLOOR_SEARCH_CPU_MS = 0.5
FLOOR_RSS = 1.5
"""Memory per idle caller: at most this multiple of the bare server's."""
FLOOR_PG_LOGINS = 500.0
FLOOR_PG_P99_MS = 100.0
FLOOR_XFER = 0.9
"""ZMODEM Enter -> "Transfert terminé": at least this share of lrzsz behind the bare relay."""
FLOOR_BATCH_S = 0.5
FLOOR_STALL_MS = 100.0
FLOOR_BURST = 5000


def _judge(ok: bool | None) -> str:
    return "n/a" if ok is None else "PASS" if ok else "MISS"


def floor_verdicts(
    cases: Sequence[Case],
    transfers: dict[str, Any] | None,
    scale: dict[str, Any] | None,
    cluster: dict[str, Any] | None,
) -> list[Verdict]:
    """Issue 14's targets, each beside the bare server of the same run where it has one."""
    out: list[Verdict] = []
    pairs = sorted(
        n
        for n in {c["n"] for c in cases}
        if _usable(_find(cases, "echo", n)) and _usable(_find(cases, "board", n))
    )

    def pair(n: int) -> tuple[Case, Case]:
        echo, board = _find(cases, "echo", n), _find(cases, "board", n)
        assert echo is not None and board is not None
        return echo, board

    n = 1000 if 1000 in pairs else (pairs[-1] if pairs else None)
    rows = {r["server"]: r for r in (scale or {}).get("rows") or [] if not r.get("error")}
    big = ((scale or {}).get("settings") or {}).get("n", 10_000)
    # Arrivals: the 10 000-caller part (paced arrivals, TTYPE and NAWS answered) when it
    # ran, else the load case (64 connecting at once).
    arrivals: list[tuple[str, Any, Any, Any, Any]] = []
    if "echo" in rows and "board" in rows:
        e_row, b_row = rows["echo"], rows["board"]
        arrivals.append(
            (
                f"N={big}",
                e_row.get("arrival_cpu_ms_per_caller"),
                b_row.get("arrival_cpu_ms_per_caller"),
                (e_row.get("connect") or {}).get("per_second"),
                (b_row.get("connect") or {}).get("per_second"),
            )
        )
    if n is not None:
        echo, board = pair(n)
        arrivals.append(
            (
                f"N={n}",
                echo.get("cpu_ms_per_arrival"),
                board.get("cpu_ms_per_arrival"),
                (echo.get("connected") or {}).get("per_second"),
                (board.get("connected") or {}).get("per_second"),
            )
        )
    if not arrivals:
        for target in ("CPU per arrival", "connections/s"):
            out.append(Verdict(target, "not measured (needs echo and board)", "n/a"))
    for label, e, b, e_rate, b_rate in arrivals:
        out.append(
            Verdict(
                f"{label}: CPU per arrival <= {FLOOR_ARRIVAL_CPU:g}x bare server",
                f"board {_num(b, '.2f')} ms vs echo {_num(e, '.2f')} ms ({_ratio(b, e)})",
                _judge(b <= FLOOR_ARRIVAL_CPU * e if b and e else None),
            )
        )
        out.append(
            Verdict(
                f"{label}: connections/s >= {FLOOR_CONN_RATE:g}x bare server",
                f"board {_num(b_rate, '.0f')}/s vs echo {_num(e_rate, '.0f')}/s"
                f" ({_ratio(b_rate, e_rate)})",
                _judge(b_rate >= FLOOR_CONN_RATE * e_rate if b_rate and e_rate else None),
            )
        )
    if n is None:
        out.append(
            Verdict("CPU per directory search", "not measured (needs echo and board)", "n/a")
        )
    else:
        echo, board = pair(n)
        b, e = board.get("cpu_ms_per_search"), echo.get("cpu_ms_per_search")
        out.append(
            Verdict(
                f"N={n}: CPU per directory search <= {FLOOR_SEARCH_CPU_MS:g} ms",
                f"board {_num(b, '.2f')} ms (echo line {_num(e, '.2f')} ms)",
                _judge(b <= FLOOR_SEARCH_CPU_MS if b is not None else None),
            )
        )
    target = f"N=1000: memory per idle caller <= {FLOOR_RSS:g}x bare server"
    if 1000 in pairs:
        echo, board = pair(1000)
        e, b = echo.get("rss_per_caller_kib"), board.get("rss_per_caller_kib")
        figure = f"board {_num(b)} KiB vs echo {_num(e)} KiB ({_ratio(b, e)})"
        out.append(Verdict(target, figure, _judge(b <= FLOOR_RSS * e if b and e else None)))
    else:
        out.append(Verdict(target, "not run (N=1000 not in --sizes)", "n/a"))
    target = f"N={big}: memory per idle caller <= {FLOOR_RSS:g}x bare server"
    if "echo" in rows and "board" in rows:
        e, b = rows["echo"].get("rss_per_caller_kib"), rows["board"].get("rss_per_caller_kib")
        figure = f"board {_num(b)} KiB vs echo {_num(e)} KiB ({_ratio(b, e)})"
        out.append(Verdict(target, figure, _judge(b <= FLOOR_RSS * e if b and e else None)))
    else:
        out.append(Verdict(target, "not measured (--only scale)", "n/a"))
    one = next(
        (
            r
            for r in (cluster or {}).get("rows") or []
            if r.get("nodes") == 1 and not r.get("error")
        ),
        None,
    )
    target = (
        f"PostgreSQL guest sign-ins, one node: >= {FLOOR_PG_LOGINS:g}/s,"
        f" p99 < {FLOOR_PG_P99_MS:g} ms at 64 in flight"
    )
    if one is None:
        out.append(Verdict(target, "not measured (--only cluster)", "n/a"))
    else:
        rate = one["logins"]["per_second"]
        p99 = one["logins"]["login"].get("p99_ms")
        inflight = ((cluster or {}).get("settings") or {}).get("inflight", "?")
        out.append(
            Verdict(
                target,
                f"{rate:.0f}/s, p99 {_num(p99, '.0f')} ms ({inflight} in flight)",
                _judge(rate >= FLOOR_PG_LOGINS and p99 is not None and p99 < FLOOR_PG_P99_MS),
            )
        )
    record = transfers or {}
    size = f"{(record.get('settings') or {}).get('size', 0) / 1048576:g} MiB"
    for direction in ("download", "upload"):
        row = _row(record, "Z", direction)
        target = f"ZMODEM {direction} of {size}, Enter -> done: >= {FLOOR_XFER:g}x lrzsz relay"
        if row is None:
            out.append(Verdict(target, "not measured (--only transfers)", "n/a"))
            continue
        b, r = row["board"].get("total_mb_s"), row["reference"].get("total_mb_s")
        figure = f"board {_mbs(row['board'])} MB/s vs relay {_mbs(row['reference'])} MB/s"
        out.append(
            Verdict(
                target,
                f"{figure} ({_ratio(b, r)})",
                _judge(
                    b >= FLOOR_XFER * r
                    if b and r
                    else (False if row["board"].get("runs") else None)
                ),
            )
        )
    runs = record.get("batch") or []
    target = f"ten 4 KiB notes by ZMODEM, Enter -> done < {FLOOR_BATCH_S:g} s"
    if not runs:
        out.append(Verdict(target, "not measured (--only transfers)", "n/a"))
    else:
        times = sorted(r["total_s"] for r in runs if r.get("ok"))
        failed = len(runs) - len(times)
        if not times:
            out.append(Verdict(target, f"{failed} of {len(runs)} failed", "MISS"))
        else:
            median = times[len(times) // 2]
            note = f" ({failed} failed)" if failed else ""
            out.append(
                Verdict(
                    target,
                    f"median {median:.2f} s of {len(times)}{note}",
                    _judge(median < FLOOR_BATCH_S and not failed),
                )
            )
    target = f"N={FLOOR_BURST} burst: no event-loop stall over {FLOOR_STALL_MS:g} ms"
    board = _find(cases, "board", FLOOR_BURST)
    if not _usable(board):
        out.append(Verdict(target, f"not run (N={FLOOR_BURST} not in --sizes)", "n/a"))
    else:
        assert board is not None
        stalls = [
            (board.get(key) or {}).get("loop_lag_max_ms")
            for key in ("probe_arrival", "probe_rounds")
        ]
        known = [s for s in stalls if s is not None]
        figure = (
            f"arrival {_num(stalls[0])} ms, searches {_num(stalls[1])} ms" if known else "no probe"
        )
        out.append(Verdict(target, figure, _judge(max(known) <= FLOOR_STALL_MS if known else None)))
    return out


def render_floor(items: Sequence[Verdict]) -> str:
    """The issue-14 table: 'Closer to the floor'."""
    return "Closer to the floor (issue 14), beside the bare server in the same run\n\n" + (
        verdict_table(items)
    )
