"""``python -m sipsim`` is the same as the ``sipsim`` console script."""

from sipsim.cli import main

raise SystemExit(main())
