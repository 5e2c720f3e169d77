"""docker-compose.yml and deploy/haproxy.cfg describe PostgreSQL, two board nodes and HAProxy
in front of them (no Docker engine runs here: the files are parsed and checked against each
other; tests/multinode/ runs the same topology with a real HAProxy)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

from bbs.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
NODES = ("node1", "node2")
HAPROXY_CFG_IN_IMAGE = "/usr/local/etc/haproxy/haproxy.cfg"


def load() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def services() -> dict[str, Any]:
    found = load()["services"]
    assert isinstance(found, dict)
    return found


def haproxy_sections() -> dict[str, list[list[str]]]:
    """deploy/haproxy.cfg as {"section name": [keyword lines split into words]}."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for raw in (ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            current = sections.setdefault(" ".join(line.split()), [])
        else:
            current.append(line.split())
    return sections


def section(prefix: str) -> list[list[str]]:
    """The one section whose header starts with `prefix` ("backend", "frontend", ...)."""
    found = [lines for name, lines in haproxy_sections().items() if name.startswith(prefix)]
    assert len(found) == 1, f"expected one {prefix} section in deploy/haproxy.cfg"
    return found[0]


def seconds(value: str) -> float:
    """An HAProxy time ("5s", "2h", "500ms"; a bare number is milliseconds) in seconds."""
    units = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    number = value.rstrip("abcdefghijklmnopqrstuvwxyz")
    return float(number) * units.get(value[len(number) :], 1e-3)


def words(lines: list[list[str]], keyword: str) -> list[list[str]]:
    return [line[1:] for line in lines if line[0] == keyword]


def test_services_are_postgres_two_nodes_and_haproxy() -> None:
    found = services()
    assert set(found) == {"db", *NODES, "haproxy"}
    assert str(found["db"]["image"]).startswith("postgres:")
    assert "healthcheck" in found["db"]
    assert str(found["haproxy"]["image"]).startswith("haproxy:")
    for name in NODES:
        assert "healthcheck" in found[name]


def test_only_haproxy_is_published_on_2323() -> None:
    found = services()
    assert found["haproxy"]["ports"][0] == "2323:2323"
    # SSH and 3616 LOTUSTEL (the Minitel WebSocket) too.
    assert {"2222:2222", "3616:3616"} <= set(found["haproxy"]["ports"])
    for name in ("db", *NODES):
        assert "ports" not in found[name], f"{name} must be reached through HAProxy only"


def test_nodes_run_the_same_board_on_postgres() -> None:
    found = services()
    node1, node2 = (found[name] for name in NODES)
    assert node1 == node2, "the two nodes differ: any node must be able to start first"
    for node in (node1, node2):
        env = node["environment"]
        assert env["BBS_DB"].startswith("postgresql://") and "@db:5432/" in env["BBS_DB"]
        assert env["BBS_HOST"] == "0.0.0.0"
        assert node["depends_on"]["db"]["condition"] == "service_healthy"
        command = " ".join(node["command"])
        # Each node may run these first: both are idempotent and queue on the store's lock.
        assert command.index("bbs db upgrade") < command.index("bbs load") < command.index("serve")


def test_nodes_share_one_upload_area() -> None:
    found = services()
    workdir = next(
        line.split()[1]
        for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.startswith("WORKDIR")
    )
    upload_dir = f"{workdir}/{Config().upload_dir}"
    for name in NODES:
        volumes = found[name]["volumes"]
        assert f"uploads:{upload_dir}" in volumes, f"{name} keeps uploads to itself"
    assert "uploads" in load()["volumes"]


def test_proxy_protocol_on_both_sides_agrees() -> None:
    found = services()
    env = found["node1"]["environment"]
    config = load_config(environ={k: str(v) for k, v in env.items()})
    assert config.proxy_protocol is True
    assert config.port == 2323
    trusted = [ipaddress.ip_network(entry) for entry in config.trusted_proxies]
    assert all(net.prefixlen >= 8 for net in trusted), "trusting the whole internet"
    # HAProxy sits on the network whose subnet the nodes trust, and the nodes are on it.
    networks = load()["networks"]
    haproxy_networks = found["haproxy"]["networks"]
    assert len(haproxy_networks) == 1
    front = haproxy_networks[0]
    subnet = ipaddress.ip_network(networks[front]["ipam"]["config"][0]["subnet"])
    ends = (subnet.network_address, subnet.broadcast_address)
    assert any(all(end in net for end in ends) for net in trusted)
    for name in NODES:
        assert front in found[name]["networks"]
    assert front not in found["db"]["networks"]
    # The database's network is not one HAProxy reaches.
    assert set(found["db"]["networks"]).isdisjoint(haproxy_networks)


def test_haproxy_config_is_mounted_and_names_both_nodes() -> None:
    found = services()
    mounts = found["haproxy"]["volumes"]
    assert f"./deploy/haproxy.cfg:{HAPROXY_CFG_IN_IMAGE}:ro" in mounts
    backend = section("backend nodes")
    defaults = words(backend, "default-server")
    servers = words(backend, "server")
    assert [s[0] for s in servers] == list(NODES)
    node_port = found["node1"]["environment"]["BBS_PORT"]
    for server in servers:
        assert server[1] == f"{server[0]}:{node_port}", "a server is not its compose service"
        options = server[2:] + (defaults[0] if defaults else [])
        assert "send-proxy-v2" in options and "check" in options
    assert words(backend, "balance") == [["leastconn"]]


def test_haproxy_relays_tcp_on_the_published_port() -> None:
    assert ["tcp"] in words(section("defaults"), "mode")
    binds = words(section("frontend telnet"), "bind")
    assert binds and binds[0][0].rsplit(":", 1)[1] == "2323"
    # Calls last long: HAProxy must not cut a caller the board still considers active.
    timeouts = {t[0]: seconds(t[1]) for t in words(section("defaults"), "timeout")}
    for side in ("client", "server"):
        assert timeouts[side] > Config().idle_timeout, f"timeout {side} cuts idle callers"


def test_dockerfile_builds_what_compose_runs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install" in dockerfile and "COPY data" in dockerfile and "COPY menus" in dockerfile
    for name in NODES:
        assert services()[name]["build"] == "."


def test_ssh_and_minitel_reach_the_nodes_through_haproxy() -> None:
    env = services()["node1"]["environment"]
    config = load_config(environ={k: str(v) for k, v in env.items()})
    assert (config.ssh_port, config.minitel_port) == (2222, 3616)
    assert "sshkey:/board/var/ssh" in services()["node1"]["volumes"]
    assert config.ssh_host_key.startswith("/board/var/ssh/")
    ssh = section("backend ssh_nodes")
    assert all("send-proxy-v2" in line for line in ssh if line[0] == "default-server")
    assert {line[2] for line in ssh if line[0] == "server"} == {"node1:2222", "node2:2222"}
    minitel = section("frontend minitel")
    assert ["option", "forwardfor"] in minitel and ["mode", "http"] in minitel
