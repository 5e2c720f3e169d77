"""One driver process of the 10 000-caller run: ``python -m bench.swarm SPEC_JSON``.

bench/scale.py starts several of these (one Python process cannot drive 10 000 sockets
fast enough), each with its share of the callers. Like bench/callers.py it talks one JSON
object per line on stdout and takes one command per line on stdin:

1. (the first driver only) one caller does a whole cycle, so one-time costs are paid
   before anything is measured; then ``{"phase": "ready"}``;
2. on ``connect``: callers arrive at `rate` per second (at most `inflight` still on their
   way at once): connect, first prompt, on the board Enter past the welcome and ``INVITE``
   at the sign-in prompt, to the main menu; ``{"phase": "connected", ...}`` once everybody
   is idle at a menu (or failed);
3. on ``go``: the first `active` callers type, a key every `gap_min`..`gap_max` seconds,
   each key timed to its echo: ``GO ANNUAIRE`` Enter (timed to the directory prompt), the
   search word Enter (timed to the results' prompt; the pager is left with ``q``), Enter
   alone (timed to the main menu's prompt), and over again; the others stay idle;
4. on ``stop``: the typists finish the key they wait for; ``{"phase": "done", ...}`` with
   every sample, and how many idle callers are still connected.

Every wait has a timeout; a caller that fails stops and is counted, with its phase and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench.callers import LagMonitor, command, emit
from bench.client import Disconnected, TelnetClient, WaitTimeout, connect
from bench.echo_server import PROMPT, raise_nofile


@dataclass
class Member:
    """One caller of the swarm and what it measured."""

    number: int
    client: TelnetClient | None = None
    started: float | None = None
    """perf_counter() of its TCP connect."""
    at_menu: float | None = None
    """perf_counter() when it was idle at the main menu."""
    keys: list[float] = field(default_factory=list)
    """Seconds from a keystroke to its echo."""
    screens: list[tuple[str, float]] = field(default_factory=list)
    """(which Enter, seconds from Enter to the completed screen)."""
    failure: tuple[str, str] | None = None


def _b(texts: list[str]) -> list[bytes]:
    return [t.encode("latin-1") for t in texts if t]


class Plan:
    """What a caller does against one kind of server (from the spec)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.board = spec["target"] == "board"
        self.timeout: float = spec["timeout"]
        markers = spec["markers"]
        self.press_enter = _b(markers["press_enter"])
        self.menu = _b(markers["menu"]) if self.board else [PROMPT]
        self.directory = _b(markers["directory"]) if self.board else [PROMPT]
        self.more = _b(markers["more"]) if self.board else []
        self.go = spec["go"].encode("ascii")
        self.word = spec["word"].encode("ascii")

    async def arrive(self, member: Member) -> None:
        """Connect and wait at the main menu (the echo server: at its prompt)."""
        phase = "connect"
        try:
            member.started = time.perf_counter()
            client = await connect(self.spec["host"], self.spec["port"], self.timeout)
            member.client = client
            phase = "welcome"
            if not self.board:
                await client.wait_for([PROMPT], self.timeout)
            else:
                await client.wait_for(self.press_enter + self.menu, self.timeout)
                client.discard()
                client.send(b"\r\nINVITE\r\n")  # past the welcome, then sign in as a guest
                phase = "menu"
                await self.through_pages(client, self.menu)
            member.at_menu = time.perf_counter()
        except (WaitTimeout, Disconnected, OSError) as exc:
            member.failure = (phase, f"{type(exc).__name__}: {exc}")

    async def through_pages(self, client: TelnetClient, markers: list[bytes]) -> int:
        """Wait for a screen ending in one of `markers`, paging past "Suite" (space)."""
        for _ in range(50):
            match = await client.wait_for(markers + self.more, self.timeout)
            if match.index < len(markers):
                return match.index
            client.send(b" ")
        raise WaitTimeout("still paging after 50 pages")

    async def pause(self, rng: random.Random, stop: asyncio.Event) -> None:
        """A typist's pause between two keys (cut short by `stop`)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                stop.wait(), rng.uniform(self.spec["gap_min"], self.spec["gap_max"])
            )

    async def type_text(
        self, member: Member, text: bytes, rng: random.Random, stop: asyncio.Event
    ) -> bool:
        """Type `text` a key at a time, each timed to its echo; False once `stop` is set."""
        client = member.client
        assert client is not None
        for i in range(len(text)):
            await self.pause(rng, stop)
            if stop.is_set():
                return False
            key = text[i : i + 1]
            client.discard()
            sent = client.send(key)
            match = await client.wait_for([key], self.timeout)
            member.keys.append(match.at - sent)
        await self.pause(rng, stop)
        return not stop.is_set()

    async def enter(self, member: Member, kind: str, markers: list[bytes]) -> None:
        """Enter, timed to the screen that ends in one of `markers` (the pager left with q)."""
        client = member.client
        assert client is not None
        client.discard()
        sent = client.send(b"\r\n")
        match = await client.wait_for(markers + self.more, self.timeout)
        member.screens.append((kind, match.at - sent))
        if match.index >= len(markers):
            client.discard()
            client.send(b"q")
            await client.wait_for(markers, self.timeout)

    async def cycle(self, member: Member, rng: random.Random, stop: asyncio.Event) -> bool:
        """GO ANNUAIRE, one search, back to the menu; False when stopped part way."""
        if not await self.type_text(member, self.go, rng, stop):
            return False
        await self.enter(member, "go", self.directory)
        if not await self.type_text(member, self.word, rng, stop):
            return False
        await self.enter(member, "search", self.directory)
        await self.pause(rng, stop)
        if stop.is_set():
            return False
        await self.enter(member, "back", self.menu)
        return True

    async def work(self, member: Member, rng: random.Random, stop: asyncio.Event) -> None:
        """Cycles until `stop`."""
        if member.client is None or member.failure is not None:
            return
        try:
            while not stop.is_set():
                if not await self.cycle(member, rng, stop):
                    break
        except (WaitTimeout, Disconnected, OSError) as exc:
            member.failure = ("typing", f"{type(exc).__name__}: {exc}")


async def ramp(plan: Plan, members: list[Member]) -> None:
    """Every member arrives, at `rate` per second, at most `inflight` on the way at once."""
    rate = max(0.1, float(plan.spec["rate"]))
    gate = asyncio.Semaphore(max(1, int(plan.spec["inflight"])))
    start = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []

    async def one(member: Member) -> None:
        try:
            await plan.arrive(member)
        finally:
            gate.release()

    for i, member in enumerate(members):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await gate.acquire()
        tasks.append(asyncio.create_task(one(member)))
    await asyncio.gather(*tasks)


def _failures(members: list[Member]) -> dict[str, Any]:
    failed = [m.failure for m in members if m.failure is not None]
    phases: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for phase, reason in failed:
        phases[phase] = phases.get(phase, 0) + 1
        key = f"{phase}: {reason[:240]}"
        reasons[key] = reasons.get(key, 0) + 1
    top = sorted(reasons.items(), key=lambda kv: -kv[1])[:5]
    return {
        "count": len(failed),
        "by_phase": phases,
        "reasons": [f"{n}x {text}" for text, n in top],
    }


async def warm_up(plan: Plan) -> dict[str, Any]:
    """One caller through a whole cycle with no pauses."""
    spec = dict(plan.spec)
    spec["gap_min"] = spec["gap_max"] = 0.0
    quick = Plan(spec)
    member = Member(0)
    await quick.arrive(member)
    if member.failure is None:
        try:
            await quick.cycle(member, random.Random(0), asyncio.Event())
        except (WaitTimeout, Disconnected, OSError) as exc:
            member.failure = ("warm-up", f"{type(exc).__name__}: {exc}")
    if member.client is not None:
        member.client.close()
    return {"ok": member.failure is None, "failure": " / ".join(member.failure or ())}


async def run(spec: dict[str, Any]) -> int:
    """The phases, driven by the harness's commands."""
    plan = Plan(spec)
    warm = await warm_up(plan) if spec.get("warm") else {"ok": True, "failure": ""}
    emit({"phase": "ready", "warm": warm})
    if await command() != "connect":
        return 1
    gc.collect()
    gc.freeze()
    gc.disable()  # the little cyclic garbage of a run can wait until the process ends
    first = int(spec["first"])
    members = [Member(first + i) for i in range(int(spec["n"]))]
    lag = LagMonitor()
    lag.start()
    try:
        await ramp(plan, members)
        starts = [m.started for m in members if m.started is not None]
        arrived = [m for m in members if m.at_menu is not None and m.started is not None]
        emit(
            {
                "phase": "connected",
                "n": len(members),
                "idle": sum(1 for m in members if m.failure is None and m.at_menu is not None),
                "first_connect": min(starts, default=0.0),
                "last_arrival": max((m.at_menu or 0.0 for m in arrived), default=0.0),
                "arrival_s": [round((m.at_menu or 0.0) - (m.started or 0.0), 5) for m in arrived],
                "failures": _failures(members),
                "client_lag": await lag.stop(),
            }
        )
        if await command() != "go":
            return 1
        lag.start()
        stop = asyncio.Event()
        active = [m for m in members[: int(spec["active"])] if m.failure is None]
        tasks = [
            asyncio.create_task(
                plan.work(m, random.Random(spec["seed"] * 104_729 + m.number), stop)
            )
            for m in active
        ]
        await command()  # "stop", or "" when the harness went away
        stop.set()
        await asyncio.gather(*tasks)
        idle = [m for m in members[int(spec["active"]) :] if m.client is not None]
        emit(
            {
                "phase": "done",
                "active": len(active),
                "keys": [round(x, 6) for m in members for x in m.keys],
                "screens": [[k, round(x, 6)] for m in members for k, x in m.screens],
                "idle_still_connected": sum(1 for m in idle if not m.client.closed.done()),  # type: ignore[union-attr]
                "idle_total": len(idle),
                "failures": _failures(members),
                "client_lag": await lag.stop(),
            }
        )
        await command()  # hang up only when told (the harness reads our CPU time first)
    finally:
        for member in members:
            if member.client is not None:
                member.client.close()
        await asyncio.sleep(0.2)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.swarm SPEC_JSON``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.swarm SPEC_JSON", file=sys.stderr)
        return 2
    raise_nofile()
    try:
        return asyncio.run(run(json.loads(args[0])))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
