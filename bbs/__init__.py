"""lotus-bbs: the Lotus customer-support board of the 1990s, served over telnet."""

__version__ = "0.1.0"
