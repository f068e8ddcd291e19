"""Start the sandbox: print where it is and what to try, serve until Ctrl-C, then stop cleanly."""

from __future__ import annotations

import errno
import os
import signal
import sys
from types import FrameType

from local.environment import prepare_environment

HOST = "127.0.0.1"  # never another interface: the sandbox has no authentication
DEFAULT_PORT = 8000


def port_from(value: str | None) -> int:
    """PORT from the environment: 8000 when unset, 0 for any free port."""
    if value is None or not value.strip():
        return DEFAULT_PORT
    try:
        port = int(value)
    except ValueError:
        raise SystemExit(f"PORT must be a number between 0 and 65535, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise SystemExit(f"PORT must be a number between 0 and 65535, got {port}")
    return port


def banner(url: str, brand: str) -> str:
    return "\n".join(
        [
            "",
            f"SMS opt-in sandbox for {brand}: the real Lambda handlers, AWS emulated in memory (moto),",
            "and an outbox instead of real texts. Nothing leaves this machine.",
            "",
            f"  Sign-up form     {url}/",
            f"  Phone simulator  {url}/sandbox",
            "",
            "Try this:",
            f"  1. Open {url}/ and sign up with the mobile number (206) 555-0142.",
            f"  2. Open {url}/sandbox?phone=%2B12065550142, read the text and reply YES.",
            f'  3. Run  curl -s {url}/sandbox/contacts/%2B12065550142  and see "status": "CONFIRMED".',
            '  4. On the simulator, "Send due steps now" sends the follow-ups that YES scheduled, and',
            '     "Send broadcast" sends a WhatsApp template to the confirmed contacts (a local fake API).',
            "",
            "Test numbers: (206) 555-0111 is a landline, (206) 555-0122 is VoIP; both are refused.",
            "Press Ctrl-C to stop.",
            "",
        ]
    )


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    port = port_from(os.environ.get("PORT"))
    try:
        prepare_environment()
    except ValueError as error:  # one line naming the variable, no traceback
        raise SystemExit(f"Configuration error: {error}") from None
    print("Starting the sandbox ...", flush=True)
    # Imported only now: the handlers read their settings from the environment when imported.
    from local.sandbox import Sandbox
    from local.server import SandboxServer, log, log_message, log_whatsapp, printable

    sandbox = Sandbox(on_message=log_message, on_whatsapp=log_whatsapp, on_note=log)
    try:
        server = SandboxServer((HOST, port), sandbox)
    except OSError as exc:
        sandbox.close()
        if exc.errno == errno.EADDRINUSE:
            print(f"Port {port} on {HOST} is in use. Stop what uses it, or run: PORT={port + 1} make run")
            return 1
        raise
    signal.signal(signal.SIGTERM, _stop)
    print(banner(server.url, printable(sandbox.settings.brand)), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sandbox.close()
    print("\nSandbox stopped.", flush=True)
    return 0
