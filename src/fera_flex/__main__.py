"""``python -m fera_flex``: the command line."""

from fera_flex.cli import main

raise SystemExit(main())
