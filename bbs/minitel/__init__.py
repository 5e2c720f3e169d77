"""3616 LOTUSTEL: Minitel callers over a WebSocket (emulators, serial bridges), same Session."""
