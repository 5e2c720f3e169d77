"""`bbs user ...`: add, list, lock and unlock accounts."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add this command's parsers to `sub`; each sets `run(config, args) -> int` (async)."""
