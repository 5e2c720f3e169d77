"""A board node: what its sessions share (menus, strings, directory) and its life cycle."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import heapq
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bbs.config import Config
from bbs.directory.model import Directory
from bbs.directory.query import Index, build_index
from bbs.errors import UsageError
from bbs.menus.engine import Engine
from bbs.menus.loader import load_menus
from bbs.menus.model import MenuSet
from bbs.menus.strings import Strings, load_strings
from bbs.services import build_commands, build_verbs
from bbs.services.account import door, sign_in
from bbs.services.registry import Command, Verb
from bbs.services.signin import after_sign_in
from bbs.session.link import Link
from bbs.session.probe import detect
from bbs.session.session import Hangup, Session, SessionSettings
from bbs.telnet.limits import log_event
from bbs.terminal.caps import Caps, Tier
from bbs.terminal.encoding import encode
from bbs.terminal.markup import escape
from bbs.terminal.render import display_width, render_lines
from bbs.terminal.sauce import render_art, split_sauce

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bbs.cluster.node import Cluster

log = logging.getLogger(__name__)


@dataclass
class Art:
    """One piece of art: CP437 ANSI bytes for the ANSI tier, markup for the others, and
    markup for a Minitel's 40 columns (mosaic characters allowed) when there is some."""

    ansi: bytes | None
    markup: str
    minitel: str = ""

    def fits(self, cols: int) -> bool:
        """Whether the ANSI art is no wider than a screen of `cols` columns."""
        if self.ansi is None:
            return False
        _, sauce = split_sauce(self.ansi)
        return sauce is None or sauce.width <= cols


def load_art(folder: Path) -> dict[str, Art]:
    """Every art piece in `folder` by base name (`NAME.ans`, `NAME.txt`, `NAME.minitel`)."""
    names = {p.stem for p in folder.glob("*.ans")} | {p.stem for p in folder.glob("*.txt")}
    names |= {p.stem for p in folder.glob("*.minitel")}
    art: dict[str, Art] = {}
    for name in sorted(names):
        ans = folder / f"{name}.ans"
        txt = folder / f"{name}.txt"
        minitel = folder / f"{name}.minitel"
        art[name] = Art(
            ansi=ans.read_bytes() if ans.exists() else None,
            markup=txt.read_text(encoding="utf-8") if txt.exists() else "",
            minitel=minitel.read_text(encoding="utf-8") if minitel.exists() else "",
        )
    return art


def load_menus_for(menus_dir: Path, directory: Directory | Path) -> MenuSet:
    """Load and validate the menus against the commands and the directory's codes."""
    if isinstance(directory, Path):
        from bbs.directory.datafiles import read_data_dir

        directory = read_data_dir(directory)
    return load_menus(menus_dir, build_commands(directory))


async def prepare_database(config: Config) -> bool:
    """The sysop's first run: a database without the board's tables gets the schema and
    the bundled data folder (one log line says so); True when that happened. A database
    at another schema revision is refused with the one command to run (StoreError).
    A database at the right schema but with nothing loaded gets the data folder too."""
    from bbs.store.db import describe
    from bbs.store.load import load_dir
    from bbs.store.migrate import current_revision, upgrade
    from bbs.store.snapshot import read_directory

    where = describe(config.db)
    if await current_revision(config.db) is None:
        await upgrade(config.db)
        report = await load_dir(config.db, Path(config.data_dir))
        log.warning(
            "empty database %s: created the schema and loaded %s/ (%s)",
            where,
            config.data_dir,
            report.summary(),
        )
        return True
    # Refuses an older (or newer) schema, naming 'bbs db upgrade'.
    directory = await read_directory(config.db)
    if directory.countries:
        return False
    report = await load_dir(config.db, Path(config.data_dir))
    log.warning(
        "database %s held no data: loaded %s/ (%s)", where, config.data_dir, report.summary()
    )
    return True


async def read_board_directory(config: Config) -> Directory:
    """The directory as stored in the database, or a clear error when it was never loaded."""
    from bbs.store.snapshot import read_directory

    directory = await read_directory(config.db)
    if not directory.countries:
        raise UsageError(
            f"the database {config.db} holds no directory: run 'bbs db upgrade' then 'bbs load'"
        )
    return directory


_FOR_CAUSE = {"stalled", "idle"}
"""Session endings that are the board's decision about the caller, logged as such."""


def _signed_in(link: Link) -> None:
    """Tell the connection edge that sign-in is over (its grace deadline stops)."""
    mark = getattr(link, "signed_in", None)
    if callable(mark):
        mark()


def _address(link: Link) -> str:
    """The caller's address without the port, for the structured log lines."""
    address = getattr(link, "address", None)
    return address if isinstance(address, str) else link.peer.rsplit(":", 1)[0]


@dataclass
class Board:
    """Everything the sessions of one node share, and the sessions themselves."""

    config: Config
    strings: Strings
    menus: MenuSet
    commands: dict[str, Command]
    directory: Directory
    index: Index
    art: dict[str, Art]
    verbs: dict[str, Verb]
    """Commands valid at any prompt, by spelling (registered by the screens)."""
    db: AsyncEngine | None = None
    """The database, for what is not held in memory (the library); None in some tests."""
    sessions: set[Session] = field(default_factory=set)
    stopping: bool = False
    cluster: Cluster | None = None
    """This node's part in a board of several nodes (PostgreSQL); None on SQLite."""
    _nodes_taken: set[int] = field(default_factory=set, init=False, repr=False)
    _nodes_free: list[int] = field(default_factory=list, init=False, repr=False)
    """Numbers given back (a heap): the smallest goes to the next caller."""
    _nodes_high: int = field(default=0, init=False, repr=False)

    @property
    def files_dir(self) -> Path:
        """Where the library's downloadable files are."""
        return Path(self.config.data_dir) / "files"

    @classmethod
    def build(cls, config: Config, directory: Directory, db: AsyncEngine | None = None) -> Board:
        """A board from its configuration and directory; refuses bad menus or strings."""
        menus_dir = Path(config.menus_dir)
        strings = load_strings(menus_dir / "strings")
        commands = build_commands(directory)
        menus = load_menus(menus_dir, commands)
        return cls(
            config=config,
            strings=strings,
            menus=menus,
            commands=dict(commands),
            directory=directory,
            index=build_index(directory),
            art=load_art(menus_dir / "art"),
            verbs=build_verbs(),
            db=db,
        )

    def settings(self) -> SessionSettings:
        """Session settings from the configuration."""
        return SessionSettings(
            idle_timeout=self.config.idle_timeout,
            max_line=self.config.max_line,
            drain_timeout=self.config.drain_timeout,
        )

    async def _node_number(self) -> int:
        """A number for a new caller: unique on the board (from the database when several
        nodes share it), else the smallest this node does not use."""
        if self.cluster is not None:
            return await self.cluster.allocate()
        # The smallest number given back, else the next never given: no walk over every
        # session at each arrival (10 000 callers made that a stall).
        taken = self._nodes_taken
        while self._nodes_free and self._nodes_free[0] in taken:
            heapq.heappop(self._nodes_free)
        if self._nodes_free:
            number = heapq.heappop(self._nodes_free)
        else:
            self._nodes_high += 1
            while self._nodes_high in taken:
                self._nodes_high += 1
            number = self._nodes_high
        taken.add(number)
        return number

    def _node_given_back(self, number: int) -> None:
        if self.cluster is None and number in self._nodes_taken:
            self._nodes_taken.discard(number)
            heapq.heappush(self._nodes_free, number)

    async def handle(self, link: Link) -> None:
        """One caller, from detection to goodbye; no traceback ever reaches them."""
        session = Session(
            link,
            self.strings,
            self.settings(),
            lang=self.config.language,
            node=await self._node_number(),
        )
        self.sessions.add(session)
        session.start()
        try:
            if self.stopping:
                await session.send(escape(session.text("board.shutdown")) + "\n")
                return
            detection = await detect(
                session, self.config.probe_timeout, self.config.baud, self.config.minitel_baud
            )
            log.info("%s node %d: %s", link.peer, session.node, detection.reason)
            await self.welcome(session, detection.term)
            session.caller = await sign_in(session, self)
            _signed_in(link)
            await after_sign_in(session, self)
            await Engine(session, self).run()
        except Hangup as end:
            if end.reason in _FOR_CAUSE:
                log_event("disconnected", end.reason, addr=_address(link), node=session.node)
            else:
                log.info("%s node %d: session ended (%s)", link.peer, session.node, end.reason)
        except Exception:
            log.exception("%s node %d: session failed", link.peer, session.node)
            with contextlib.suppress(Exception):
                await session.send(
                    "\n{err}" + escape(session.text("board.internal_error")) + "{/}\n"
                )
        finally:
            self.sessions.discard(session)
            self._node_given_back(session.node)
            await session.close()

    async def welcome(self, session: Session, term: str) -> None:
        """The connecting banner with what was detected, then the welcome art."""
        caps = session.caps
        banner = session.text(
            "board.banner",
            term=term,
            cols=caps.cols,
            rows=caps.rows,
            encoding=caps.wire_encoding.value,
            tier=caps.tier.value,
        )
        if "welcome" in self.art:
            await session.clear()
        await session.send("{dim}" + escape(banner) + "{/}\n", remember=False)
        if self.config.web_url:
            where = session.text("board.web_here", url=self.config.web_url)
            await session.send("{dim}" + escape(where) + "{/}\n", remember=False)
        if "welcome" in self.art:
            await self.show_art(session, "welcome")
        # F, E or D there choose the language the rest is said in.
        await door(session, self)

    def art_for(self, name: str, caps: Caps) -> Art | None:
        """The widest version of art `name` this screen shows without wrapping: the piece
        itself, or a narrower variant (`NAME.40.txt` for 40 columns); None when none fits."""
        variants = sorted(
            (
                (int(width), art)
                for key, art in self.art.items()
                if key.startswith(name + ".") and (width := key[len(name) + 1 :]).isdigit()
            ),
            key=lambda pair: -pair[0],
        )
        pieces = [art for art in [self.art.get(name)] if art is not None]
        pieces += [art for _, art in variants]
        for art in pieces:
            if caps.tier is Tier.ANSI and art.fits(caps.cols):
                return art
            # The last column is kept free: a character there makes some terminals wrap.
            if art.markup and display_width(art.markup, caps) < caps.cols:
                return art
        return None

    async def show_art(self, session: Session, name: str) -> int:
        """Draw art (the ANSI file on ANSI terminals, its markup elsewhere) or, on a screen
        narrower than every version of it, a one-line banner; lines drawn."""
        if name not in self.art:
            return 0
        minitel = self.art[name].minitel if session.caps.tier is Tier.VIDEOTEX else ""
        if minitel:
            # A Minitel's own version: 40 columns with G1 mosaic.
            await session.send(minitel)
            return len(render_lines(minitel, session.caps))
        art = self.art_for(name, session.caps)
        if art is None:
            banner = "{title}" + escape(session.text("board.art_banner")) + "\n"
            await session.send(banner)
            return len(render_lines(banner, session.caps))
        if session.caps.tier is Tier.ANSI and art.ansi is not None and art.fits(session.caps.cols):
            session.remember(art.markup)
            # The art's own colours stay in force after it: reset before anything else.
            text = render_art(art.ansi, session.caps) + session.controls.reset()
            await session.write_raw(encode(text, session.caps))
            return text.count("\n")
        await session.send(art.markup)
        return len(render_lines(art.markup, session.caps))

    async def reload_directory(self) -> None:
        """Read the directory from the database again (a `bbs load` on another node) and
        swap it in with its index and the commands and menus checked against it. Callers
        at a screen keep what they have; their next search uses the new index.
        StoreError when the database is away."""
        directory = await read_board_directory(self.config)
        commands = build_commands(directory)
        try:
            menus = load_menus(Path(self.config.menus_dir), commands)
        except Exception as e:
            # A directory the menus no longer fit: keep serving the old one, say why.
            log.error("event=reload_refused reason=menus error=%s", str(e).splitlines()[0])
            return
        self.directory = directory
        self.index = build_index(directory)
        self.commands = dict(commands)
        self.menus = menus
        log.warning("event=directory_reloaded countries=%d", len(directory.countries))

    async def shutdown(self) -> None:
        """Tell every caller the node is stopping, give them a moment, then hang up.

        A transfer may finish during the grace period; one still running after it is
        cancelled the protocols' way (CAN sequence), so that the caller's program reports
        an abort rather than a dropped line, and the board drops the partial file.
        """
        self.stopping = True
        warned: set[Session] = set()
        for session in list(self.sessions):
            # Text in the middle of a transfer would be taken for protocol bytes.
            if not session.in_transfer:
                await _warn_shutdown(session)
                warned.add(session)
        await asyncio.sleep(self.config.shutdown_grace)
        for session in list(self.sessions):
            if session.in_transfer:
                from bbs.transfer.blocks import CANCEL_SEQUENCE

                with contextlib.suppress(Exception):
                    session.flush()
                    session.link.write(CANCEL_SEQUENCE)
                    await asyncio.wait_for(session.link.drain(), 1.0)
            if session not in warned:
                await _warn_shutdown(session)
            session.end("shutdown")
            session.flush()
            session.link.close()


async def _warn_shutdown(session: Session) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            session.send("\n{warn}" + escape(session.text("board.shutdown")) + "{/}\n"), 1.0
        )


async def start_channels(board: Board, edge: Any) -> list[Any]:
    """The front ends besides telnet that the configuration turns on (SSH, Minitel);
    each has `close()` and `wait_closed()`. They share telnet's admission counts."""
    config = board.config
    started: list[Any] = []
    if config.ssh_port:
        from bbs.ssh.server import start_ssh_server

        started.append(await start_ssh_server(board, edge.admission, edge.node))
        log.warning("SSH on %s:%s", config.host, config.ssh_port)
    if config.minitel_port:
        from bbs.minitel.websocket import start_minitel_server

        started.append(await start_minitel_server(board, edge.admission, edge.node))
        log.warning("Minitel (WebSocket) on %s:%s", config.host, config.minitel_port)
    return started


async def run_node(
    config: Config, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    """Serve the board until SIGTERM or SIGINT (or `stop` is set), then drain and return."""
    from bbs.store.db import is_sqlite, make_engine
    from bbs.telnet.server import start_server
    from bbs.transfer.uploads import cleanup_partials

    await prepare_database(config)
    directory = await read_board_directory(config)
    board = Board.build(config, directory, make_engine(config.db))
    if board.db is not None and not is_sqlite(board.db):
        from bbs.cluster.node import Cluster
        from bbs.services.forums import chat_loop

        board.cluster = Cluster(
            board,
            board.db,
            chat_loop,
            board.reload_directory,
            heartbeat=config.cluster_heartbeat,
            expiry=config.cluster_expiry,
        )
        await board.cluster.start()
    uploads = Path(config.upload_dir)
    if uploads.is_dir():
        removed = cleanup_partials(uploads, config.node_label)
        if removed:
            log.warning("removed %d unfinished upload(s) left by an earlier run", removed)
    server = await start_server(
        config.host,
        config.port,
        board.handle,
        config.connect_maxwait,
        config=config,
        node=config.node_label,
    )
    from bbs.fax.phone import start_phone

    phone = await start_phone(config, board.strings, board.db)
    if board.db is not None:
        from bbs.fax.deliver import resume_pending

        try:
            resumed = await resume_pending(board.db, config, board.strings)
        except Exception:
            log.exception("fax jobs left queued could not be resumed")
        else:
            if resumed:
                log.warning("resuming %d fax job(s) left queued by an earlier run", len(resumed))
    extras = await _start_extras(board, config, server)
    channels = await start_channels(board, server.edge)
    # Menus, strings and the directory live as long as the node: keep the collector off them.
    gc.collect()
    gc.freeze()
    # Thousands of idle sessions are a million long-lived objects: with the default
    # thresholds a full collection (about a second at 5 000 callers) ran every few
    # seconds under load. Young collections stay frequent; full ones become rare.
    gc.set_threshold(5000, 20, 100)
    loop = asyncio.get_running_loop()
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname() if server.sockets else (config.host, config.port)
    log.warning("lotus-bbs listening on %s:%s (%s)", bound[0], bound[1], config.db)
    if ready is not None:
        ready.set()
    await stop.wait()
    log.warning("stopping: telling %d caller(s)", len(board.sessions))
    # Stop listening first, but close callers' lines only after they have read the notice.
    server.stop_listening()
    if phone is not None:
        phone.close()
    for channel in channels:
        channel.close()
    await board.shutdown()
    for stop_extra in extras:
        with contextlib.suppress(Exception):
            await stop_extra()
    server.close()
    for channel in channels:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(channel.wait_closed(), 2.0)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 2.0)
    if board.cluster is not None:
        await board.cluster.stop()
    if board.db is not None:
        await board.db.dispose()


async def _start_extras(
    board: Board, config: Config, server: Any
) -> list[Callable[[], Awaitable[None]]]:
    """The web site and the FTP site beside the telnet server, when their ports are set;
    what stops each."""
    stops: list[Callable[[], Awaitable[None]]] = []
    if config.web_port:
        from bbs.web.app import start_web

        runner = await start_web(board, config.host, config.web_port, getattr(server, "edge", None))
        stops.append(runner.cleanup)
        log.warning("web site on %s", config.web_url)
    if config.ftp_port:
        from bbs.ftp.server import start_ftp

        ftp = await start_ftp(board, config.host, config.ftp_port)
        stops.append(ftp.close)
        log.warning("FTP site on %s", config.ftp_url)
    return stops


def serve(config: Config) -> int:
    """`bbs serve`: run a node; exit status 0 after a clean shutdown."""
    logging.getLogger().setLevel(config.log_level)
    # Migrations' chatter says nothing an operator needs at every start.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    asyncio.run(run_node(config))
    return 0
