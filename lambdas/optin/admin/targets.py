"""Where the admin tool works: a deployed stack (``--stack``) or the local sandbox (``--sandbox``).

A stack is found by name with the caller's credentials (``boto3.Session``: the AWS CLI's profile,
environment and region rules; ``--region`` wins). Its CloudFormation outputs name the tables and the
opt-out list. The operations that text or erase (``import``, ``erase``) also need the functions'
settings (brand, texts, limits, keywords, follow-up steps): they read them from the registration
function's environment with ``lambda:GetFunctionConfiguration``, so the tool applies exactly the
configuration the deployed functions run with, and never a second copy of it.

The sandbox keeps its tables in the memory of the ``make run`` process, so there the tool speaks HTTP
to ``/sandbox/admin/...``, which runs the same :class:`optin.admin.service.ConsentAdmin` server-side.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from optin.admin.adapters import DynamoConsentRecords, EndUserMessagingOptOutList, ProfileFilter
from optin.admin.service import ConsentAdmin, EraseResult, RowResult, SyncReport
from optin.clock import iso, utcnow
from optin.consent_records import ImportAs
from optin.settings import Settings, SettingsError
from optin.wiring import Dependencies

# CloudFormation outputs of stacks/stack.py the tool reads.
CONTACTS_OUTPUT = "ContactsTableName"
IDEMPOTENCY_OUTPUT = "IdempotencyTableName"
LOOKUP_CACHE_OUTPUT = "LookupCacheTableName"
OPT_OUT_LIST_OUTPUT = "OptOutListName"
SETTINGS_FUNCTION_OUTPUT = "RegistrationFunctionName"
TABLE_OUTPUTS = (CONTACTS_OUTPUT, IDEMPOTENCY_OUTPUT, LOOKUP_CACHE_OUTPUT)
ADMIN_PATH = "/sandbox/admin"


class TargetError(Exception):
    """The target cannot be used as asked (no such stack, output or sandbox); the message says why."""


class Target(Protocol):
    """What the command line needs; :class:`ConsentAdmin` is one, :class:`SandboxTarget` another."""

    def show(self, phone: str) -> dict[str, Any] | None: ...

    def export(self, where: ProfileFilter, with_audit: bool = False) -> Iterator[dict[str, Any]]: ...

    def erase(self, phone: str, reason: str) -> EraseResult: ...

    def import_row(
        self,
        row: Mapping[str, str | None],
        line: int,
        mode: ImportAs,
        *,
        apply: bool = False,
        lookup: bool = False,
        source: str = "import",
    ) -> RowResult: ...

    def sync_opt_outs(self, apply: bool = True) -> SyncReport: ...


# -- a deployed stack ------------------------------------------------------------------------------------
def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", "")
        if "does not exist" in message:
            raise TargetError(f"There is no stack {stack!r} in this account and region.") from None
        raise TargetError(f"Could not read stack {stack!r}: {message or exc}") from None
    except BotoCoreError as exc:
        raise TargetError(f"Could not read stack {stack!r}: {exc}") from None
    if not stacks:
        raise TargetError(f"There is no stack {stack!r} in this account and region.")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def require_output(outputs: Mapping[str, str], stack: str, name: str) -> str:
    value = outputs.get(name)
    if not value:
        raise TargetError(
            f"Stack {stack!r} has no output {name}: it was deployed by an older version of this project "
            "(run make deploy), or it is not an sms-optin stack."
        )
    return value


def function_settings(lambda_client: Any, function: str) -> Settings:
    """The settings a deployed function runs with (its environment, read through Settings)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        config = lambda_client.get_function_configuration(FunctionName=function)
    except (ClientError, BotoCoreError) as exc:
        raise TargetError(f"Could not read the settings of function {function}: {exc}") from None
    try:
        return Settings.from_env(config.get("Environment", {}).get("Variables", {}))
    except SettingsError as exc:
        raise TargetError(f"Function {function} has settings this tool cannot read: {exc}") from None


def open_stack(
    stack: str,
    region: str | None,
    *,
    function_settings_needed: bool,
    session_factory: Callable[..., Any] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> ConsentAdmin:
    """The admin service on a deployed stack, with the caller's credentials."""
    import boto3

    from optin.adapters.aws import client_config

    session = (session_factory or boto3.Session)(region_name=region)
    if session.region_name is None:
        raise TargetError("No AWS region: pass --region, or set AWS_REGION or a profile's region.")
    outputs = stack_outputs(session.client("cloudformation"), stack)
    tables = {name: require_output(outputs, stack, name) for name in TABLE_OUTPUTS}
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = session.client(service, config=client_config(service))
        return clients[service]

    if function_settings_needed:
        function = require_output(outputs, stack, SETTINGS_FUNCTION_OUTPUT)
        settings = function_settings(client("lambda"), function)
    else:
        settings = Settings(
            contacts_table=tables[CONTACTS_OUTPUT],
            idempotency_table=tables[IDEMPOTENCY_OUTPUT],
            lookup_cache_table=tables[LOOKUP_CACHE_OUTPUT],
            origination_identity=outputs.get("OriginationIdentity", ""),
            own_numbers=tuple(n for n in outputs.get("OwnNumbers", "").split(",") if n),
            configuration_set=outputs.get("ConfigurationSetName") or None,
        )
    records = DynamoConsentRecords(
        client("dynamodb"),
        settings.contacts_table,
        settings.idempotency_table,
        settings.lookup_cache_table,
    )

    def opt_out_list() -> EndUserMessagingOptOutList:
        name = require_output(outputs, stack, OPT_OUT_LIST_OUTPUT)
        # Not the sender's client, which never retries (SendTextMessage has no idempotency token): these
        # calls are safe to repeat, so they get the standard retries of every other client.
        sms = session.client("pinpoint-sms-voice-v2", config=client_config("cloudformation"))
        return EndUserMessagingOptOutList(sms, name)

    return ConsentAdmin(Dependencies(settings, clients=client, clock=clock), records, opt_out_list)


# -- the sandbox (make run) -----------------------------------------------------------------------------
class SandboxTarget:
    """The admin routes of a running sandbox. Only http://127.0.0.1 or localhost: it has no
    authentication."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise TargetError(
                f"--sandbox must be the sandbox's local address, e.g. http://127.0.0.1:8000 (got {url!r})"
            )
        self.url = f"{parts.scheme}://{parts.netloc}"
        self._timeout = timeout

    def _open(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + ADMIN_PATH + path, data=data, method=method)  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            return urllib.request.urlopen(request, timeout=self._timeout)  # noqa: S310 -- local http only
        except urllib.error.HTTPError as error:
            if error.code == 404 and method == "GET" and path.startswith("/contacts/"):
                return None
            try:
                message = json.loads(error.read() or b"{}").get("message") or error.reason
            except ValueError:
                message = error.reason
            raise TargetError(f"The sandbox refused: {message} (HTTP {error.code})") from None
        except (urllib.error.URLError, OSError) as error:
            raise TargetError(
                f"Cannot reach the sandbox at {self.url} ({error}). Is `make run` running?"
            ) from None

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = self._open(method, path, body)
        if response is None:
            return None
        with response:
            return json.loads(response.read())

    def show(self, phone: str) -> dict[str, Any] | None:
        return self._json("GET", "/contacts/" + urllib.parse.quote(phone, safe=""))

    def export(self, where: ProfileFilter, with_audit: bool = False) -> Iterator[dict[str, Any]]:
        query = {"by": where.by, "audit": "1" if with_audit else "0"}
        if where.status is not None:
            query["status"] = where.status.value
        if where.source is not None:
            query["source"] = where.source
        if where.since is not None:
            query["since"] = iso(where.since)
        if where.until is not None:
            query["until"] = iso(where.until)
        response = self._open("GET", "/export?" + urllib.parse.urlencode(query))
        with response:
            for line in response:  # JSON lines, read as they arrive
                if line.strip():
                    yield json.loads(line)

    def erase(self, phone: str, reason: str) -> EraseResult:
        data = self._json("POST", "/erase", {"phone": phone, "reason": reason})
        return EraseResult(
            data["phone"],
            data["outcome"],
            data["eventsDeleted"],
            data["markersDeleted"],
            data["schedulesDeleted"],
            data["lookupDeleted"],
        )

    def import_row(
        self,
        row: Mapping[str, str | None],
        line: int,
        mode: ImportAs,
        *,
        apply: bool = False,
        lookup: bool = False,
        source: str = "import",
    ) -> RowResult:
        body = {
            "row": {k: v for k, v in row.items() if k is not None},
            "line": line,
            "as": mode.value,
            "apply": apply,
            "lookup": lookup,
            "source": source,
        }
        return RowResult.from_json(self._json("POST", "/import", body))

    def sync_opt_outs(self, apply: bool = True) -> SyncReport:
        return SyncReport.from_json(self._json("POST", "/optouts/sync", {"apply": apply}))
