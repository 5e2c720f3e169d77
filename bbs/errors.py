"""Errors that reach a person: each carries one clear line, never a traceback."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the command line or configuration; the CLI prints it and exits 2."""
