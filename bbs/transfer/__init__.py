"""File transfers: XMODEM, XMODEM-1K, YMODEM (batch, -G) and ZMODEM, both directions."""
