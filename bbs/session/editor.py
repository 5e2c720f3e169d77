"""Line editing for prompts that deserve it: prompt_toolkit where the terminal can take it."""

from __future__ import annotations

from collections.abc import Sequence

from bbs.session.session import Session


async def edit_line(
    session: Session, prompt: str, words: Sequence[str], history: Sequence[str]
) -> str:
    """A line typed at `prompt`, with history and Tab completion of `words` when possible.

    prompt_toolkit is created only for the time of the edit (it costs hundreds of KiB
    a session); dumb terminals get the plain editor, which behaves the same minus
    completion.
    """
    if session.caps.tier.ansi and session.server_echo:
        from bbs.session.ptk import prompt_line

        return await prompt_line(session, prompt, words, history)
    return await session.read_line(prompt)
