"""CDK infrastructure for sms-optin: one construct per concern, composed by :class:`SmsOptinStack`.

The stack reads the functions' own settings module (``lambdas/optin/settings.py``) to validate the
context at synth time, so ``lambdas/`` must be importable; it is put on ``sys.path`` here.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = PROJECT_ROOT / "lambdas"

if str(LAMBDAS_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDAS_DIR))
