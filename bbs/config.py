"""The board's one typed configuration: a TOML file, then BBS_* variables, then flags."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
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
    upload_quota_bytes: int = 64 * 1024 * 1024
    """Bytes one caller may send per day (a guest: per address), all transfers together."""
    upload_quota_files: int = 50
    """Files one caller may send per day (a guest: per address)."""
    proxy_protocol: bool = False
    """Expect a PROXY protocol (v1 or v2) header from every connection; only trusted peers."""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    """Networks allowed to send a PROXY header (env: comma-separated)."""
    proxy_timeout: float = 5.0
    """Seconds a proxy has to send its PROXY header after connecting."""
    max_sessions: int = 200
    """Connections one node accepts at once; more are told so and closed."""
    max_per_address: int = 10
    """Connections accepted at once from one source address."""
    login_grace: float = 300.0
    """Seconds from connection to the end of sign-in, whatever the caller sends meanwhile.
    Registration happens before sign-in ends: a new caller typing name, password twice,
    company, country and a licence at 1995 speed needs several minutes."""
    max_subnegotiation: int = 4096
    """Longest telnet sub-negotiation accepted; a longer one closes the connection."""
    max_option_changes: int = 32
    """Changes of one telnet option a client may cause in a burst (refilled 2 a second)."""
    input_bytes_per_second: int = 4 * 1024 * 1024
    """Inbound bytes one connection may send per second; beyond, reading pauses."""
    input_commands_per_second: int = 1000
    """Inbound telnet commands (IAC ...) one connection may send per second."""
    subnegotiation_bytes_per_second: int = 4096
    """Telnet sub-negotiation bytes one connection may send per second (a burst of four
    seconds' worth is allowed: negotiation at connection time); beyond, reading pauses,
    and a connection over it for `flood_timeout` is closed."""
    flood_timeout: float = 5.0
    """Seconds a connection may stay over its command budget before it is closed."""
    output_high_water: int = 64 * 1024
    """Bytes queued towards a caller before the board waits for them to read."""
    drain_timeout: float = 60.0
    """Seconds a caller may stop reading (output full) before the board hangs up."""
    cluster_heartbeat: float = 5.0
    """Several nodes: seconds between refreshes of this node's rows in the database."""
    cluster_expiry: float = 30.0
    """Several nodes: seconds without a heartbeat after which a node counts as dead and
    its callers' node numbers are reclaimed."""
    ssh_port: int = 0
    """Port of the SSH front end; 0: no SSH."""
    ssh_host_key: str = "var/ssh_host_key"
    """The SSH host key (made at the first start, then kept: callers' clients remember it)."""
    minitel_port: int = 0
    """Port of the Minitel WebSocket endpoint (3616 LOTUSTEL); 0: none."""
    minitel_baud: int = 1200
    """Emulated speed of Minitel callers (the Minitel 1's 1200 baud); 0 = no limit."""
    node_name: str = ""
    """This node's name in logs and in a shared upload area; empty: the host name. Two
    nodes on one host that share an upload area need names of their own."""
    web_port: int = 0
    """Port of the web site and browser terminal (HTTP, same host); 0: no web site."""
    ftp_port: int = 0
    """Port of the anonymous read-only FTP site (same host); 0: no FTP site."""
    public_host: str = ""
    """The host name callers use to reach this node, shown in the web and FTP addresses;
    empty: `host` (127.0.0.1 when it listens on every address)."""
    ftp_passive_ports: str = ""
    """FTP passive-mode data ports, "first-last"; empty: any free port."""

    fax_port: int = 0
    """Raw TCP port of the touch-tone service (one byte a key, for DTMF bridges); 0 = off."""
    fax_spool: str = "var/fax"
    """Where rendered faxes are kept (`outbox/`, then `sent/`)."""
    fax_command: str = ""
    """Command that sends a fax, e.g. `sendfax -n -d {number} {file}` ({number}, {file},
    {job}, {pages} are filled in; run without a shell). Empty: faxes stay in the outbox."""
    fax_command_timeout: float = 600.0
    """Seconds `fax_command` may run before it counts as failed."""
    fax_sender: str = "LOTUS FAX"
    """The sender id printed in every page's header line (at most 20 characters)."""
    fax_resolution: str = "fine"
    """`fine` (204x196 dpi) or `standard` (204x98 dpi)."""
    fax_paper: str = "a4"
    """`a4` or `letter`."""
    fax_max_per_caller: int = 5
    """Fax orders one caller may place per `fax_window`."""
    fax_max_per_number: int = 3
    """Faxes one destination number may be sent per `fax_window`."""
    fax_window: float = 86400.0
    """Seconds over which the fax limits count orders."""

    @property
    def node_label(self) -> str:
        """The node's name: `node_name` or the host name, in letters, digits, . _ and -."""
        raw = self.node_name or socket.gethostname()
        return re.sub(r"[^A-Za-z0-9._-]", "_", raw)[:64] or "node"

    @property
    def shown_host(self) -> str:
        """The host name put in the web and FTP addresses the board shows."""
        if self.public_host:
            return self.public_host
        return "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host

    @property
    def web_url(self) -> str:
        """The web site's address, or "" when there is no web site."""
        if not self.web_port:
            return ""
        host = self.shown_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.web_port}/"

    @property
    def ftp_url(self) -> str:
        """The FTP site's address, or "" when there is none."""
        if not self.ftp_port:
            return ""
        host = self.shown_host
        host = f"[{host}]" if ":" in host else host
        return f"ftp://{host}:{self.ftp_port}/pub/"


_INTS = {
    "port",
    "ssh_port",
    "minitel_port",
    "minitel_baud",
    "baud",
    "max_line",
    "upload_max_bytes",
    "upload_min_free_bytes",
    "max_sessions",
    "max_per_address",
    "max_subnegotiation",
    "max_option_changes",
    "input_bytes_per_second",
    "input_commands_per_second",
    "subnegotiation_bytes_per_second",
    "output_high_water",
    "upload_quota_bytes",
    "upload_quota_files",
    "fax_port",
    "fax_max_per_caller",
    "fax_max_per_number",
    "web_port",
    "ftp_port",
}
_FLOATS = {
    "idle_timeout",
    "connect_maxwait",
    "probe_timeout",
    "shutdown_grace",
    "proxy_timeout",
    "login_grace",
    "flood_timeout",
    "drain_timeout",
    "cluster_heartbeat",
    "cluster_expiry",
    "fax_command_timeout",
    "fax_window",
}
_BOOLS = {"proxy_protocol"}
_TUPLES = {"trusted_proxies"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, value: Any, origin: str) -> Any:
    """A value converted to the field's type, or a one-line error naming where it came from."""
    if name in _BOOLS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise UsageError(f"{origin}: {name} must be true or false, got {value!r}")
    if name in _TUPLES:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise UsageError(f"{origin}: {name} must be a list of strings, got {value!r}")
        return tuple(i.strip() for i in items if i.strip())
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
    for name in ("port", "web_port", "ftp_port", "ssh_port", "minitel_port"):
        value = getattr(config, name)
        if not 0 <= value <= 65535:
            raise UsageError(f"{name} must be between 0 and 65535, got {value}")
    if config.ftp_passive_ports and not re.fullmatch(r"\d{1,5}-\d{1,5}", config.ftp_passive_ports):
        raise UsageError(
            f"ftp_passive_ports must read FIRST-LAST, got {config.ftp_passive_ports!r}"
        )
    if config.minitel_baud and config.minitel_baud not in SPEEDS:
        raise UsageError(f"minitel_baud must be 0 or one of {', '.join(map(str, SPEEDS))}")
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
    _check_limits(config)
    _check_fax(config)
    return config


def _check_fax(config: Config) -> None:
    """Refuse fax settings the service could not work with."""
    if not 0 <= config.fax_port <= 65535:
        raise UsageError(f"fax_port must be between 0 and 65535, got {config.fax_port}")
    if config.fax_resolution not in ("fine", "standard"):
        raise UsageError(f"fax_resolution must be fine or standard, got {config.fax_resolution!r}")
    if config.fax_paper not in ("a4", "letter"):
        raise UsageError(f"fax_paper must be a4 or letter, got {config.fax_paper!r}")
    if not config.fax_sender.isascii() or not 0 < len(config.fax_sender) <= 20:
        raise UsageError("fax_sender must be 1 to 20 ASCII characters")
    for name in ("fax_max_per_caller", "fax_max_per_number", "fax_window", "fax_command_timeout"):
        if getattr(config, name) <= 0:
            raise UsageError(f"{name} must be greater than 0")
    if config.fax_command:
        import shlex

        try:
            shlex.split(config.fax_command)
        except ValueError as exc:
            raise UsageError(f"fax_command: {exc}") from None


def _check_limits(config: Config) -> None:
    """Refuse limits that would make the board unusable or the edge unsafe."""
    for network in config.trusted_proxies:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise UsageError(f"trusted_proxies: {network!r} is not an address or network") from None
    positive = (
        "max_sessions",
        "max_per_address",
        "max_option_changes",
        "input_commands_per_second",
        "subnegotiation_bytes_per_second",
        "upload_quota_bytes",
        "upload_quota_files",
        "proxy_timeout",
        "login_grace",
        "flood_timeout",
        "drain_timeout",
    )
    for name in positive:
        if getattr(config, name) <= 0:
            raise UsageError(f"{name} must be greater than 0")
    if config.max_subnegotiation < 64:
        raise UsageError("max_subnegotiation must be at least 64")
    if config.input_bytes_per_second < 4096:
        raise UsageError("input_bytes_per_second must be at least 4096")
    if config.output_high_water < 1024:
        raise UsageError("output_high_water must be at least 1024")


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
