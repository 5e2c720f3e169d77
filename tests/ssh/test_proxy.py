"""SSH behind HAProxy: the PROXY header names the caller, as on telnet."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import asyncssh
import pytest

from bbs.telnet.proxy import v1_header, v2_header
from tests.e2e.harness import running_board
from tests.ssh.conftest import NAME, PASSWORD, ssh_settings

pytestmark = pytest.mark.e2e


def proxied_socket(port: int, header: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), 5)
    sock.sendall(header)
    return sock


async def test_the_header_names_the_caller(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = ssh_settings(database, tmp_path, proxy_protocol=True)
    caplog.set_level(logging.INFO)
    async with running_board(config):
        for header in (
            v2_header(("203.0.113.7", 40000), ("127.0.0.1", config.ssh_port)),
            v1_header(("198.51.100.9", 40001), ("127.0.0.1", config.ssh_port)),
        ):
            sock = proxied_socket(config.ssh_port, header)
            async with asyncssh.connect(
                sock=sock,
                username=NAME,
                password=PASSWORD,
                known_hosts=None,
                client_keys=None,
                agent_path=None,
                preferred_auth="password",
            ):
                pass
    signed = [r.getMessage() for r in caplog.records if "signed in as account" in r.getMessage()]
    assert any(m.startswith("203.0.113.7:40000") for m in signed), signed
    assert any(m.startswith("198.51.100.9:40001") for m in signed), signed


async def test_no_header_is_refused_when_one_is_expected(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = ssh_settings(database, tmp_path, proxy_protocol=True, proxy_timeout=1.0)
    async with running_board(config):
        with pytest.raises((asyncssh.Error, OSError)):
            async with asyncssh.connect(
                "127.0.0.1",
                config.ssh_port,
                username="invite",
                known_hosts=None,
                client_keys=None,
                agent_path=None,
                connect_timeout=10,
            ):
                pass
    assert any("reason=proxy_header" in r.getMessage() for r in caplog.records)
