"""The Lotus Knowledge base: subscribers' articles, their search and the CD-ROM archive."""
