"""The board on HTTP: the web site, its JSON API and the browser terminal (aiohttp)."""
