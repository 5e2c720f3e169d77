"""The board's SSH front end: asyncssh running the same Session as telnet, one per channel."""

import warnings

with warnings.catch_warnings():
    # asyncssh names cryptography's DSA types, which warn on import: nothing for operators.
    warnings.filterwarnings("ignore", message=".*DSA.*")
    import asyncssh  # noqa: F401
