"""The callers' process: one asyncio loop driving every simulated caller of one run.

Started by the harness as ``python -m bench.callers SPEC_JSON``. It talks to the harness
with one JSON object per line on stdout and takes one command per line on stdin, so the
harness can read the server's memory between phases:

1. warm up with a single caller doing the whole script, then print ``{"phase": "warm"}``;
2. on ``connect``: bring every caller to its first prompt (at most ``connect_concurrency``
   connecting at once), then, on the board, press Enter to reach the main menu; print
   ``{"phase": "connected", ...}`` with everybody idle at a prompt;
3. on ``go``: every caller runs its rounds (staggered, random think time), then
   ``{"phase": "done", ...}`` with the latency figures; everybody hangs up.

Every wait has a timeout: a caller that gets stuck is counted as a failure with the phase
and the reason, never waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypedDict

from bench.client import Disconnected, TelnetClient, WaitTimeout, connect
from bench.echo_server import PROMPT, raise_nofile


class Markers(TypedDict):
    """Byte strings (latin-1 text) that end a board screen; empty lists mean "wait for quiet"."""

    press_enter: list[str]
    menu: list[str]
    directory: list[str]
    more: list[str]


class Spec(TypedDict):
    """What one callers process does (the harness builds it)."""

    target: str  # "echo" or "board"
    host: str
    port: int
    n: int
    rounds: int
    think: float
    connect_concurrency: int
    timeout: float
    quiet: float
    seed: int
    word: str
    go: str
    markers: Markers


@dataclass
class Caller:
    """One simulated caller and what happened to it."""

    number: int
    client: TelnetClient | None = None
    first_prompt: float | None = None
    """Seconds from the TCP connect to the first prompt."""
    arrived: float | None = None
    """perf_counter() when the first prompt was seen."""
    latencies: list[float] = field(default_factory=list)
    """Seconds from the Enter keystroke to the completed screen, one per round."""
    nav: list[float] = field(default_factory=list)
    """Seconds from sending ``GO ...`` to the directory prompt."""
    paged: int = 0
    failure: tuple[str, str] | None = None
    """(phase, reason) when the caller failed."""


class LagMonitor:
    """How late this process's own event loop runs: a caller's latency includes this."""

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.samples.clear()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.period)
            self.samples.append(max(0.0, time.perf_counter() - before - self.period))

    async def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return {
            "p99_ms": percentile(self.samples, 99) * 1000,
            "max_ms": max(self.samples, default=0.0) * 1000,
        }


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(min(rank, len(ordered))) - 1]


def summary(values: list[float]) -> dict[str, float]:
    """Count, p50, p99 and max in milliseconds."""
    return {
        "count": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
        "max_ms": max(values, default=0.0) * 1000,
    }


def emit(message: dict[str, Any]) -> None:
    """One line to the harness."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def command() -> str:
    """The next command from the harness ("" when it went away)."""
    line: str = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.strip()


def _bytes(texts: list[str]) -> list[bytes]:
    return [t.encode("latin-1") for t in texts if t]


class Script:
    """What a caller does against one kind of server."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.timeout = spec["timeout"]
        self.word = spec["word"].encode("ascii")
        markers = spec["markers"]
        self.press_enter = _bytes(markers["press_enter"])
        self.menu = _bytes(markers["menu"])
        self.directory = _bytes(markers["directory"])
        self.more = _bytes(markers["more"])

    async def timed_screen(
        self, client: TelnetClient, markers: list[bytes], sent: float
    ) -> tuple[float, int]:
        """(Seconds from `sent` to the completed screen, which marker ended it)."""
        if markers:
            match = await client.wait_for(markers, self.timeout)
            return match.at - sent, match.index
        last = await client.wait_quiet(self.spec["quiet"], self.timeout, since=sent)
        return last - sent, -1

    async def through_pages(self, client: TelnetClient, markers: list[bytes], sent: float) -> None:
        """Wait for a screen ending in one of `markers`, paging on (space) past "Suite"."""
        if not markers:
            await client.wait_quiet(self.spec["quiet"], self.timeout, since=sent)
            return
        pages = 0
        while (await client.wait_for(markers + self.more, self.timeout)).index >= len(markers):
            pages += 1
            if pages > 50:
                raise WaitTimeout(f"still paging after {pages} pages")
            client.send(b" ")

    async def first_prompt(self, client: TelnetClient) -> None:
        """From connection to the first prompt."""
        if self.spec["target"] == "echo":
            await client.wait_for([PROMPT], self.timeout)
            return
        if self.press_enter or self.menu:
            await client.wait_for(self.press_enter + self.menu, self.timeout)
            return
        await client.wait_quiet(self.spec["quiet"], self.timeout, since=0.0)

    async def settle(self, client: TelnetClient, caller: Caller) -> None:
        """From the first prompt to being idle at a menu (the board's welcome pause)."""
        if self.spec["target"] == "echo":
            return
        if self.press_enter or not self.menu:
            # Either we saw "press Enter", or we cannot tell: Enter at a menu only redraws it.
            client.discard()
            sent = client.send(b"\r\nINVITE\r\n")  # the welcome, then sign-in as a guest
            await self.through_pages(client, self.menu, sent)

    async def enter_area(self, client: TelnetClient, caller: Caller) -> None:
        """Board: ``GO ANNUAIRE`` from the menu to the directory prompt."""
        if self.spec["target"] == "echo":
            return
        client.discard()
        sent = client.send(self.spec["go"].encode("ascii") + b"\r\n")
        elapsed, _ = await self.timed_screen(client, self.directory, sent)
        caller.nav.append(elapsed)

    async def one_round(self, client: TelnetClient, caller: Caller) -> None:
        """Type the word, press Enter, time the completed screen."""
        client.discard()
        if self.spec["target"] == "echo":
            sent = client.send(self.word + b"\r\n")
            match = await client.wait_for([PROMPT], self.timeout)
            caller.latencies.append(match.at - sent)
            return
        client.send(self.word)
        await client.wait_for([self.word], self.timeout)  # the board echoes what is typed
        client.discard()
        sent = client.send(b"\r\n")
        elapsed, which = await self.timed_screen(client, self.directory + self.more, sent)
        caller.latencies.append(elapsed)
        if self.directory and which >= len(self.directory):
            caller.paged += 1
            client.discard()
            client.send(b"q")  # leave the pager; back at the directory prompt
            await client.wait_for(self.directory, self.timeout)


async def arrive(script: Script, caller: Caller, gate: asyncio.Semaphore) -> None:
    """Connect one caller and bring it to an idle prompt."""
    spec = script.spec
    phase = "connect"
    try:
        async with gate:
            start = time.perf_counter()
            client = await connect(spec["host"], spec["port"], script.timeout)
            caller.client = client
            phase = "first prompt"
            await script.first_prompt(client)
            caller.arrived = time.perf_counter()
            caller.first_prompt = caller.arrived - start
        phase = "menu"
        await script.settle(client, caller)
    except (WaitTimeout, Disconnected, OSError) as exc:
        caller.failure = (phase, f"{type(exc).__name__}: {exc}")


async def work(script: Script, caller: Caller, rng: random.Random) -> None:
    """One caller's rounds, with think time between them."""
    spec = script.spec
    client = caller.client
    if client is None or caller.failure is not None:
        return
    phase = "area"
    try:
        await asyncio.sleep(rng.uniform(0, spec["think"]))
        await script.enter_area(client, caller)
        for number in range(spec["rounds"]):
            if number:
                await asyncio.sleep(spec["think"] * rng.uniform(0.5, 1.5))
            phase = f"round {number + 1}"
            await script.one_round(client, caller)
    except (WaitTimeout, Disconnected, OSError) as exc:
        caller.failure = (phase, f"{type(exc).__name__}: {exc}")


ARRIVAL = ("connect", "first prompt", "menu")
"""Phases of arrival; the others are the rounds'."""


def failures(callers: list[Caller], rounds_only: bool = False) -> dict[str, Any]:
    """Failed callers by phase, with a few reasons (only those of the rounds if `rounds_only`)."""
    failed = [
        c.failure
        for c in callers
        if c.failure is not None and not (rounds_only and c.failure[0] in ARRIVAL)
    ]
    by_phase = Counter(phase for phase, _ in failed)
    reasons = Counter(f"{phase}: {reason[:300]}" for phase, reason in failed)
    return {
        "count": len(failed),
        "by_phase": dict(by_phase),
        "reasons": [f"{count}x {text}" for text, count in reasons.most_common(5)],
    }


async def warm_up(script: Script) -> dict[str, Any]:
    """One caller through the whole script, so one-time costs are paid before measuring."""
    caller = Caller(0)
    await arrive(script, caller, asyncio.Semaphore(1))
    if caller.failure is None:
        spec = dict(script.spec)
        spec["think"] = 0.0
        spec["rounds"] = 1
        await work(Script(spec), caller, random.Random(0))  # type: ignore[arg-type]
    if caller.client is not None:
        caller.client.close()
    return {
        "ok": caller.failure is None,
        "failure": " / ".join(caller.failure) if caller.failure else "",
        "latency_ms": caller.latencies[0] * 1000 if caller.latencies else None,
    }


async def run(spec: Spec) -> int:
    """The three phases, driven by the harness's commands."""
    script = Script(spec)
    emit({"phase": "warm", **(await warm_up(script))})
    if await command() != "connect":
        return 1
    # Keep the collector from pausing this loop while it times screens: the little cyclic
    # garbage a run makes can wait until the process ends.
    gc.collect()
    gc.freeze()
    gc.disable()
    callers = [Caller(i + 1) for i in range(spec["n"])]
    gate = asyncio.Semaphore(max(1, spec["connect_concurrency"]))
    lag = LagMonitor()
    lag.start()
    start = time.perf_counter()
    await asyncio.gather(*(arrive(script, c, gate) for c in callers))
    arrivals = [c.arrived for c in callers if c.arrived is not None]
    span = (max(arrivals) - start) if arrivals else 0.0
    emit(
        {
            "phase": "connected",
            "arrived": len(arrivals),
            "idle": sum(1 for c in callers if c.failure is None),
            "span_s": span,
            "per_second": len(arrivals) / span if span > 0 else 0.0,
            "first_prompt": summary(
                [c.first_prompt for c in callers if c.first_prompt is not None]
            ),
            "failures": failures(callers),
            "client_lag": await lag.stop(),
        }
    )
    try:
        if await command() != "go":
            return 1
        lag.start()
        start = time.perf_counter()
        await asyncio.gather(
            *(work(script, c, random.Random(spec["seed"] * 100_003 + c.number)) for c in callers)
        )
        elapsed = time.perf_counter() - start
        latencies = [x for c in callers for x in c.latencies]
        emit(
            {
                "phase": "done",
                "elapsed_s": elapsed,
                "latency": summary(latencies),
                "nav": summary([x for c in callers for x in c.nav]),
                "paged": sum(c.paged for c in callers),
                "completed": sum(1 for c in callers if c.failure is None),
                "failures": failures(callers),
                "round_failures": failures(callers, rounds_only=True),
                "client_lag": await lag.stop(),
            }
        )
    finally:
        for caller in callers:
            if caller.client is not None:
                caller.client.close()
        await asyncio.sleep(0.2)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.callers SPEC_JSON``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.callers SPEC_JSON", file=sys.stderr)
        return 2
    spec: Spec = json.loads(args[0])
    raise_nofile()
    try:
        return asyncio.run(run(spec))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
