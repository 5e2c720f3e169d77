"""Load benchmark: the board against a bare telnetlib3 echo server (``python -m bench``)."""
