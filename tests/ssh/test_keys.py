"""SSH public keys: parsing what a caller pastes, registering one from the profile screen,
then signing in with it and no password."""

from __future__ import annotations

import asyncssh
import pytest

from bbs.config import Config
from bbs.ssh.keys import BadKey, parse_key
from tests.ssh.conftest import NAME, PASSWORD
from tests.ssh.test_asyncssh_client import Line, ssh_line


def public_line(key: asyncssh.SSHKey, comment: str = "jean@poste") -> str:
    return key.export_public_key("openssh").decode().strip() + " " + comment


def test_an_ed25519_line_is_parsed() -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    parsed = parse_key(public_line(key))
    assert parsed.algorithm == "ssh-ed25519"
    assert parsed.fingerprint == key.get_fingerprint("sha256")
    assert parsed.comment == "jean@poste"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "ssh.key_bad"),
        ("ssh-ed25519 not-base64", "ssh.key_bad"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "ssh.key_bad"),
        ("x" * 9000, "ssh.key_bad"),
    ],
)
def test_what_is_no_key_is_refused(line: str, reason: str) -> None:
    with pytest.raises(BadKey) as refused:
        parse_key(line)
    assert refused.value.reason == reason


def test_a_short_rsa_key_is_too_weak() -> None:
    key = asyncssh.generate_private_key("ssh-rsa", key_size=1024)
    with pytest.raises(BadKey) as refused:
        parse_key(public_line(key))
    assert refused.value.reason == "ssh.key_weak"


async def connect_with(port: int, key: asyncssh.SSHKey) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1",
        port,
        username="jean-dupont",
        client_keys=[key],
        known_hosts=None,
        agent_path=None,
        preferred_auth="publickey",
    )


async def test_a_key_registered_from_the_profile_signs_in(board: Config) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect_with(board.ssh_port, key)
    async with ssh_line(board.ssh_port, NAME, PASSWORD) as line:
        await line.wait_for("Entr")
        line.type("\r")
        await line.wait_for("Votre choix")
        line.type("GO COMPTE\r")
        await line.wait_for("Mes clés SSH")
        line.type("K\r")
        await line.wait_for("Aucune clé enregistrée.")
        line.type("A\r")
        await line.wait_for("Collez la ligne")
        line.type("ssh-ed25519 AAAAgarbage\r")
        await line.wait_for("Ce n'est pas une clé publique OpenSSH")
        line.type("A\r")
        line.data.clear()
        await line.wait_for("Collez la ligne")
        line.type(public_line(key) + "\r")
        await line.wait_for("Clé enregistrée : " + key.get_fingerprint("sha256"))
        await line.wait_for("jamais utilisée")
        line.type("\r")
        await line.wait_for("Votre choix")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect_with(board.ssh_port, stranger)
    conn = await connect_with(board.ssh_port, key)
    async with conn:
        process = await conn.create_process(term_type="xterm", term_size=(80, 60), encoding=None)
        signed = Line(process)
        await signed.wait_for("Entr")
        signed.type("\r")
        screen = await signed.wait_for("Votre choix")
        assert NAME in screen and "Votre nom" not in screen
        signed.type("GO COMPTE\r")
        await signed.wait_for("Mes clés SSH")
        signed.type("K\r")
        await signed.wait_for("utilisée le")
        signed.type("S 1\r")
        await signed.wait_for("Clé supprimée.")
        process.close()
    with pytest.raises(asyncssh.PermissionDenied):
        await connect_with(board.ssh_port, key)
