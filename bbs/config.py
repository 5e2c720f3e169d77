"""The board's one typed configuration: a TOML file, then BBS_* variables, then flags."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from bbs.errors import UsageError
from bbs.terminal.caps import SPEEDS


@dataclass(frozen=True, slots=True)
class Config:
    """Everything a board node needs to run; immutable once built."""

    host: str = "127.0.0.1"
    port: int = 2323
    db: str = "sqlite:///var/bbs.db"
    data_dir: str = "data"
    menus_dir: str = "menus"
    baud: int = 0
    """Default emulated modem speed for new callers; 0 = no limit."""
    idle_timeout: float = 900.0
    """Seconds without a keystroke before a caller is disconnected (warned a minute before)."""
    connect_maxwait: float = 2.0
    """Seconds to wait for telnet negotiation before the shell starts."""
    probe_timeout: float = 0.8
    """Seconds to wait for a cursor-position report during terminal detection."""
    shutdown_grace: float = 2.0
    """Seconds between the shutdown notice and closing every connection."""
    language: str = "fr"
    max_line: int = 256
    """Longest input line a caller may type."""
    log_level: str = "INFO"
    upload_dir: str = "var/uploads"
    """Where files callers send are kept (under generated names)."""
    upload_max_bytes: int = 16 * 1024 * 1024
    upload_min_free_bytes: int = 64 * 1024 * 1024
    """Uploads stop when the disk would have less free space than this."""


_INTS = {"port", "baud", "max_line", "upload_max_bytes", "upload_min_free_bytes"}
_FLOATS = {"idle_timeout", "connect_maxwait", "probe_timeout", "shutdown_grace"}


def _coerce(name: str, value: Any, origin: str) -> Any:
    """A value converted to the field's type, or a one-line error naming where it came from."""
    try:
        if name in _INTS:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if name in _FLOATS:
            return float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{origin}: {name} must be a number, got {value!r}") from None
    if not isinstance(value, str):
        raise UsageError(f"{origin}: {name} must be a string, got {value!r}")
    return value


def _check(config: Config) -> Config:
    """The configuration, or a one-line error when a value is out of range."""
    if not 0 <= config.port <= 65535:
        raise UsageError(f"port must be between 0 and 65535, got {config.port}")
    if config.baud and config.baud not in SPEEDS:
        raise UsageError(
            f"baud must be 0 (no limit) or one of {', '.join(map(str, SPEEDS))}, got {config.baud}"
        )
    if config.language not in ("fr", "en", "de"):
        raise UsageError(f"language must be fr, en or de, got {config.language!r}")
    if config.idle_timeout < 61:
        raise UsageError(
            "idle_timeout must be at least 61 seconds (a warning comes a minute before)"
        )
    if config.max_line < 16:
        raise UsageError("max_line must be at least 16")
    return config


def load_config(
    file: str | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Build the configuration: defaults < TOML file < BBS_* variables < command-line flags."""
    names = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    if file:
        path = Path(file)
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"{file}: cannot read configuration: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{file}: {exc}") from None
        section = table.get("bbs", table)
        for key, value in section.items():
            if key not in names:
                raise UsageError(f"{file}: unknown setting {key!r}")
            values[key] = _coerce(key, value, file)
    env = os.environ if environ is None else environ
    for key in names:
        var = f"BBS_{key.upper()}"
        if var in env:
            values[key] = _coerce(key, env[var], var)
    for key, value in (flags or {}).items():
        if value is not None:
            values[key] = _coerce(key, value, f"--{key.replace('_', '-')}")
    return _check(replace(Config(), **values))
