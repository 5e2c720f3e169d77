"""Terminal capabilities, detection, markup rendering per tier and per-session encodings."""
