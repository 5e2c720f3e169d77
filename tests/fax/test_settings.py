"""Fax settings: off by default, read from the environment, refused when unusable."""

from __future__ import annotations

import pytest

from bbs.config import load_config
from bbs.errors import UsageError


def test_the_fax_line_is_off_unless_set() -> None:
    config = load_config(environ={})
    assert config.fax_port == 0 and config.fax_command == ""
    assert config.fax_spool == "var/fax"
    on = load_config(environ={"BBS_FAX_PORT": "2324", "BBS_FAX_COMMAND": "sendfax -d {number}"})
    assert on.fax_port == 2324 and on.fax_command == "sendfax -d {number}"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BBS_FAX_PORT", "70000", "fax_port must be between"),
        ("BBS_FAX_RESOLUTION", "super", "fax_resolution must be fine or standard"),
        ("BBS_FAX_PAPER", "a3", "fax_paper must be a4 or letter"),
        ("BBS_FAX_SENDER", "x" * 21, "fax_sender must be 1 to 20 ASCII characters"),
        ("BBS_FAX_SENDER", "Télécopie", "fax_sender must be 1 to 20 ASCII characters"),
        ("BBS_FAX_MAX_PER_CALLER", "0", "fax_max_per_caller must be greater than 0"),
        ("BBS_FAX_WINDOW", "-1", "fax_window must be greater than 0"),
        ("BBS_FAX_COMMAND", "sendfax 'unclosed", "fax_command"),
    ],
)
def test_bad_fax_settings_are_refused(variable: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_config(environ={variable: value})
