"""``python -m touchpoint``: the command-line interface."""

from touchpoint.cli import main

raise SystemExit(main())
