"""The local sandbox: the same handlers, with AWS (DynamoDB, SQS) emulated in-process and no AWS account.

``python -m local`` (``make run``) serves the registration form, the API and a phone simulator at
http://127.0.0.1:8000. The Lambda package (lambdas/optin) of this checkout is put first on the import
path, so the sandbox runs from the repository root without any PYTHONPATH, and never runs another
checkout's code that an editable install (``pip install -e .``, for ``sms-optin``) left on the path.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LAMBDAS = str(Path(__file__).resolve().parent.parent / "lambdas")
if "optin" not in sys.modules and (not sys.path or sys.path[0] != _LAMBDAS):
    sys.path.insert(0, _LAMBDAS)
