"""The board's SSH front end: asyncssh running the same Session as telnet, one per channel."""
