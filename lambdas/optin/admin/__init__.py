"""``sms-optin``: the operator's tool for consent records (look up, export, erase, import, opt-out sync).

Not part of the Lambda bundle (stacks/bundling.py leaves this package out). It is a thin layer over the
services and adapters the functions use: :mod:`optin.admin.service` applies the pure decisions of
:mod:`optin.consent_records` through the same contact store and ``transact`` helper, and the command
line (:mod:`optin.admin.cli`) reaches it either in-process against a deployed stack, or over HTTP through
the sandbox's ``/sandbox/admin/...`` routes, which run the very same service server-side.
"""
