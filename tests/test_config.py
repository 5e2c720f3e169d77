"""Configuration: defaults < TOML file < BBS_* environment < flags; bad values: one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bbs.cli import main
from bbs.config import load_config
from bbs.errors import UsageError


def test_precedence(tmp_path: Path) -> None:
    file = tmp_path / "bbs.toml"
    file.write_text('[bbs]\nport = 2424\nhost = "0.0.0.0"\nbaud = 2400\n', encoding="utf-8")
    config = load_config(str(file), environ={"BBS_PORT": "2525"}, flags={"host": "::1"})
    assert config.port == 2525
    assert config.host == "::1"
    assert config.baud == 2400


def test_defaults() -> None:
    config = load_config(environ={})
    assert (config.host, config.port, config.baud) == ("127.0.0.1", 2323, 0)
    assert config.db.startswith("sqlite:///var/")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BBS_PORT": "deux"}, "BBS_PORT: port must be a number"),
        ({"BBS_BAUD": "1000"}, "baud must be 0"),
        ({"BBS_LANGUAGE": "it"}, "language must be fr, en or de"),
        ({"BBS_PORT": "70000"}, "port must be between"),
    ],
)
def test_bad_values_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_config(environ=environ)


def test_unknown_setting_in_file(tmp_path: Path) -> None:
    file = tmp_path / "bbs.toml"
    file.write_text("colour = 3\n", encoding="utf-8")
    with pytest.raises(UsageError, match="unknown setting 'colour'"):
        load_config(str(file), environ={})


def test_cli_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["serve", "--port", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bbs: ") and err.count("\n") == 1 and "Traceback" not in err
    assert main(["serve", "--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert "cannot read configuration" in err and err.count("\n") == 1
    assert main(["frobnicate"]) == 2
