"""``python -m local``: run the sandbox (see local/run.py)."""

from local.run import main

raise SystemExit(main())
