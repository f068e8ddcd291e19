"""The sandbox's HTTP server (stdlib only), bound to 127.0.0.1.

Routes:
  GET  /, /<file>                 the registration form from web/ (config.json points it at this server)
  POST /register, POST /validate  the API: API Gateway events through the real Lambda handlers
  POST /broadcasts                the API's WhatsApp broadcast; answers once the queue is drained
  GET  /sandbox                   the phone simulator page
  GET  /sandbox/messages?phone=   texts sent to a number, oldest first            (contract)
  POST /sandbox/inbound           a two-way SMS from a handset, through SNS/SQS   (contract)
  GET  /sandbox/contacts/<phone>  the stored contact and its audit trail          (contract)
  GET  /sandbox/schedules?phone=  the follow-up sequence and pending schedules    (contract)
  POST /sandbox/schedules/send-due  fire pending follow-ups now ({"phone"} optional) (contract)
  GET  /sandbox/whatsapp/messages what the fake WhatsApp Cloud API received       (contract)
  GET  /sandbox/broadcasts        each broadcast's per-endpoint results            (contract)
  GET  /sandbox/phones, GET /sandbox/conversation?phone=, POST /sandbox/reset     (for the simulator page)
  /sandbox/admin/...              the sms-optin admin tool's target (--sandbox URL): the same service
                                  it runs against a stack, on the sandbox's tables        (contract)
    GET  /sandbox/admin/contacts/<phone>   the record: the contact and its audit trail
    GET  /sandbox/admin/export?status=&source=&since=&until=&by=&audit=   JSON lines, streamed
    POST /sandbox/admin/erase {"phone", "reason"}
    POST /sandbox/admin/import {"row", "line", "as", "apply", "lookup", "source"}   one CSV row
    POST /sandbox/admin/optouts/sync {"apply"}
    GET  /sandbox/admin/optouts            End User Messaging's opt-out list, as the sandbox emulates it
    POST /sandbox/admin/optouts {"phone"}  put a number on it, as a carrier or AWS opt-out would
  GET  /openapi.json              docs/openapi.json: the API and the routes marked (contract)
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from local.fake_whatsapp import Received
from local.outbox import Message
from local.sandbox import API_ROUTES, E164, BadRequest, HttpRequest, Sandbox
from optin.admin.adapters import ProfileFilter
from optin.clock import parse_iso
from optin.consent import Status
from optin.consent_records import ImportAs
from optin.masking import mask
from optin.request_body import BodyError, check_media_type, load_json

ROOT: Final = Path(__file__).resolve().parent.parent
WEB_ROOT: Final = ROOT / "web"
STATIC_ROOT: Final = Path(__file__).resolve().parent / "static"
DOCS_ROOT: Final = ROOT / "docs"
# The methods API Gateway has a method for on each API route (OPTIONS: the CORS preflight); any other
# is answered 405 here, before a handler runs, as docs/openapi.json promises.
API_METHODS: Final = {"/register": "POST", "/validate": "POST", "/form-token": "GET", "/broadcasts": "POST"}
MAX_BODY: Final = 64 * 1024

CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
# What the stack's CloudFront response headers policy does for the site, so a page that would break
# there (an inline script, a CDN asset) breaks here first.
PAGE_HEADERS: Final = (
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)
# Polled by the simulator page every second: not worth a log line each.
_QUIET_PATHS: Final = (
    "/sandbox/phones",
    "/sandbox/conversation",
    "/sandbox/contacts/",
    "/sandbox/messages",
    "/sandbox/schedules",
    "/sandbox/whatsapp/messages",
    "/sandbox/broadcasts",
)


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (C0, DEL, C1: newlines, ESC of ANSI sequences,
    NUL), line and paragraph separators, format characters (bidi overrides, zero-width) and lone
    surrogates are shown as escapes such as ``\\n``, ``\\x1b`` or ``\\u202e`` instead of acting."""
    return "".join(_escape(ch) if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in text)


_UNPRINTABLE: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def log(line: str) -> None:
    """One line on the terminal, phone numbers masked, control and format characters escaped."""
    print(f"[sandbox {datetime.now():%H:%M:%S}] {mask(printable(line))}", file=sys.stderr, flush=True)


def log_message(message: Message) -> None:
    arrow = f"SMS to {message.to}" if message.direction == "outbound" else f"SMS from {message.sender}"
    log(f'{arrow}: "{message.body}"')


def log_whatsapp(request: Received) -> None:
    """One line per request the fake WhatsApp API answered."""
    template = request.body.get("template") if isinstance(request.body, dict) else None
    name = template.get("name") if isinstance(template, dict) else None
    language = template.get("language", {}).get("code") if isinstance(template, dict) else None
    to = f"+{request.to.lstrip('+')}" if request.to else "?"
    log(f"WhatsApp to {to}: template {name} ({language}), answered {request.status}")


def parse_query(query: str) -> dict[str, str]:
    """Query parameters, with a literal '+' kept as a plus: ?phone=+12065550142 means what it says."""
    return dict(parse_qsl(query.replace("+", "%2B"), keep_blank_values=True))


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox, web_root: Path = WEB_ROOT) -> None:
        super().__init__(address, SandboxHandler)
        self.sandbox = sandbox
        self.web_root = web_root.resolve()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def openapi(self) -> dict[str, Any]:
        """docs/openapi.json as this server answers it (local.openapi.as_served)."""
        from local.openapi import as_served

        return as_served(json.loads((DOCS_ROOT / "openapi.json").read_text("utf-8")), self.url)

    def page_config(self) -> dict[str, Any]:
        """web/config.json, pointed at this server and in step with the settings the texts use."""
        try:
            config = json.loads((self.web_root / "config.json").read_text("utf-8"))
        except (OSError, ValueError):
            config = {}
        settings = self.sandbox.settings
        config.update(
            apiBaseUrl="",  # the page's own origin: this server
            brandName=settings.brand,
            messageFrequency=settings.message_frequency,
            countries=list(settings.allowed_countries),
            defaultCountry=settings.default_country,
            resendCooldownSeconds=settings.resend_cooldown_seconds,
        )
        if settings.message_frequencies:
            config["messageFrequencies"] = dict(settings.message_frequencies)
        return config


class SandboxHandler(BaseHTTPRequestHandler):
    server: SandboxServer
    server_version = "sms-optin-sandbox"
    sys_version = ""

    # -- dispatch -------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, QUERY, ...) is dispatched too, and answered 405 with ``Allow``."""
        if name.startswith("do_") and name[3:].isupper():
            return lambda: self._dispatch(name[3:])
        raise AttributeError(name)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_query(parts.query)
        try:
            if path in API_ROUTES and method not in (API_METHODS[path], "OPTIONS"):
                self._json(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    {"message": "Method not allowed."},
                    [("Allow", API_METHODS[path])],
                )
                return
            if path in API_ROUTES:
                self._api(method, path, query)
                return
            allowed, action = self._route(path, query)
            if method not in allowed:
                self._json(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    {"message": "Method not allowed."},
                    [("Allow", ", ".join(allowed))],
                )
                return
            action()
        except BodyError as exc:  # BadRequest, a body that is not JSON, or not declared as JSON (415)
            self._json(exc.status, exc.to_json())
        except Exception as exc:  # the sandbox keeps serving; the cause is on the terminal
            log(f"error on {method} {path}: {type(exc).__name__}: {exc}")
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": f"Sandbox error: {type(exc).__name__}"})

    def _route(self, path: str, query: dict[str, str]) -> tuple[tuple[str, ...], Callable[[], None]]:
        """The methods a path accepts and what answers it."""
        read = ("GET", "HEAD")
        if path == "/sandbox/inbound":
            return ("POST",), self._inbound
        if path == "/sandbox/reset":
            return ("POST",), self._reset
        if path == "/sandbox/schedules":
            return read, lambda: self._schedules(query)
        if path == "/sandbox/schedules/send-due":
            return ("POST",), lambda: self._send_due(query)
        if path == "/sandbox/whatsapp/messages":
            return read, lambda: self._json(HTTPStatus.OK, self.server.sandbox.whatsapp_messages())
        if path == "/sandbox/broadcasts":
            return read, lambda: self._json(HTTPStatus.OK, self.server.sandbox.broadcasts.listing())
        if path.startswith("/sandbox/contacts/"):
            return read, lambda: self._contact(unquote(path.removeprefix("/sandbox/contacts/")))
        if path == "/sandbox/messages":
            return read, lambda: self._messages(query)
        if path == "/sandbox/conversation":
            return read, lambda: self._conversation(query)
        if path == "/sandbox/phones":
            return read, self._phones
        if path in ("/sandbox", "/sandbox/"):
            return read, lambda: self._file(STATIC_ROOT, "sandbox.html")
        if path.startswith("/sandbox/assets/"):
            return read, lambda: self._file(STATIC_ROOT, unquote(path.removeprefix("/sandbox/assets/")))
        if path.startswith("/sandbox/admin/"):
            return self._admin_route(path.removeprefix("/sandbox/admin"), query)
        if path.startswith("/sandbox/"):
            return read, lambda: self._json(HTTPStatus.NOT_FOUND, {"message": "Not found."})
        if path == "/openapi.json":
            return read, lambda: self._json(HTTPStatus.OK, self.server.openapi())
        if path == "/config.json":
            return read, lambda: self._json(HTTPStatus.OK, self.server.page_config())
        name = "index.html" if path == "/" else unquote(path.lstrip("/"))
        return read, lambda: self._file(self.server.web_root, name)

    # -- the API ----------------------------------------------------------------------------------------
    def _api(self, method: str, path: str, query: dict[str, str]) -> None:
        request = HttpRequest(
            method=method,
            path=path,
            query=query,
            headers=list(self.headers.items()),
            body=self._body(),
            source_ip=self.client_address[0],
        )
        response = self.server.sandbox.invoke_api(request)
        self._send(response.status, response.body, response.headers)

    # -- the sandbox API --------------------------------------------------------------------------------
    def _inbound(self) -> None:
        payload = self._json_body()
        try:
            result = self.server.sandbox.receive(payload)
        except RuntimeError as exc:
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": str(exc)})
            return
        message = result["message"]
        self._json(
            HTTPStatus.ACCEPTED,
            {
                "message": "Processed.",
                "inboundMessageId": message["inboundMessageId"],
                "twoWayMessage": message,
                "replies": result["replies"],
            },
        )

    def _reset(self) -> None:
        self.server.sandbox.reset()
        self._json(HTTPStatus.OK, {"message": "Reset: no contacts, no messages."})

    def _contact(self, phone: str) -> None:
        contact = self.server.sandbox.contact(_phone(phone))
        if contact is None:
            self._json(HTTPStatus.NOT_FOUND, {"message": "No contact for this number."})
        else:
            self._json(HTTPStatus.OK, contact)

    def _messages(self, query: dict[str, str]) -> None:
        phone = _phone(query["phone"]) if "phone" in query else None
        self._json(HTTPStatus.OK, [m.to_json() for m in self.server.sandbox.outbox.sent(phone)])

    def _conversation(self, query: dict[str, str]) -> None:
        phone = _phone(query.get("phone", ""))
        messages = self.server.sandbox.outbox.conversation(phone)
        self._json(HTTPStatus.OK, [{**m.to_json(), "direction": m.direction} for m in messages])

    def _schedules(self, query: dict[str, str]) -> None:
        phone = _phone(query["phone"]) if "phone" in query else None
        self._json(HTTPStatus.OK, self.server.sandbox.schedules(phone))

    def _send_due(self, query: dict[str, str]) -> None:
        payload = self._json_body(optional=True)
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            raise BadRequest(
                "The request body must be a JSON object.",
                {"body": "Send a JSON object."},
                {"body": "not_object"},
            )
        asked = _phone(query["phone"]) if "phone" in query else None  # checked even when the body names one
        value = payload.get("phone")
        if value is not None and not isinstance(value, str):
            raise BadRequest(
                "Use an E.164 number such as +12065550142.",
                {"phone": "Use E.164, e.g. +12065550142."},
                {"phone": "not_text"},
            )
        phone = _phone(value) if value is not None else asked  # the body's wins
        self._json(HTTPStatus.OK, self.server.sandbox.send_due(phone))

    def _phones(self) -> None:
        outbox = self.server.sandbox.outbox
        self._json(HTTPStatus.OK, {"ourNumber": self.server.sandbox.number, "phones": outbox.phones()})

    # -- the admin tool's target (optin.admin) ---------------------------------------------------------
    def _admin_route(self, path: str, query: dict[str, str]) -> tuple[tuple[str, ...], Callable[[], None]]:
        sandbox = self.server.sandbox
        if path.startswith("/contacts/"):
            return ("GET",), lambda: self._admin_show(unquote(path.removeprefix("/contacts/")))
        if path == "/export":
            return ("GET",), lambda: self._admin_export(query)
        if path == "/erase":
            return ("POST",), self._admin_erase
        if path == "/import":
            return ("POST",), self._admin_import
        if path == "/optouts/sync":
            return ("POST",), self._admin_sync
        if path == "/optouts":
            if self.command == "POST":
                return ("GET", "POST"), self._admin_put_opt_out
            return ("GET", "POST"), lambda: self._json(HTTPStatus.OK, sandbox.opt_out_list.listing())
        return ("GET", "HEAD", "POST"), lambda: self._json(HTTPStatus.NOT_FOUND, {"message": "Not found."})

    def _admin_show(self, phone: str) -> None:
        record = self.server.sandbox.admin_show(_phone(phone))
        if record is None:
            self._json(HTTPStatus.NOT_FOUND, {"message": "No contact for this number."})
        else:
            self._json(HTTPStatus.OK, record)

    def _admin_export(self, query: dict[str, str]) -> None:
        where = _profile_filter(query)
        records = self.server.sandbox.admin_export(where, query.get("audit", "0") in ("1", "true"))
        # Streamed, one JSON line per contact as the pages are read: no length is known up front, so the
        # response ends when the connection closes (HTTP/1.0).
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for record in records:
                self.wfile.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        except OSError:  # the client went away: nothing more to say
            log("export: the client closed the connection before the end")
        except Exception as exc:  # the status line is sent: end the stream short, the cause on the terminal
            log(f"export stopped: {type(exc).__name__}: {exc}")
        finally:
            records.close()  # releases the sandbox's tables at once

    def _admin_erase(self) -> None:
        payload = _object(self._json_body())
        phone = _phone(_text(payload, "phone"))
        reason = _text(payload, "reason")
        self._json(HTTPStatus.OK, self.server.sandbox.admin_erase(phone, reason).to_json())

    def _admin_import(self) -> None:
        payload = _object(self._json_body())
        row = payload.get("row")
        if not isinstance(row, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in row.items()
        ):
            raise BadRequest("row must be an object of text cells.", {"row": "An object of text cells."})
        try:
            mode = ImportAs(payload.get("as", ImportAs.PENDING.value))
        except ValueError:
            raise BadRequest("as must be pending or opted-out.", {"as": "pending or opted-out"}) from None
        line = payload.get("line", 0)
        source = payload.get("source", "import")
        if not isinstance(line, int) or not isinstance(source, str):
            raise BadRequest("line must be a number and source text.", {"line": "A number."})
        result = self.server.sandbox.admin_import_row(
            row,
            line,
            mode=mode,
            apply=payload.get("apply") is True,
            lookup=payload.get("lookup") is True,
            source=source,
        )
        self._json(HTTPStatus.OK, result.to_json())

    def _admin_sync(self) -> None:
        payload = self._json_body(optional=True)
        apply = not isinstance(payload, dict) or payload.get("apply", True) is not False
        self._json(HTTPStatus.OK, self.server.sandbox.admin_sync_opt_outs(apply).to_json())

    def _admin_put_opt_out(self) -> None:
        payload = _object(self._json_body())
        phone = _phone(_text(payload, "phone"))
        self.server.sandbox.opt_out_list.put(phone, end_user=payload.get("endUser", True) is True)
        log(f"Opt-out list: {phone} added (as a carrier or AWS opt-out)")
        self._json(HTTPStatus.OK, self.server.sandbox.opt_out_list.listing())

    # -- files ------------------------------------------------------------------------------------------
    def _file(self, root: Path, name: str) -> None:
        if not _servable(root, name):
            self._send(HTTPStatus.NOT_FOUND, b"Not found.\n", [("Content-Type", "text/plain; charset=utf-8")])
            return
        target = (root / name).resolve()
        headers = [("Content-Type", CONTENT_TYPES[target.suffix]), ("Cache-Control", "no-cache")]
        if target.suffix == ".html":
            headers.extend(PAGE_HEADERS)
        self._send(HTTPStatus.OK, target.read_bytes(), headers)

    # -- plumbing ---------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest(
                "Content-Length must be a number.",
                {"Content-Length": "Must be a number of bytes."},
                {"Content-Length": "invalid_value"},
            ) from None
        if length > MAX_BODY:
            raise BadRequest(
                f"The request body is larger than {MAX_BODY} bytes.",
                {"body": f"The request body must be at most {MAX_BODY} bytes."},
                {"body": "body_too_large"},
            )
        return self.rfile.read(length) if length > 0 else b""

    def _json_body(self, optional: bool = False) -> Any:
        """The request's body as JSON (None when empty), read as the API functions read theirs: 415 for
        a Content-Type other than JSON (none counts as JSON), 400 for bytes that are not UTF-8, nesting
        too deep, invalid JSON or a lone surrogate. ``optional``: an empty body is fine whatever its type."""
        raw = self._body()
        if optional and not raw.strip():
            return None
        check_media_type(self.headers.get("Content-Type"))
        return load_json(raw, MAX_BODY)

    def _json(self, status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> None:
        payload = json.dumps(body, indent=1).encode("utf-8")
        self._send(
            status,
            payload,
            [("Content-Type", "application/json"), ("Cache-Control", "no-store"), *(headers or [])],
        )

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in {"content-length", "connection", "date", "server"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(self.path).path
        status = int(code) if isinstance(code, int) or str(code).isdigit() else 0
        quiet = self.command in ("GET", "HEAD") and (path.startswith(_QUIET_PATHS) or status < 400)
        quiet = quiet or (path == "/sandbox/admin/import" and 0 < status < 400)  # one per CSV row
        if not quiet or status >= 500:
            log(f"{self.command} {path} {status or code}")

    def log_message(self, format: str, *args: Any) -> None:
        log(format % args)


def _servable(root: Path, name: str) -> bool:
    """A file of ``root`` we may serve: inside it, not hidden, of a known type. A name the file system
    cannot even look up (a NUL byte, a name too long) is simply not there."""
    try:
        target = (root / name).resolve()
        return (
            target.is_relative_to(root)
            and not any(part.startswith(".") for part in target.relative_to(root).parts)
            and target.suffix in CONTENT_TYPES
            and target.is_file()
        )
    except (ValueError, OSError):
        return False


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise BadRequest(
            "The request body must be a JSON object.", {"body": "Send a JSON object."}, {"body": "not_object"}
        )
    return payload


def _text(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} is required text.", {name: "Required text."}, {name: "required"})
    return value.strip()


def _profile_filter(query: dict[str, str]) -> ProfileFilter:
    """An export's filter from its query string; 400 for a value that is not one."""
    status = query.get("status") or None
    if status is not None and status not in {s.value for s in Status}:
        raise BadRequest("status must be PENDING, CONFIRMED or OPTED_OUT.", {"status": "A consent status."})
    by = query.get("by") or "submitted"
    if by not in ("submitted", "confirmed"):
        raise BadRequest("by must be submitted or confirmed.", {"by": "submitted or confirmed"})
    bounds = {}
    for name in ("since", "until"):
        try:
            bounds[name] = parse_iso(query[name]) if query.get(name) else None
        except ValueError:
            raise BadRequest(f"{name} must be an ISO 8601 time.", {name: "An ISO 8601 time."}) from None
    return ProfileFilter(
        status=Status(status) if status else None,
        source=query.get("source") or None,
        since=bounds["since"],
        until=bounds["until"],
        by=by,
    )


def _phone(value: str) -> str:
    phone = value
    if not E164.match(phone):
        raise BadRequest(
            "Use an E.164 number such as +12065550142.",
            {"phone": "Use E.164, e.g. +12065550142."},
            {"phone": "not_e164"},
        )
    return phone
