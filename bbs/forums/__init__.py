"""CompuServe-style forums, who is online, pages between callers and the sysop chat."""
