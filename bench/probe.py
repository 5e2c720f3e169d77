"""Run a server with probes inside: garbage-collector pauses and event-loop lag.

``python -m bench.probe board serve --port P ...`` runs ``bbs.cli.main(["serve", ...])``
(what the ``bbs`` console script does); ``python -m bench.probe echo --port P`` runs the echo
server. Two probes are added, both cheap: a ``gc.callbacks`` hook timing every collection,
and a task that wakes every 10 ms and notes how late it is (the loop's stall).

Collections are timed both on the wall clock (what callers feel, descheduling included) and
in thread CPU time (the collector's own work). SIGUSR1 resets the figures; SIGUSR2 prints
them as one line on stderr::

    BENCHPROBE {"loop_lag_max_ms": ..., "gc": {"2": {"count": ..., "max_ms": ...}}, ...}

With ``BENCH_PROFILE=DIR`` in its environment (``python -m bench --profile``) the server also
runs under cProfile and a stack sampler (bench/flame.py); each SIGUSR2 then writes what was
profiled since the last SIGUSR1 as ``DIR/NAME-K.pstats``, ``.folded`` and ``.svg``, NAME
from ``BENCH_PROFILE_NAME`` and K counting the dumps.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

PERIOD = 0.01
MAX_LAG_SAMPLES = 200_000
"""Lag samples kept between resets for the percentiles (half an hour of 10 ms ticks)."""


def _pct(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = int(-(-len(ordered) * pct // 100))
    return ordered[max(1, min(len(ordered), rank)) - 1]


class Probe:
    """GC pause and loop-lag figures since the last reset."""

    def __init__(self) -> None:
        self.reset()
        self._gc_start = 0.0
        self._gc_cpu = 0.0

    def reset(self) -> None:
        self.since = time.monotonic()
        self.lag_max = 0.0
        self.lag_over = {10: 0, 50: 0, 250: 0}
        self.lags: list[float] = []
        self.stalls: dict[str, int] = {}
        """Where the main thread was, sampled every 50 ms while the loop was stalled."""
        # generation -> [count, wall total, wall max, CPU total, CPU max] (seconds)
        self.gc: dict[int, list[float]] = {g: [0, 0.0, 0.0, 0.0, 0.0] for g in (0, 1, 2)}

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            self._gc_cpu = time.thread_time()
            return
        took = time.perf_counter() - self._gc_start
        cpu = time.thread_time() - self._gc_cpu
        entry = self.gc.setdefault(int(info.get("generation", 2)), [0, 0.0, 0.0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += took
        entry[2] = max(entry[2], took)
        entry[3] += cpu
        entry[4] = max(entry[4], cpu)

    def on_lag(self, lag: float) -> None:
        self.lag_max = max(self.lag_max, lag)
        if len(self.lags) < MAX_LAG_SAMPLES:
            self.lags.append(lag)
        for ms in self.lag_over:
            if lag * 1000 > ms:
                self.lag_over[ms] += 1

    def report(self) -> dict[str, Any]:
        return {
            "seconds": time.monotonic() - self.since,
            "loop_lag_max_ms": self.lag_max * 1000,
            "loop_lag_samples": len(self.lags),
            "loop_lag_p50_ms": _pct(self.lags, 50) * 1000,
            "loop_lag_p99_ms": _pct(self.lags, 99) * 1000,
            "loop_lag_over_ms": {str(k): v for k, v in self.lag_over.items()},
            "gc": {
                str(gen): {
                    "count": int(c),
                    "total_ms": t * 1000,
                    "max_ms": m * 1000,
                    "cpu_total_ms": ct * 1000,
                    "cpu_max_ms": cm * 1000,
                }
                for gen, (c, t, m, ct, cm) in self.gc.items()
            },
            "stall_samples": sorted(self.stalls.items(), key=lambda kv: -kv[1])[:8],
            "gc_frozen": gc.get_freeze_count(),
            "gc_tracked": len(gc.get_objects()),
        }


PROBE = Probe()


STALL = 0.2
"""A loop that has not ticked for this long is stalled: the watchdog notes where it is."""
_last_tick = [time.perf_counter()]


async def _lag_task() -> None:
    while True:
        before = time.perf_counter()
        _last_tick[0] = before
        await asyncio.sleep(PERIOD)
        PROBE.on_lag(max(0.0, time.perf_counter() - before - PERIOD))
        _last_tick[0] = time.perf_counter()


def _where(frame: Any) -> str:
    """The innermost frames of a stack, outermost first, as ``file:line func`` parts."""
    parts: list[str] = []
    while frame is not None and len(parts) < 6:
        code = frame.f_code
        name = code.co_filename.rsplit("/", 2)
        parts.append(f"{'/'.join(name[-2:])}:{frame.f_lineno} {code.co_name}")
        frame = frame.f_back
    return " < ".join(parts)


def _watchdog(main_id: int) -> None:
    """A thread sampling the main thread's stack while its loop is stalled (every 50 ms)."""
    while True:
        time.sleep(0.05)
        if time.perf_counter() - _last_tick[0] < STALL:
            continue
        frame = sys._current_frames().get(main_id)
        if frame is not None:
            key = _where(frame)
            PROBE.stalls[key] = PROBE.stalls.get(key, 0) + 1


def _wrap_asyncio_run() -> None:
    """Make the server's ``asyncio.run`` start the lag task beside its main coroutine."""
    original: Callable[..., Any] = asyncio.run

    def run(main: Coroutine[Any, Any, Any], **kwargs: Any) -> Any:
        async def with_probe() -> Any:
            task = asyncio.get_running_loop().create_task(_lag_task())
            try:
                return await main
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        return original(with_probe(), **kwargs)

    asyncio.run = run


PROFILER: Any = None
"""The bench.flame.Profiler when BENCH_PROFILE is set."""


_MEMORY: list[Any] = []
"""With BENCH_TRACEMALLOC=FILE: the snapshot taken at the last reset."""


def _memory_dump() -> None:
    import tracemalloc

    if not _MEMORY or not tracemalloc.is_tracing():
        return
    now = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    lines = [str(stat) for stat in now.compare_to(_MEMORY[0], "lineno")[:40]]
    with open(os.environ["BENCH_TRACEMALLOC"], "a", encoding="utf-8") as out:
        out.write("\n".join(["--- dump", *lines, ""]))


def _dump(signum: int, frame: object) -> None:
    _memory_dump()
    report = PROBE.report()
    if PROFILER is not None:
        report["profile"] = PROFILER.dump()
    sys.stderr.write("BENCHPROBE " + json.dumps(report) + "\n")
    sys.stderr.flush()


def _reset(signum: int, frame: object) -> None:
    PROBE.reset()
    if os.environ.get("BENCH_TRACEMALLOC"):
        import tracemalloc

        if not tracemalloc.is_tracing():
            tracemalloc.start(1)
        _MEMORY[:] = [tracemalloc.take_snapshot()]
    if PROFILER is not None:
        PROFILER.restart()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("board", "echo"):
        print("usage: python -m bench.probe board|echo ARGS...", file=sys.stderr)
        return 2
    gc.callbacks.append(PROBE.on_gc)
    signal.signal(signal.SIGUSR1, _reset)
    signal.signal(signal.SIGUSR2, _dump)
    _wrap_asyncio_run()
    import threading

    main_id = threading.get_ident()
    threading.Thread(target=_watchdog, args=(main_id,), daemon=True, name="stall-watchdog").start()
    folder = os.environ.get("BENCH_PROFILE")
    if folder:
        from bench.flame import Profiler

        global PROFILER
        PROFILER = Profiler(Path(folder), os.environ.get("BENCH_PROFILE_NAME", args[0]), main_id)
        PROFILER.restart()
    if args[0] == "board":
        from bbs.cli import main as bbs_main

        return bbs_main(args[1:])
    from bench.echo_server import main as echo_main

    return echo_main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
