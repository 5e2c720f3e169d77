"""SSH callers driven by asyncssh's client: guest and account sign-in, refusals, resize."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncssh
import pytest

from bbs.accounts import auth, throttle
from bbs.config import Config
from tests.ssh.conftest import NAME, PASSWORD

pytestmark = pytest.mark.e2e


class Line:
    """An SSH session with a PTY: what the board sent so far, and keys to type."""

    def __init__(self, process: asyncssh.SSHClientProcess[bytes]) -> None:
        self.process = process
        self.data = bytearray()
        self._more = asyncio.Event()
        self.closed = False
        self._pump = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while chunk := await self.process.stdout.read(65536):
            self.data += chunk
            self._more.set()
        self.closed = True
        self._more.set()

    def text(self) -> str:
        # An xterm that answers no probe gets Latin-1 from the board.
        return self.data.decode("latin-1")

    async def wait_for(self, text: str, timeout: float = 10.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.text():
            left = deadline - loop.time()
            if left <= 0 or self.closed:
                raise AssertionError(f"{text!r} never came; got:\n{self.text()[-2000:]}")
            self._more.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._more.wait(), left)
        return self.text()

    def type(self, text: str) -> None:
        self.process.stdin.write(text.encode("utf-8"))


@contextlib.asynccontextmanager
async def ssh_line(
    port: int, username: str, password: str | None = None, *, term: str = "xterm"
) -> AsyncIterator[Line]:
    async with asyncssh.connect(
        "127.0.0.1",
        port,
        username=username,
        password=password,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
        preferred_auth="password" if password is not None else "none",
    ) as conn:
        process = await conn.create_process(
            term_type=term, term_size=(80, 60), encoding=None, stderr=asyncssh.STDOUT
        )
        line = Line(process)
        try:
            yield line
        finally:
            process.close()


async def test_invite_comes_in_as_guest_without_a_password(board: Config) -> None:
    async with ssh_line(board.ssh_port, "invite") as line:
        await line.wait_for("Entr")
        line.type("\r")
        screen = await line.wait_for("Index d'aide - Assistance clients Lotus")
        assert "Votre nom" not in screen
        # The channel is 8-bit clean and the client named xterm: UTF-8 or Latin-1 text.
        assert "\x1b[" in screen


async def test_an_account_signs_in_with_its_password(board: Config) -> None:
    async with ssh_line(board.ssh_port, "jean.dupont", PASSWORD) as line:
        await line.wait_for("Entr")
        line.type("\r")
        screen = await line.wait_for("Votre choix")
        assert "Votre nom" not in screen
        assert NAME in screen


async def test_keyboard_interactive_signs_in_too(board: Config) -> None:
    class Answers(asyncssh.SSHClient):
        prompts: list[str] = []  # noqa: RUF012

        def kbdint_auth_requested(self) -> str:
            return ""

        def kbdint_challenge_received(
            self, name: str, instructions: str, lang: str, prompts: object
        ) -> list[str]:
            asked = list(prompts)  # type: ignore[call-overload]
            Answers.prompts += [p for p, _ in asked]
            return [PASSWORD for _ in asked]

    async with asyncssh.connect(
        "127.0.0.1",
        board.ssh_port,
        username=NAME,
        client_factory=Answers,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
        preferred_auth="keyboard-interactive",
    ) as conn:
        process = await conn.create_process(term_type="vt100", term_size=(80, 60), encoding=None)
        line = Line(process)
        await line.wait_for("Entr")
        line.type("\r")
        await line.wait_for(NAME)
        process.close()
    assert Answers.prompts and "Mot de passe" in Answers.prompts[0]


async def test_a_wrong_password_is_refused(board: Config) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        async with ssh_line(board.ssh_port, NAME, "not-the-password"):
            pass


async def test_the_name_locks_after_repeated_failures(
    board: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each attempt comes a minute later than the one before: the waits between failures
    # are over, only the lock is left.
    now = [datetime(2026, 12, 1, 10, tzinfo=UTC)]

    def later() -> datetime:
        now[0] += timedelta(seconds=61)
        return now[0]

    monkeypatch.setattr(auth, "clock", later)
    banners: list[str] = []

    class Client(asyncssh.SSHClient):
        def auth_banner_received(self, msg: str, lang: str) -> None:
            banners.append(msg)

    async def attempt(password: str) -> bool:
        try:
            async with asyncssh.connect(
                "127.0.0.1",
                board.ssh_port,
                username=NAME,
                password=password,
                client_factory=Client,
                known_hosts=None,
                client_keys=None,
                agent_path=None,
                preferred_auth="password",
            ):
                return True
        except asyncssh.PermissionDenied:
            return False
        except (asyncssh.ConnectionLost, ConnectionError):
            # The board hangs up after its third refusal on one connection.
            return False

    for _ in range(throttle.LOCK_AFTER):
        assert not await attempt("wrong")
    assert not await attempt(PASSWORD)
    assert any("bloqué" in b for b in banners), banners


async def test_window_change_reaches_the_session(board: Config) -> None:
    async with ssh_line(board.ssh_port, "invite") as line:
        await line.wait_for("Entr")
        line.type("\r")
        await line.wait_for("Votre choix")
        line.data.clear()
        line.process.change_terminal_size(120, 40)
        # The session redraws its screen for the new size at the prompt.
        await line.wait_for("Votre choix")
        assert "\x1b[2J" in line.text()
