"""Telnet transport: option negotiation policy on telnetlib3 and the per-connection shell."""
