"""Callers typing at the board's main menu, each key timed to its echo: ``python -m bench.typists``.

Started by bench/transfers.py as ``python -m bench.typists SPEC_JSON`` while the board is
busy sending files. Like bench/callers.py it talks one JSON object per line on stdout and
takes commands on stdin:

1. every caller connects (terminal "dumb", 80x24), presses Enter past the welcome (and space
   past "Suite" prompts) and waits at the main menu; then ``{"phase": "connected", ...}``;
2. on ``go`` each caller types `word` one key at a time (a random pause of 0.5..1.5 x `gap`
   between keys), timing each key to its echo, then Enter to the menu's prompt again (the
   board says it does not know the word), and starts over;
3. on ``stop`` they finish the word they are typing, and ``{"phase": "done", "samples": ...}``
   comes with every sample as ``[kind, sent, seconds]``: kind ``key`` or ``enter``, `sent` the
   ``time.perf_counter()`` of the keystroke (CLOCK_MONOTONIC on Linux, so the harness can
   compare it with its own clock).

Every wait has a timeout; a caller that fails stops and is counted with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.callers import LagMonitor, command, emit
from bench.client import Disconnected, TelnetClient, WaitTimeout, connect
from bench.echo_server import raise_nofile


@dataclass
class Typist:
    """One caller and what it measured."""

    number: int
    client: TelnetClient | None = None
    samples: list[tuple[str, float, float]] = field(default_factory=list)
    failure: tuple[str, str] | None = None


def failures(typists: list[Typist]) -> dict[str, Any]:
    """How many failed, by phase, with a few reasons."""
    failed = [t.failure for t in typists if t.failure is not None]
    by_phase = Counter(phase for phase, _ in failed)
    reasons = Counter(f"{phase}: {reason[:300]}" for phase, reason in failed)
    return {
        "count": len(failed),
        "by_phase": dict(by_phase),
        "reasons": [f"{count}x {text}" for text, count in reasons.most_common(5)],
    }


async def arrive(spec: dict[str, Any], typist: Typist) -> None:
    """Connect and wait at the main menu."""
    timeout = spec["timeout"]
    press = [m.encode("latin-1") for m in spec["press_enter"]]
    menu = [m.encode("latin-1") for m in spec["menu"]]
    more = [m.encode("latin-1") for m in spec["more"]]
    phase = "connect"
    try:
        client = await connect(spec["host"], spec["port"], timeout)
        typist.client = client
        phase = "welcome"
        await client.wait_for(press + menu, timeout)
        client.discard()
        client.send(b"\rINVITE\r")  # past the welcome, then the sign-in prompt as a guest
        phase = "menu"
        for _ in range(20):  # paging on past "Suite" prompts
            if (await client.wait_for(menu + more, timeout)).index < len(menu):
                break
            client.send(b" ")
        else:
            raise WaitTimeout("still paging after 20 pages")
    except (WaitTimeout, Disconnected, OSError) as exc:
        typist.failure = (phase, f"{type(exc).__name__}: {exc}")


async def type_on(
    spec: dict[str, Any], typist: Typist, stop: asyncio.Event, rng: random.Random
) -> None:
    """Type the word and Enter, again and again, until `stop`."""
    client = typist.client
    if client is None or typist.failure is not None:
        return
    timeout = spec["timeout"]
    gap = spec["gap"]
    menu = [m.encode("latin-1") for m in spec["menu"]]
    word = spec["word"].encode("ascii")
    phase = "typing"
    try:
        await asyncio.sleep(rng.uniform(0, gap * 2))
        keys = [word[i : i + 1] for i in range(len(word))]
        while not stop.is_set():
            for key in keys:
                client.discard()
                sent = client.send(key)
                match = await client.wait_for([key], timeout)
                typist.samples.append(("key", sent, match.at - sent))
                await asyncio.sleep(gap * rng.uniform(0.5, 1.5))
            client.discard()
            sent = client.send(b"\r")
            match = await client.wait_for(menu, timeout)
            typist.samples.append(("enter", sent, match.at - sent))
            await asyncio.sleep(gap * rng.uniform(0.5, 1.5))
    except (WaitTimeout, Disconnected, OSError) as exc:
        typist.failure = (phase, f"{type(exc).__name__}: {exc}")


async def run(spec: dict[str, Any]) -> int:
    typists = [Typist(i + 1) for i in range(spec["n"])]
    gate = asyncio.Semaphore(32)

    async def gated(t: Typist) -> None:
        async with gate:
            await arrive(spec, t)

    await asyncio.gather(*(gated(t) for t in typists))
    emit(
        {
            "phase": "connected",
            "idle": sum(1 for t in typists if t.failure is None),
            "failures": failures(typists),
        }
    )
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        if await command() != "go":
            return 1
        stop = asyncio.Event()
        lag = LagMonitor()
        lag.start()
        tasks = [
            asyncio.create_task(
                type_on(spec, t, stop, random.Random(spec["seed"] * 7919 + t.number))
            )
            for t in typists
        ]
        await command()  # "stop", or "" when the harness went away
        stop.set()
        await asyncio.gather(*tasks)
        emit(
            {
                "phase": "done",
                "samples": [list(s) for t in typists for s in t.samples],
                "failures": failures(typists),
                "client_lag": await lag.stop(),
            }
        )
    finally:
        for t in typists:
            if t.client is not None:
                t.client.close()
        await asyncio.sleep(0.1)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.typists SPEC_JSON``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.typists SPEC_JSON", file=sys.stderr)
        return 2
    raise_nofile()
    try:
        return asyncio.run(run(json.loads(args[0])))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
