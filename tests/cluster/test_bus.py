"""Bus messages fit in one NOTIFY: the longest page or chat line, in the widest characters
and escaped as markup, is far under the cap; a message over it is refused at once."""

from __future__ import annotations

import pytest

from bbs.cluster.bus import MAX_PAYLOAD, PayloadTooLarge, encode
from bbs.forums.presence import CHAT_LINE_MAX, PAGE_MAX
from bbs.terminal.sanitize import user_markup


def test_the_longest_lines_fit_and_an_oversized_message_is_refused() -> None:
    assert MAX_PAYLOAD < 8000
    for length in (PAGE_MAX, CHAT_LINE_MAX):
        markup = "{em}" + user_markup("\U0001f600{}\\" * length) + "{/}: " + user_markup("x")
        payload = encode({"t": "notify", "to": "0123456789abcdef", "m": markup})
        assert len(payload.encode("utf-8")) <= MAX_PAYLOAD
    with pytest.raises(PayloadTooLarge):
        encode({"t": "notify", "to": "x", "m": "\u00e9" * 4000})
