"""Callers' accounts: registration, sign-in, passwords, lockouts and roles."""
