"""Profiles of a server under the bench (``python -m bench --profile``): cProfile for where
the CPU goes by function, and a stack sampler for flame graphs of the same stretch.

The sampler is a thread that looks at the main thread's stack every millisecond and counts
each stack it sees (the loop waiting in ``select`` is idle, not counted). A dump writes the
stretch since the last restart as ``NAME-K.pstats`` (cProfile; ``python -m pstats`` reads
it), ``NAME-K.folded`` (one ``frame;frame;... count`` line per stack, the format of Brendan
Gregg's flamegraph tools) and ``NAME-K.svg`` (a flame graph drawn here, nothing fetched)."""

from __future__ import annotations

import cProfile
import html
import io
import pstats
import sys
import threading
import time
from pathlib import Path
from typing import Any

INTERVAL = 0.001
_IDLE = ("select", "poll", "epoll", "_run_once")


class Profiler:
    """cProfile and the stack sampler over one process's main thread."""

    def __init__(self, folder: Path, name: str, main_id: int) -> None:
        self.folder = folder
        self.name = name
        self.main_id = main_id
        self.dumps = 0
        self.profile: cProfile.Profile | None = None
        self.stacks: dict[str, int] = {}
        self.idle = 0
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        threading.Thread(target=self._sample, daemon=True, name="flame-sampler").start()

    def restart(self) -> None:
        """Forget what was profiled and start again (called in the main thread)."""
        if self.profile is not None:
            self.profile.disable()
        self.profile = cProfile.Profile()
        with self._lock:
            self.stacks = {}
            self.idle = 0
        self.profile.enable()

    def dump(self) -> dict[str, Any]:
        """Write the stretch since the last restart; what was written, for the report."""
        self.dumps += 1
        stem = self.folder / f"{self.name}-{self.dumps}"
        out: dict[str, Any] = {"stem": str(stem)}
        if self.profile is not None:
            self.profile.disable()
            self.profile.dump_stats(str(stem) + ".pstats")
            text = io.StringIO()
            stats = pstats.Stats(self.profile, stream=text)
            stats.sort_stats("tottime").print_stats(25)
            (stem.parent / (stem.name + ".top.txt")).write_text(text.getvalue(), encoding="utf-8")
            self.profile.enable()
        with self._lock:
            stacks, idle = dict(self.stacks), self.idle
        folded = "".join(f"{k} {v}\n" for k, v in sorted(stacks.items()))
        (stem.parent / (stem.name + ".folded")).write_text(folded, encoding="utf-8")
        (stem.parent / (stem.name + ".svg")).write_text(
            svg(stacks, f"{self.name} #{self.dumps}"), encoding="utf-8"
        )
        out["samples"] = sum(stacks.values())
        out["idle_samples"] = idle
        return out

    def _sample(self) -> None:
        while True:
            time.sleep(INTERVAL)
            frame = sys._current_frames().get(self.main_id)
            if frame is None:
                continue
            parts: list[str] = []
            top = frame.f_code.co_name
            while frame is not None:
                code = frame.f_code
                module = code.co_filename.rsplit("/", 2)
                parts.append(f"{'/'.join(module[-2:])}:{code.co_name}")
                frame = frame.f_back
            with self._lock:
                if top in _IDLE:
                    self.idle += 1
                    continue
                key = ";".join(reversed(parts))
                self.stacks[key] = self.stacks.get(key, 0) + 1


def svg(stacks: dict[str, int], title: str, width: int = 1200, row: int = 16) -> str:
    """A flame graph of folded stacks: callers at the bottom, width = samples."""
    tree: dict[str, Any] = {"n": 0, "kids": {}}
    for stack, count in stacks.items():
        node = tree
        node["n"] += count
        for frame in stack.split(";"):
            node = node["kids"].setdefault(frame, {"n": 0, "kids": {}})
            node["n"] += count
    total = max(tree["n"], 1)
    depth = _depth(tree)
    height = (depth + 2) * row
    rects: list[str] = []

    def draw(node: dict[str, Any], x: float, level: int) -> None:
        for name, kid in sorted(node["kids"].items()):
            w = kid["n"] / total * width
            if w >= 0.5:
                y = height - (level + 2) * row
                hue = 20 + (hash(name.split(":")[0]) % 40)
                label = html.escape(name)
                share = kid["n"] / total * 100
                rects.append(
                    f"<g><title>{label} ({kid['n']} samples, {share:.1f} %)</title>"
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" '
                    f'fill="hsl({hue},85%,60%)"/>'
                    + (
                        f'<text x="{x + 2:.1f}" y="{y + row - 4}">'
                        f"{html.escape(name[: int(w / 7)])}</text>"
                        if w > 30
                        else ""
                    )
                    + "</g>"
                )
                draw(kid, x, level + 1)
            x += w

    draw(tree, 0.0, 0)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace" font-size="11">'
        f'<text x="4" y="14">{html.escape(title)}: {total} samples</text>'
        + "".join(rects)
        + "</svg>\n"
    )


def _depth(node: dict[str, Any]) -> int:
    return 1 + max((_depth(k) for k in node["kids"].values()), default=0)
