"""The anonymous FTP server (aioftp): read-only, passive mode, SIZE, MDTM, REST, a per-address
connection cap, and one structured log line per command."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import stat
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import aioftp

from bbs.ftp.tree import Entry, Tree, build_tree, open_entry
from bbs.telnet.limits import MESSAGES, Admission, log_event, log_line

if TYPE_CHECKING:
    from bbs.services.registry import Node

log = logging.getLogger(__name__)

TREE_MAX_AGE = 2.0
"""Seconds a built tree is reused before the database is read again (follows `bbs load`)."""

REFUSED = ("stor", "appe", "stou", "dele", "rnfr", "rnto", "mkd", "rmd", "site")
"""Commands that would change the site: all refused."""


class TreeSource:
    """Builds the tree from the database, at most every `TREE_MAX_AGE` seconds."""

    def __init__(self, board: Node) -> None:
        self.board = board
        self._tree: Tree | None = None
        self._built = 0.0
        self._lock = asyncio.Lock()

    async def tree(self) -> Tree:
        """The current tree."""
        async with self._lock:
            now = time.monotonic()
            if self._tree is None or now - self._built > TREE_MAX_AGE:
                assert self.board.db is not None
                self._tree = await build_tree(
                    self.board.db, self.board.files_dir, self.board.strings
                )
                self._built = now
            return self._tree


class Stats(NamedTuple):
    """What LIST and SIZE need of an entry."""

    st_size: int
    st_ctime: int
    st_mtime: int
    st_nlink: int
    st_mode: int


class TreePathIO(aioftp.AbstractPathIO[Path]):
    """aioftp's file-system seam over the generated tree: reading only."""

    source: ClassVar[TreeSource]

    async def _find(self, path: Path | PurePosixPath) -> Entry | None:
        tree = await self.source.tree()
        return tree.find(PurePosixPath("/") / PurePosixPath(str(path)).relative_to("/"))

    async def exists(self, path: Path) -> bool:
        """Whether the tree has `path`."""
        return await self._find(path) is not None

    async def is_dir(self, path: Path) -> bool:
        """Whether `path` is a folder of the tree."""
        entry = await self._find(path)
        return entry is not None and entry.is_dir

    async def is_file(self, path: Path) -> bool:
        """Whether `path` is a file of the tree."""
        entry = await self._find(path)
        return entry is not None and not entry.is_dir

    async def mkdir(self, path: Path, *, parents: bool = False, exist_ok: bool = False) -> None:
        """Never: the site is read-only."""
        raise PermissionError("read-only")

    async def rmdir(self, path: Path) -> None:
        """Never: the site is read-only."""
        raise PermissionError("read-only")

    async def unlink(self, path: Path) -> None:
        """Never: the site is read-only."""
        raise PermissionError("read-only")

    def list(self, path: Path) -> AsyncIterable[Path]:
        """The names in a folder (nothing for a file)."""
        owner = self

        class Lister(aioftp.AbstractAsyncLister[Path]):
            names: Iterator[Path] | None = None

            async def __anext__(self) -> Path:
                if self.names is None:
                    entry = await owner._find(path)
                    children = entry.children if entry is not None else None
                    self.names = iter([path / name for name in sorted(children or {})])
                try:
                    return next(self.names)
                except StopIteration:
                    raise StopAsyncIteration from None

        return Lister(timeout=self.timeout)

    async def stat(self, path: Path) -> Any:
        """Size, times and mode of an entry."""
        entry = await self._find(path)
        if entry is None:
            raise FileNotFoundError(str(path))
        mode = (stat.S_IFDIR | 0o555) if entry.is_dir else (stat.S_IFREG | 0o444)
        return Stats(entry.size, entry.mtime, entry.mtime, 1, mode)

    async def _open(self, path: Path, mode: str = "rb") -> Any:
        """A file for reading; any other mode is refused."""
        if mode != "rb":
            raise PermissionError("read-only")
        entry = await self._find(path)
        if entry is None:
            raise FileNotFoundError(str(path))
        return io.BytesIO(await asyncio.to_thread(open_entry, entry))

    async def seek(self, file: io.BytesIO, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move in an open file (REST)."""
        return file.seek(offset, whence)

    async def write(self, file: io.BytesIO, data: bytes) -> int:
        """Never: the site is read-only."""
        raise PermissionError("read-only")

    async def read(self, file: io.BytesIO, block_size: int = -1) -> bytes:
        """The next block of an open file."""
        return file.read(block_size)

    async def close(self, file: io.BytesIO) -> None:
        """Close an open file."""
        file.close()

    async def rename(self, source: Path, destination: Path) -> Path:
        """Never: the site is read-only."""
        raise PermissionError("read-only")


Command = Callable[[Any, Any], Awaitable[bool]]


class BoardFTPServer(aioftp.Server):
    """aioftp's server with the board's rules: refusals, SIZE/MDTM, caps, log lines."""

    def __init__(self, board: Node, admission: Admission, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.board = board
        self.admission = admission
        self.node = board.config.node_label
        mapping: dict[str, Any] = self.commands_mapping
        for name in REFUSED:
            mapping[name] = self._refuse
        mapping["size"] = self.size
        mapping["mdtm"] = self.mdtm
        mapping["feat"] = self.feat
        listing = mapping["list"]
        mapping["list"] = self._full_list(listing)
        mapping["nlst"] = self._names_list(listing)
        for name, handler in list(mapping.items()):
            mapping[name] = self._logged(name, handler)

    def _logged(self, name: str, handler: Command) -> Command:
        async def run(connection: Any, rest: Any) -> bool:
            shown = "***" if name == "pass" else str(rest)[:80]
            log_line(
                logging.INFO,
                "ftp",
                name,
                addr=str(getattr(connection, "client_host", "?")),
                node=self.node,
                arg=shown or "-",
            )
            return await handler(connection, rest)

        return run

    @staticmethod
    def _full_list(listing: Command) -> Command:
        async def run(connection: Any, rest: Any) -> bool:
            connection.names_prefix = None
            return await listing(connection, rest)

        return run

    @staticmethod
    def _names_list(listing: Command) -> Command:
        """NLST: LIST's transfer with names only (prefixed with the folder asked for)."""

        async def run(connection: Any, rest: Any) -> bool:
            asked = str(rest).strip()
            connection.names_prefix = f"{asked.rstrip('/')}/" if asked else ""
            return await listing(connection, rest)

        return run

    async def build_list_string(self, connection: Any, path: PurePosixPath) -> str:
        """A LIST line, or for NLST the name alone."""
        prefix = getattr(connection, "names_prefix", None)
        if prefix is not None:
            return f"{prefix}{path.name}"
        return await super().build_list_string(connection, path)

    async def _refuse(self, connection: Any, rest: Any) -> bool:
        connection.response("550", "read-only server: permission denied")
        return True

    async def _entry(self, connection: Any, rest: Any) -> Entry | None:
        if not connection.future.logged.done():
            return None
        _, virtual = self.get_paths(connection, rest)
        source: TreeSource = connection.path_io.source
        return (await source.tree()).find(PurePosixPath(str(virtual)))

    async def size(self, connection: Any, rest: Any) -> bool:
        """SIZE: a file's size in bytes."""
        entry = await self._entry(connection, rest)
        if entry is None or entry.is_dir:
            connection.response("550", "no such file")
        else:
            connection.response("213", str(entry.size))
        return True

    async def mdtm(self, connection: Any, rest: Any) -> bool:
        """MDTM: a file's modification time, UTC (RFC 3659)."""
        entry = await self._entry(connection, rest)
        if entry is None or entry.is_dir:
            connection.response("550", "no such file")
        else:
            moment = datetime.fromtimestamp(entry.mtime, UTC)
            connection.response("213", moment.strftime("%Y%m%d%H%M%S"))
        return True

    async def feat(self, connection: Any, rest: Any) -> bool:
        """FEAT: the extensions offered."""
        connection.response("211", ["-Features:", " SIZE", " MDTM", " REST STREAM", " EPSV"], True)
        connection.response("211", "End")
        return True

    async def dispatcher(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One control connection, counted per address (the same cap as telnet's)."""
        peer = writer.transport.get_extra_info("peername") or ("?", 0)
        address = str(peer[0])
        reason = self.admission.admit(address)
        if reason:
            log_event("refused", reason, addr=address, node=self.node, via="ftp")
            writer.write(f"421 {MESSAGES[reason]}\r\n".encode("ascii"))
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(writer.drain(), 2.0)
            writer.close()
            return
        try:
            await super().dispatcher(reader, writer)
        finally:
            self.admission.release(address)


class FtpSite:
    """A running FTP site: its server, and how to stop it."""

    def __init__(self, server: BoardFTPServer) -> None:
        self.server = server

    @property
    def port(self) -> int:
        """The port it listens on (useful when asked for port 0)."""
        sockets = self.server.server.sockets
        return int(sockets[0].getsockname()[1]) if sockets else 0

    async def close(self) -> None:
        """Stop listening and drop the connections."""
        await self.server.close()


def _passive_ports(spec: str) -> range | None:
    if not spec:
        return None
    first, last = (int(x) for x in spec.split("-"))
    return range(first, last + 1)


async def start_ftp(board: Node, host: str, port: int) -> FtpSite:
    """Serve /pub anonymously on host:port."""
    config = board.config
    source = TreeSource(board)
    path_io = type("BoardTreePathIO", (TreePathIO,), {"source": source})
    user = aioftp.User(
        base_path=Path("/"),
        home_path=PurePosixPath("/"),
        permissions=[aioftp.Permission("/", readable=True, writable=False)],
    )
    server = BoardFTPServer(
        board,
        Admission(config.max_sessions, config.max_per_address),
        users=[user],
        path_io_factory=path_io,
        idle_timeout=config.idle_timeout,
        socket_timeout=60,
        maximum_connections=config.max_sessions,
        data_ports=_passive_ports(config.ftp_passive_ports),
        welcome_message="Lotus - serveur FTP anonyme / anonymous FTP server (lecture seule)",
        ipv4_pasv_forced_response_address=None,
    )
    await server.start(host, port)
    return FtpSite(server)
