"""``python -m hyperpilot`` runs the CLI (``run`` with no arguments runs the default study)."""

from hyperpilot.cli import main

raise SystemExit(main())
