"""Entry point for `python -m bbs`."""

from bbs.cli import main

raise SystemExit(main())
