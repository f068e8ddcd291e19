"""``python -m optin.admin``: the same as the ``sms-optin`` command."""

from optin.admin.cli import main

raise SystemExit(main())
