"""What each area tells a caller once signed in (new replies, new posts, a queue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bbs.services.assistance import on_sign_in as assistance_news
from bbs.services.forums import on_sign_in as forum_news
from bbs.services.incidents import on_sign_in as incident_news
from bbs.services.knowledge import on_sign_in as knowledge_news

if TYPE_CHECKING:
    from bbs.services.registry import Node
    from bbs.session.session import Session


async def after_sign_in(session: Session, board: Node) -> None:
    """What each area tells a caller once signed in (new replies, new posts)."""
    # Sign-in news is shown at the first prompt, under the index, not wiped by it.
    with session.deferred():
        for news in (assistance_news, incident_news, knowledge_news, forum_news):
            await news(session, board)
