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
) -> None:
    """The record of this run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
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
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
