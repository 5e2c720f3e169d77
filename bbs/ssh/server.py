"""The SSH server: host key, authentication against the board's accounts, and the SshLink.

A connection is counted by the node's telnet admission (one budget for both front
ends) and carries at most one session channel: a second channel would be a second
caller past the per-address cap. Names in GUEST_WORDS come in as the guest without a
password, names in NEW_WORDS without a password to the usual sign-in screen (where they
register); every other name authenticates by password or keyboard-interactive through
the same Argon2id check, throttle and lockout as telnet, or by a public key its owner
registered from the profile screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from bbs.accounts import auth, store
from bbs.accounts.model import GUEST, Caller
from bbs.accounts.names import GUEST_WORDS, NEW_WORDS, name_key
from bbs.errors import UsageError
from bbs.session.link import Link, Negotiated
from bbs.store.db import StoreError
from bbs.telnet.limits import MESSAGES, Admission, log_event
from bbs.telnet.proxy import V1_MAX, V2_MAX_BODY, Header, ProxyError, Trusted, parse
from bbs.telnet.server import clean_value
from bbs.terminal.caps import clamp_size

if TYPE_CHECKING:
    from bbs.services.registry import Node

log = logging.getLogger(__name__)

TRIES = 3
"""Failed authentications on one connection before the board hangs up (as on telnet)."""
_HIGH_WATER = 256 * 1024
"""Input bytes held for the session before the channel stops reading (SSH windows then
hold the caller back)."""

Shell = Callable[[Link], Awaitable[None]]


def load_host_key(path: Path) -> asyncssh.SSHKey:
    """The node's host key, made (Ed25519, owner-only) at the first start and kept after.

    Nodes sharing the file may start together: the new key is linked into place only if
    none is there yet, so every node ends up with the one that got there first.
    """
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519")
        temporary = path.with_name(f"{path.name}.{os.getpid()}.new")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(key.export_private_key())
            try:
                os.link(temporary, path)
                log.warning("made a new SSH host key in %s (%s)", path, fingerprint(key))
            except FileExistsError:
                pass
        except OSError as exc:
            raise UsageError(f"ssh_host_key {path}: cannot write the host key: {exc}") from None
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()
    try:
        return asyncssh.read_private_key(str(path))
    except (OSError, asyncssh.KeyImportError) as exc:
        raise UsageError(f"ssh_host_key {path}: cannot read the host key: {exc}") from None


def fingerprint(key: asyncssh.SSHKey) -> str:
    """The SHA-256 fingerprint OpenSSH shows for a key."""
    return str(key.get_fingerprint("sha256"))


class BoardSshServer(asyncssh.SSHServer):
    """One SSH connection: admission, sign-in grace, authentication, its one session."""

    def __init__(
        self,
        board: Node,
        admission: Admission,
        node: str,
        shell: Shell,
        peer: tuple[str, int] | None = None,
    ) -> None:
        self.board = board
        self.admission = admission
        self.node = node
        self.shell = shell
        self.conn: asyncssh.SSHServerConnection | None = None
        self._peer = peer
        """The caller as the PROXY header named it; None: the socket's peer."""
        self.address = "?"
        self.peer = "?"
        self.preauth: Caller | None = None
        """Who authenticated (the guest for GUEST_WORDS); None: the sign-in screen decides."""
        self.failures = 0
        self._by_password = False
        self._key_account: store.Account | None = None
        self._key: asyncssh.SSHKey | None = None
        self._key_caller: Caller | None = None
        """The account whose registered key the client offered; it signs in only once
        asyncssh has checked the client's signature (`auth_completed`)."""
        self._admitted = False
        self._session = False
        self._grace: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ connection

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        """Count the caller's address; refuse over the caps, else start the grace clock."""
        self.conn = conn
        peer = self._peer or conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        self.peer = f"{peer[0]}:{peer[1]}"
        reason = self.admission.admit(self.address)
        if reason:
            log_event("refused", reason, addr=self.address, node=self.node, channel="ssh")
            conn.send_auth_banner(MESSAGES[reason] + "\r\n")
            asyncio.get_running_loop().call_soon(conn.close)
            return
        self._admitted = True
        grace = self.board.config.login_grace
        self._grace = asyncio.get_running_loop().call_later(grace, self._grace_over)

    def connection_lost(self, exc: Exception | None) -> None:
        """Release the connection's place in the node's counts, once."""
        if self._admitted:
            self._admitted = False
            self.admission.release(self.address)
        self.signed_in()

    def signed_in(self) -> None:
        """Sign-in is over: the grace deadline no longer applies."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    def _grace_over(self) -> None:
        self._grace = None
        log_event("disconnected", "login_grace", addr=self.address, node=self.node, channel="ssh")
        if self.conn is not None:
            self.conn.close()

    # ------------------------------------------------------------ authentication

    def begin_auth(self, username: str) -> bool:
        """Whether `username` must authenticate: not the guest nor a new caller."""
        key = name_key(username)
        if key in GUEST_WORDS:
            self.preauth = GUEST
            return False
        if key in NEW_WORDS:
            self.preauth = None
            return False
        return True

    def password_auth_supported(self) -> bool:
        """Passwords, checked like the telnet sign-in's."""
        return self.board.db is not None

    async def validate_password(self, username: str, password: str) -> bool:
        """Check a password against the account, with the sign-in throttle."""
        return await self._check(username, password)

    def kbdint_auth_supported(self) -> bool:
        """Keyboard-interactive: one password prompt in the board's language."""
        return self.board.db is not None

    def get_kbdint_challenge(
        self, username: str, lang: str, submethods: str
    ) -> tuple[str, str, str, list[tuple[str, bool]]]:
        """The password prompt."""
        prompt = self.board.strings.get("acct.password_prompt", self.board.config.language)
        return ("", "", "", [(prompt + " ", False)])

    async def validate_kbdint_response(self, username: str, responses: Sequence[str]) -> bool:
        """Check the one answer as a password."""
        if len(responses) != 1:
            return False
        return await self._check(username, responses[0])

    def public_key_auth_supported(self) -> bool:
        """Keys registered from the profile screen."""
        return self.board.db is not None

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        """Whether `key` is one the account named `username` registered."""
        db = self.board.db
        if db is None:
            return False
        from bbs.ssh.keys import account_for_key

        try:
            account = await account_for_key(db, auth.key_of(username), key)
        except StoreError as exc:
            log.error("%s: accounts unavailable at SSH sign-in: %s", self.peer, exc)
            return False
        if account is None or account.disabled:
            return False
        try:
            caller = await auth.caller_for(db, account, account.last_login_at, auth.clock())
        except StoreError as exc:
            log.error("%s: accounts unavailable at SSH sign-in: %s", self.peer, exc)
            return False
        self._key_account = account
        self._key_caller = caller
        self._key = key
        return True

    async def auth_completed(self) -> None:
        """Authenticated: by key, the caller is the key's account from now on."""
        account, key, db = self._key_account, self._key, self.board.db
        if self._by_password or account is None or key is None or db is None:
            return
        # Before any await: the client may open its session as soon as it heard "success".
        self.preauth = self._key_caller
        from bbs.ssh.keys import key_signed_in

        try:
            await key_signed_in(db, account.id, key, auth.clock())
        except StoreError as exc:
            log.warning("%s: SSH key use not noted: %s", self.peer, exc)
        log.info("%s signed in as account %d (%s) by SSH key", self.peer, account.id, account.role)

    async def _check(self, username: str, password: str) -> bool:
        db = self.board.db
        if db is None:
            return False
        try:
            attempt = await auth.authenticate(db, username, password, peer=self.peer)
            if attempt.outcome is auth.Outcome.OK and attempt.account is not None:
                self.preauth = await auth.caller_for(
                    db, attempt.account, attempt.previous_login, auth.clock()
                )
                self._by_password = True
                return True
        except StoreError as exc:
            log.error("%s: accounts unavailable at SSH sign-in: %s", self.peer, exc)
            self._banner("acct.unavailable")
            return False
        if attempt.outcome is auth.Outcome.WAIT:
            self._banner("acct.wait", seconds=attempt.wait)
        elif attempt.outcome is auth.Outcome.LOCKED:
            self._banner("acct.locked", minutes=max(1, -(-attempt.wait // 60)))
        self.failures += 1
        if self.failures >= TRIES and self.conn is not None:
            log_event("disconnected", "auth_failures", addr=self.address, node=self.node)
            asyncio.get_running_loop().call_soon(self.conn.close)
        return False

    def _banner(self, key: str, **values: object) -> None:
        """Tell the caller why, before the client asks again (clients show banners)."""
        if self.conn is None:
            return
        text = self.board.strings.get(key, self.board.config.language, **values)
        with contextlib.suppress(Exception):
            self.conn.send_auth_banner(text + "\r\n")

    # ------------------------------------------------------------ sessions

    def session_requested(self) -> SshLink | bool:
        """The one session of this connection; further ones are refused."""
        if self._session:
            return False
        self._session = True
        return SshLink(self)


class SshLink(asyncssh.SSHServerSession[bytes]):
    """A Session's view of one SSH session channel (the Link protocol), 8-bit clean."""

    def __init__(self, server: BoardSshServer) -> None:
        self._server = server
        self.peer = server.peer
        self.address = server.address
        """The caller's address alone, for the structured log lines."""
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._term = ""
        self._cols = 0
        self._rows = 0
        self._input: deque[bytes] = deque()
        self._held = 0
        self._paused = False
        self._ready = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._eof = False
        self._closing = False
        self._resize: list[Callable[[int, int], None]] = []
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ asyncssh side

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        """The channel is open."""
        self._chan = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any
    ) -> bool:
        """Terminal type and size, as TTYPE and NAWS give them on telnet."""
        self._term = clean_value(term_type).lower()
        self._cols, self._rows = term_size[0], term_size[1]
        return True

    def shell_requested(self) -> bool:
        """The board is the shell."""
        return True

    def exec_requested(self, command: str) -> bool:
        """No remote commands: the board is all there is."""
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        """No subsystems (no SFTP)."""
        return False

    @property
    def preauth(self) -> Caller | None:
        """Who authenticated; the sign-in step takes it instead of asking for a name."""
        return self._server.preauth

    def session_started(self) -> None:
        """Run the board for this caller."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            await self._server.shell(self)
        except Exception:
            log.exception("SSH session %s failed", self.peer)
        finally:
            self.close()

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        """Caller input, held for `read`; the channel stops reading past the high-water mark."""
        if datatype is not None or not data:
            return
        self._input.append(data)
        self._held += len(data)
        self._ready.set()
        if self._held > _HIGH_WATER and not self._paused and self._chan is not None:
            self._paused = True
            self._chan.pause_reading()

    def eof_received(self) -> bool:
        """The caller sent EOF: the session reads its end; close the channel."""
        self._eof = True
        self._ready.set()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The channel closed: the session sees a hang-up; the connection goes too."""
        self._eof = True
        self._closing = True
        self._ready.set()
        self._writable.set()
        conn = self._server.conn
        if conn is not None:
            conn.close()

    def pause_writing(self) -> None:
        """Output is past the channel's high-water mark."""
        self._writable.clear()

    def resume_writing(self) -> None:
        """Output drained."""
        self._writable.set()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        """window-change: the session reflows its screen."""
        self._cols, self._rows = clamp_size(width, height)
        for callback in self._resize:
            callback(self._cols, self._rows)

    def break_received(self, msec: int) -> bool:
        """A break means nothing to the board."""
        return False

    # ------------------------------------------------------------ Link side

    def negotiated(self) -> Negotiated:
        """A PTY request is what TTYPE and NAWS are on telnet; without one, plain text."""
        pty = bool(self._term)
        return Negotiated(
            terminal_types=(self._term,) if pty else (),
            cols=self._cols,
            rows=self._rows,
            telnet=pty,
            binary_out=True,
            echo=pty,
        )

    async def read(self, n: int) -> bytes:
        """Up to `n` bytes typed by the caller; b"" once they hung up."""
        while not self._input:
            if self._eof:
                return b""
            self._ready.clear()
            await self._ready.wait()
        first = self._input.popleft()
        if len(first) > n:
            self._input.appendleft(first[n:])
            first = first[:n]
        self._held -= len(first)
        if self._paused and self._held < _HIGH_WATER // 4 and self._chan is not None:
            self._paused = False
            self._chan.resume_reading()
        return first

    def write(self, data: bytes) -> None:
        """Bytes to the caller, as they are (the channel is 8-bit clean)."""
        if self._chan is not None and not self.is_closing():
            self._chan.write(data)

    async def drain(self) -> None:
        """Wait until the channel takes more output."""
        await self._writable.wait()
        if self._closing:
            raise ConnectionResetError("the SSH channel closed")

    def close(self) -> None:
        """Hang up: exit status 0, channel closed, connection closed."""
        if self._closing:
            return
        self._closing = True
        self._ready.set()
        self._writable.set()
        if self._chan is not None:
            with contextlib.suppress(Exception):
                self._chan.exit(0)

    def is_closing(self) -> bool:
        """Whether the line is hung up or being hung up."""
        return self._closing or self._chan is None or self._chan.is_closing()

    def on_resize(self, callback: Callable[[int, int], None]) -> None:
        """Register for window-change requests."""
        self._resize.append(callback)

    async def set_binary(self, on: bool) -> bool:
        """SSH channels are always 8-bit clean."""
        return True

    def transfer_mode(self, on: bool) -> None:
        """Nothing to lift: SSH windows pace an upload."""

    def signed_in(self) -> None:
        """Sign-in is over: the grace deadline stops applying."""
        self._server.signed_in()


async def read_proxy_header(sock: socket.socket, timeout: float) -> Header | ProxyError:
    """The PROXY header at the start of `sock`, taken off it and nothing more: the bytes
    after it are the client's SSH version line, which asyncssh must read."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            peeked = sock.recv(V1_MAX + 16 + V2_MAX_BODY, socket.MSG_PEEK)
        except BlockingIOError:
            peeked = b""
        except OSError as exc:
            return ProxyError(f"socket error: {exc}")
        result = parse(peeked) if peeked else None
        if isinstance(result, Header):
            sock.recv(result.length)
            return result
        if isinstance(result, ProxyError):
            return result
        # Peeking leaves the bytes readable: wait a moment for the rest, not for readability.
        await asyncio.sleep(0.01)
    return ProxyError("timeout")


class SshListener:
    """The SSH port; `close()`, `wait_closed()`.

    Without the PROXY protocol, asyncssh listens itself (one set of connection options
    for every caller). With it, the listener accepts each socket, takes the PROXY header
    off it (from trusted proxies only) and runs asyncssh's server on what follows.
    """

    def __init__(self, board: Node, admission: Admission, node: str) -> None:
        self.board = board
        self.admission = admission
        self.node = node
        self.trusted = Trusted(board.config.trusted_proxies)
        self.key = load_host_key(Path(board.config.ssh_host_key))
        self._server: Any = None
        self._sock: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None
        self._callers: set[asyncio.Task[None]] = set()

    def _options(self) -> dict[str, Any]:
        config = self.board.config
        return {
            "server_host_keys": [self.key],
            "encoding": None,
            "line_editor": False,
            "login_timeout": config.login_grace,
            "agent_forwarding": False,
            "x11_forwarding": False,
            "allow_scp": False,
            "keepalive_interval": 60,
            "server_version": "LotusBBS",
        }

    def _factory(self, peer: tuple[str, int] | None = None) -> Callable[[], BoardSshServer]:
        def make() -> BoardSshServer:
            return BoardSshServer(self.board, self.admission, self.node, self.board.handle, peer)

        return make

    async def start(self) -> None:
        """Listen on `ssh_port`."""
        config = self.board.config
        if not config.proxy_protocol:
            self._server = await asyncssh.create_server(
                self._factory(), config.host, config.ssh_port, **self._options()
            )
            return
        self._sock = socket.create_server((config.host, config.ssh_port), reuse_port=False)
        self._sock.setblocking(False)
        self._task = asyncio.get_running_loop().create_task(self._accept())

    async def _accept(self) -> None:
        assert self._sock is not None
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, peer = await loop.sock_accept(self._sock)
            except OSError as exc:
                log.warning("SSH accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            task = loop.create_task(self._serve(sock, (str(peer[0]), int(peer[1]))))
            self._callers.add(task)
            task.add_done_callback(self._callers.discard)

    async def _serve(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        config = self.board.config
        if peer[0] not in self.trusted:
            log_event("refused", "untrusted_proxy", addr=peer[0], node=self.node)
            sock.close()
            return
        header = await read_proxy_header(sock, config.proxy_timeout)
        if isinstance(header, ProxyError):
            log_event("refused", "proxy_header", addr=peer[0], node=self.node, detail=header.reason)
            sock.close()
            return
        try:
            await asyncssh.run_server(
                sock,
                server_factory=self._factory(header.src or peer),
                connect_timeout=config.login_grace + 5,
                **self._options(),
            )
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            # A client that leaves before or during authentication: nothing to tell it.
            log.debug("SSH connection from %s ended before sign-in: %s", peer[0], exc)
            sock.close()

    def close(self) -> None:
        """Stop accepting callers."""
        if self._server is not None:
            self._server.close()
        if self._task is not None:
            self._task.cancel()
        if self._sock is not None:
            self._sock.close()

    async def wait_closed(self) -> None:
        """Wait until the listener stopped (callers' sessions end through the board)."""
        if self._server is not None:
            await self._server.wait_closed()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._callers):
            task.cancel()


async def start_ssh_server(board: Node, admission: Admission, node: str = "-") -> SshListener:
    """Listen for SSH callers on `ssh_port`; each session channel runs `board.handle`."""
    listener = SshListener(board, admission, node)
    await listener.start()
    return listener
