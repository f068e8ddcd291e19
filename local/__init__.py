"""The local sandbox: the same handlers, with AWS (DynamoDB, SQS) emulated in-process and no AWS account.

``python -m local`` (``make run``) serves the registration form, the API and a phone simulator at
http://127.0.0.1:8000. The Lambda package (lambdas/optin) is put on the import path when it is not
there yet, so the sandbox runs from the repository root without any PYTHONPATH.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("optin") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))
