"""A fake WhatsApp Cloud API (Graph API) on 127.0.0.1, for tests, the benchmark and the sandbox.

It answers ``POST /<version>/<phone-number-id>/messages`` like Meta does (a message id, or an
``{"error": {...}}`` body), records every request, and can be told to misbehave:

    with FakeWhatsApp(latency=0.05) as api:          # every answer takes 50 ms
        api.fail_next(2, status=429, retry_after=1)   # the next two requests are throttled
        api.fail_rate(0.3, status=500)                # then 30% of requests fail (seeded)
        api.fail_for("14255550100", code=131026)      # this recipient is undeliverable (400)
        api.hang_next(1, seconds=2)                   # the next request times out on the client
        api.rotate_token("new-token")                 # the old token now gets 401 (code 190)
        ... point WHATSAPP_BASE_URL at api.url, send ...
        api.delivered_to()                            # recipients whose messages were accepted

Standard library only. Run ``python -m local.fake_whatsapp`` to keep one running and watch it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"  # never another interface
DEFAULT_TOKEN = "fake-whatsapp-token"  # noqa: S105 -- a placeholder the fake accepts, not a credential
DEFAULT_PHONE_NUMBER_ID = "109876543210987"
_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/messages$")
CONTROL_PREFIX = "/_fake/"  # the fake's own API: GET messages, POST reset, POST faults
_FAULT_BODIES = {
    401: (190, "Error validating access token: Session has expired."),
    429: (130429, "(#130429) Rate limit hit"),
    500: (1, "An unknown error occurred"),
    502: (2, "Service temporarily unavailable"),
    503: (2, "Service temporarily unavailable"),
    504: (2, "Service temporarily unavailable"),
}


@dataclass(frozen=True)
class Fault:
    status: int = 503
    retry_after: float | None = None
    code: int | None = None
    hang_seconds: float = 0.0  # > 0: answer only after this long (the client should time out first)


@dataclass
class Received:
    """One request as the fake saw it, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any  # parsed JSON, or None
    status: int = 0
    message_id: str | None = None
    at: float = field(default_factory=time.monotonic)
    received_at: float = field(default_factory=time.time)  # wall clock, for showing it

    @property
    def to(self) -> str | None:
        return self.body.get("to") if isinstance(self.body, dict) else None

    @property
    def token(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def graph_error(code: int, message: str, *, transient: bool = False) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "FAKE"}
    if transient:
        error["is_transient"] = True
    return {"error": error}


def problem_with(body: Any) -> str | None:
    """Why ``body`` is not a template message the Cloud API accepts (None: it is)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not isinstance(body.get("to"), str) or not body["to"]:
        return "to is required"
    if body.get("type") != "template":
        return "this fake only takes template messages"
    template = body.get("template")
    if not isinstance(template, dict) or not isinstance(template.get("name"), str):
        return "template.name is required"
    language = template.get("language")
    if not isinstance(language, dict) or not isinstance(language.get("code"), str):
        return "template.language.code is required"
    if "components" in template and not isinstance(template["components"], list):
        return "template.components must be a list"
    return None


class FakeWhatsApp:
    """The fake API's state and knobs; thread-safe. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        token: str = DEFAULT_TOKEN,
        phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
        port: int = 0,
        seed: int = 0,
        on_request: Callable[[Received], None] | None = None,
    ) -> None:
        self.latency = latency
        self.token = token
        self.phone_number_id = phone_number_id
        self.requests: list[Received] = []
        self._on_request = on_request
        self._faults: deque[Fault] = deque()
        self._rate = 0.0
        self._rate_fault = Fault()
        self._by_recipient: dict[str, Fault] = {}
        self._random = random.Random(seed)  # noqa: S311 -- fault injection, not security
        self._ids = 0
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at once
        self._lock = threading.Lock()
        self._server = _Server((HOST, port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeWhatsApp:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeWhatsApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- knobs ------------------------------------------------------------------------------------
    def fail_next(
        self, count: int = 1, *, status: int = 503, retry_after: float | None = None, code: int | None = None
    ) -> None:
        """The next ``count`` requests (in arrival order) fail with ``status``."""
        with self._lock:
            self._faults.extend(Fault(status, retry_after, code) for _ in range(count))

    def hang_next(self, count: int = 1, *, seconds: float = 2.0) -> None:
        """The next ``count`` requests get no answer for ``seconds`` (then a 504 nobody reads)."""
        with self._lock:
            self._faults.extend(Fault(504, hang_seconds=seconds) for _ in range(count))

    def fail_rate(
        self, rate: float, *, status: int = 500, retry_after: float | None = None, seed: int | None = None
    ) -> None:
        """From now on, each request fails with probability ``rate`` (0 turns it off)."""
        with self._lock:
            self._rate = rate
            self._rate_fault = Fault(status, retry_after)
            if seed is not None:
                self._random.seed(seed)

    def fail_for(self, to: str, *, status: int = 400, code: int = 131026) -> None:
        """Every message to ``to`` (digits, as sent) fails; 131026 is Meta's 'undeliverable'."""
        with self._lock:
            self._by_recipient[to.lstrip("+")] = Fault(status, code=code)

    def rotate_token(self, token: str) -> None:
        """Accept only ``token`` from now on: requests with the old one get 401 (code 190)."""
        with self._lock:
            self.token = token

    def reset(self) -> None:
        """Forget requests and faults (keeps latency and token)."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._by_recipient.clear()
            self._rate = 0.0
            self.max_in_flight = 0

    # -- what happened ----------------------------------------------------------------------------
    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.message_id]

    def delivered_to(self) -> list[str]:
        """Recipients (as sent, digits) of accepted messages, in the order they were accepted."""
        return [r.to or "" for r in self.accepted()]

    def messages(self) -> list[dict[str, Any]]:
        """Every request, JSON-friendly: for a page or an API that shows what the fake received."""
        with self._lock:
            return [
                {
                    "to": r.to,
                    "template": (r.body or {}).get("template") if isinstance(r.body, dict) else None,
                    "status": r.status,
                    "messageId": r.message_id,
                    "receivedAt": _iso(r.received_at),
                }
                for r in self.requests
            ]

    # -- answering (called by the handler threads) ------------------------------------------------
    def _answer(self, request: Received) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            latency = self.latency
            expected_token = self.token
        try:
            return self._respond(request, latency, expected_token)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _respond(
        self, request: Received, latency: float, expected_token: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if latency:
            time.sleep(latency)
        match = _PATH.match(request.path)
        if request.method != "POST" or not match or match.group(2) != self.phone_number_id:
            return 404, graph_error(100, "Unsupported post request: unknown path"), {}
        if request.token != expected_token:
            return 401, graph_error(190, "Error validating access token: Session has expired."), {}
        fault = self._take_fault(request)
        if fault is not None:
            if fault.hang_seconds:
                time.sleep(fault.hang_seconds)
            code, message = _FAULT_BODIES.get(fault.status, (fault.code or 100, "Invalid parameter"))
            code = fault.code or code
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            transient = fault.status == 429 or fault.status >= 500
            return fault.status, graph_error(code, message, transient=transient), headers
        if "application/json" not in request.headers.get("content-type", ""):
            return 400, graph_error(100, "(#100) The request body must be JSON"), {}
        problem = problem_with(request.body)
        if problem:
            return 400, graph_error(100, f"(#100) Invalid parameter: {problem}"), {}
        with self._lock:
            self._ids += 1
            request.message_id = f"wamid.FAKE{self._ids:08d}"
        to = request.to or ""
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": request.message_id}],
        }
        return 200, answer, {}

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """The fake's own API, for a fake running in another process (see FakeWhatsAppProcess)."""
        action = path[len(CONTROL_PREFIX) :]
        if method == "GET" and action == "messages":
            return 200, {"messages": self.messages(), "maxInFlight": self.max_in_flight}
        if method == "POST" and action == "reset":
            self.reset()
            return 200, {}
        if method == "POST" and action == "faults" and isinstance(body, dict):
            if "latency" in body:
                self.latency = float(body["latency"])
            if "failRate" in body:
                self.fail_rate(
                    float(body["failRate"]), status=int(body.get("status", 500)), seed=body.get("seed")
                )
            if body.get("failNext"):
                self.fail_next(int(body["failNext"]), status=int(body.get("status", 503)))
            return 200, {}
        return 404, {"error": "unknown control request"}

    def _take_fault(self, request: Received) -> Fault | None:
        with self._lock:
            if (request.to or "").lstrip("+") in self._by_recipient:
                return self._by_recipient[(request.to or "").lstrip("+")]
            if self._faults:
                return self._faults.popleft()
            if self._rate and self._random.random() < self._rate:
                return self._rate_fault
        return None

    def _finished(self, request: Received) -> None:
        if self._on_request is not None:
            self._on_request(request)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # fifty clients connecting at once must not overflow the backlog
    fake: FakeWhatsApp

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and closed its socket is expected here, not an error


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Meta's API
    disable_nagle_algorithm = True  # else headers and body in two writes wait on a delayed ACK (~40 ms)
    server: _Server

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if self.path.startswith(CONTROL_PREFIX):
            status, answer = self.server.fake._control(method, self.path, body)
            self._write(status, answer, {})
            return
        request = Received(
            method=method,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            raw=raw,
            body=body,
        )
        fake = self.server.fake
        status, answer, headers = fake._answer(request)
        request.status = status
        self._write(status, answer, headers)
        fake._finished(request)

    def _write(self, status: int, answer: Any, headers: dict[str, str]) -> None:
        payload = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the client gave up (a timeout we injected)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the sandbox read ``requests`` instead


class FakeWhatsAppProcess:
    """The fake in a child process (``python -m local.fake_whatsapp``), driven through its control API.

    For measurements: a fake in the same process competes with the sender for the GIL, which a real
    remote API does not. Offers ``url``, ``token``, ``phone_number_id``, ``messages()``, ``reset()``
    and ``faults(...)``.
    """

    def __init__(self, *, latency: float = 0.0, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self.phone_number_id = DEFAULT_PHONE_NUMBER_ID
        self._arguments = ["--port", "0", "--latency", str(latency), "--token", token, "--quiet"]
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> FakeWhatsAppProcess:
        root = Path(__file__).resolve().parent.parent
        self._process = subprocess.Popen(  # noqa: S603 -- our own module, fixed arguments
            [sys.executable, "-m", "local.fake_whatsapp", *self._arguments],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        first = self._process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        if not match:
            self.__exit__()
            raise RuntimeError(f"the fake WhatsApp API did not start: {first!r}")
        self.url = match.group(1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None

    def _call(self, method: str, action: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 -- http://127.0.0.1 only
            f"{self.url}{CONTROL_PREFIX}{action}",
            data=json.dumps(body or {}).encode() if method == "POST" else None,
            headers={"Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    def messages(self) -> list[dict[str, Any]]:
        return self._call("GET", "messages")["messages"]

    def delivered_to(self) -> list[str]:
        return [m["to"] for m in self.messages() if m["messageId"]]

    def reset(self) -> None:
        self._call("POST", "reset")

    def faults(self, **settings: Any) -> None:
        """latency, failRate (+ status, seed), failNext (+ status)."""
        self._call("POST", "faults", settings)


def main(argv: list[str] | None = None) -> int:
    from optin.masking import mask  # local/__init__ puts lambdas/ on the path

    parser = argparse.ArgumentParser(description="A fake WhatsApp Cloud API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of requests answered 500")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bearer token it accepts")
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    args = parser.parse_args(argv)

    def show(request: Received) -> None:
        template = (request.body or {}).get("template", {}) if isinstance(request.body, dict) else {}
        print(
            f"{request.status} to={mask(request.to)} template={template.get('name')} id={request.message_id}"
        )

    fake = FakeWhatsApp(
        latency=args.latency, port=args.port, token=args.token, on_request=None if args.quiet else show
    )
    fake.fail_rate(args.fail_rate)
    fake.start()
    print(f"Fake WhatsApp Cloud API at {fake.url}")
    print(f"  WHATSAPP_BASE_URL={fake.url} WHATSAPP_PHONE_NUMBER_ID={fake.phone_number_id}")
    print(f"  token: {fake.token} (a placeholder)  Ctrl-C stops.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
