"""docker-compose.yml describes PostgreSQL plus the board (no Docker engine runs here: parse it)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_services_are_postgres_and_board() -> None:
    services = load()["services"]
    assert isinstance(services, dict)
    assert set(services) == {"db", "board"}
    assert str(services["db"]["image"]).startswith("postgres:")
    assert "healthcheck" in services["db"] and "healthcheck" in services["board"]


def test_board_port_published_and_points_at_postgres() -> None:
    board = load()["services"]["board"]  # type: ignore[index]
    assert "2323:2323" in board["ports"]
    env = board["environment"]
    assert env["BBS_DB"].startswith("postgresql://")
    assert "@db:5432/" in env["BBS_DB"]
    assert env["BBS_HOST"] == "0.0.0.0"
    assert board["depends_on"]["db"]["condition"] == "service_healthy"


def test_dockerfile_builds_what_compose_runs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install" in dockerfile and "COPY data" in dockerfile and "COPY menus" in dockerfile
    command = " ".join(load()["services"]["board"]["command"])  # type: ignore[index]
    assert "bbs db upgrade" in command and "bbs load" in command and "bbs serve" in command
