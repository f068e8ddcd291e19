"""Benchmarks of issue 2: cold start of the handlers and cost per 1000 submissions.

Run with ``make bench`` (``python -m bench``); see ``bench/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS = ROOT / "lambdas"

# The handlers' package lives in lambdas/ (as in the Lambda asset); local/ is at the project root.
for _path in (str(ROOT), str(LAMBDAS)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
