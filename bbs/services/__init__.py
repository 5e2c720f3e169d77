"""Actions behind menu commands (cmd:NAME): directory look-ups, terminal settings, help."""
