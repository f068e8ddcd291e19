"""``python -m bench.fuzz`` (``make fuzz``): generated request bodies at ``POST /register`` and
``POST /validate`` through the real handlers, a table of the status codes they got.

Each example is an API Gateway REST proxy event built by Hypothesis: valid-looking JSON objects with
wrong types, hostile text (control and format characters, lone surrogates, huge strings), JSON nested
thousands deep, JSON that is not an object, random bytes, bodies flagged base64 that are not, random
Content-Types and headers, and events without ``requestContext.identity``. It goes through the sandbox
engine (``local.sandbox.Sandbox``: the real handlers, moto DynamoDB, the offline carrier lookup, an
outbox instead of SMS). Every answer must be below 500, and every answer that is not a 2xx must be
JSON in the error shape (``message``; for 400, 415 and 422 also ``errors`` and ``codes`` naming the
same fields). The exit status is 1 if any answer broke that, with the first few shown.

``tests/test_fuzz.py`` runs the same strategies for a few hundred examples in ``make test``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import bench  # noqa: F401 -- puts lambdas/ and the project root on sys.path

try:
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - the dev requirements install it
    raise SystemExit("hypothesis is missing: run `make install` (requirements-dev.txt)") from None

ROUTES = ("/register", "/validate")
DEFAULT_EXAMPLES = 10_000
# Test numbers that answer something (local/carrier.py), except (206) 555-0199: that one simulates a
# lookup outage, a 503 on purpose, which is not a client's mistake.
NUMBERS = (
    "2065550142",
    "(206) 555-0143",
    "+1 206 555 0111",
    "+12065550122",
    "206.555.0133",
    "2065550144",
    "613-555-0123",
    "800-555-0100",
    "206-555-CALL",
    "555-01",
    "+44 7400 123456",
    "00 1 206 555 0145",
)
# Pieces of hostile text: controls, ANSI, bidi and zero-width, lone surrogates, URLs, digits, quotes.
PIECES = (
    "\x00",
    "\n",
    "\r\n",
    "\t",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\x85",
    "\x9b",
    "\u2028",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\u3164",
    "\ud800",
    "\udfff",
    "\U0001f600",
    "e\u0301",
    "https://evil.example/x",
    "www.x",
    "a@b",
    "1-900-555-0199",
    '"',
    "\\",
    "{",
    "%00",
    "Carlos",
    " ",
)
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON;charset=UTF-8",
    "application/json; charset=latin-1",
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "",
    ";",
    "application/json;;",
)
HEADER_NAMES = ("Referer", "Origin", "User-Agent", "Accept", "X-Forwarded-For", "Content-Length")

# -- strategies ------------------------------------------------------------------------------------------
_any_character = st.characters(categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Cs", "Co", "Cn"))
hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=_any_character, max_size=40),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=8).map("".join),
    st.integers(min_value=0, max_value=20_000).map(lambda n: "A" * n),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),  # NaN and Infinity included: json.dumps writes them as bare words
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)
numbers = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(),
    st.from_regex(r"\+?[0-9 ()+.-]{0,20}", fullmatch=True),
    hostile_text,
)
names = st.one_of(
    st.sampled_from(("Carlos", "María José", "O'Brien", "李", "Zoë")), hostile_text, json_values
)
countries = st.one_of(st.sampled_from(("US", "CA", "us", "FR", "USA", "", " u")), json_values)
consents = st.one_of(st.just(True), st.sampled_from((False, "yes", 1, "true", None, [True])), json_values)


def _with_extras(fields: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A body object plus up to three unknown fields, some of them hostile."""
    return st.builds(
        lambda known, extra: {**extra, **known},
        fields,
        st.dictionaries(hostile_text, json_values, max_size=3),
    )


register_objects = _with_extras(
    st.fixed_dictionaries(
        {},
        optional={
            "destinationNumber": numbers,
            "firstName": names,
            "lastName": names,
            "source": st.one_of(st.just("https://example.com/join"), hostile_text, json_values),
            "country": countries,
            "consent": consents,
        },
    )
)
validate_objects = _with_extras(
    st.fixed_dictionaries({}, optional={"phoneNumber": numbers, "country": countries})
)
VALID = {
    "/register": {
        "destinationNumber": "2065550142",
        "firstName": "Carlos",
        "lastName": "Salazar",
        "consent": True,
    },
    "/validate": {"phoneNumber": "2065550142", "country": "US"},
}


def near_valid(path: str) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body with at most two fields changed (to another test number, or to anything)."""
    fields = [*sorted(VALID[path]), "source", "country", "extra"]
    changes = st.dictionaries(
        st.sampled_from(fields),
        st.one_of(st.sampled_from(NUMBERS), hostile_text, json_values, st.just(None)),
        max_size=2,
    )
    return changes.map(lambda change: {**VALID[path], **change})


def _encode(value: Any, how: str) -> bytes:
    """JSON text as bytes: ASCII-escaped, UTF-8, or UTF-8 with lone surrogates written raw (invalid)."""
    if how == "ascii":
        return json.dumps(value).encode("ascii")
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _nested(depth: int, opener: str) -> bytes:
    closer = "]" if opener == "[" else "}"
    inner = "1" if opener.endswith(":") else ""
    return (opener * depth + inner + closer * depth).encode()


def bodies(path: str) -> st.SearchStrategy[bytes]:
    """The bytes of a request body: mostly objects of the route, then every other kind of trouble."""
    objects = register_objects if path == "/register" else validate_objects
    return st.one_of(
        st.builds(_encode, near_valid(path), st.sampled_from(("ascii", "utf8"))),
        st.builds(_encode, near_valid(path), st.sampled_from(("ascii", "utf8", "raw"))),
        st.builds(_encode, objects, st.sampled_from(("ascii", "utf8", "raw"))),
        st.builds(_encode, json_values, st.sampled_from(("ascii", "raw"))),
        st.builds(_nested, st.integers(min_value=1, max_value=5_000), st.sampled_from(("[", '{"a":'))),
        st.binary(max_size=300),
        st.integers(min_value=8_000, max_value=200_000).map(lambda n: b'{"firstName": "' + b"A" * n + b'"}'),
        st.sampled_from((b"", b" ", b"null", b"[]", b"{}", b'"x"', b"\xef\xbb\xbf{}", b"{'a': 1}")),
    )


@dataclass(frozen=True)
class Envelope:
    """How the body travels in the event: text, base64 (flag true), or lying about it."""

    mode: str
    content_type: str | None
    headers: tuple[tuple[str, str], ...]
    identity: bool


envelopes = st.builds(
    Envelope,
    st.sampled_from(("text",) * 6 + ("base64", "bad-base64", "flag-false-base64", "surrogateescape")),
    st.one_of(
        st.just("application/json"),
        st.just("application/json"),
        st.just("application/json"),
        st.none(),
        st.sampled_from(CONTENT_TYPES),
        st.text(max_size=30),
    ),
    st.lists(
        st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.text(min_size=1, max_size=12)), hostile_text),
        max_size=3,
    ).map(tuple),
    st.booleans(),
)


def api_event(path: str, body: bytes, envelope: Envelope) -> dict[str, Any]:
    """The API Gateway REST proxy event for POST ``path`` with ``body`` carried as ``envelope`` says."""
    from local.events import api_gateway_event

    headers = [*envelope.headers]
    if envelope.content_type is not None:
        headers.append(("Content-Type", envelope.content_type))
    event = api_gateway_event("POST", path, None, headers=headers, source_ip="198.51.100.7", api_id="fuzz")
    if envelope.mode == "text":  # as API Gateway sends text; bytes that are not UTF-8 go as base64
        try:
            event["body"], event["isBase64Encoded"] = body.decode("utf-8"), False
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    elif envelope.mode == "base64":
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    elif envelope.mode == "bad-base64":  # flagged base64, but the text itself
        event["body"], event["isBase64Encoded"] = body.decode("utf-8", "replace") + "!", True
    elif envelope.mode == "flag-false-base64":  # base64 text not flagged as such
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), False
    else:  # a runtime that handed over undecodable bytes as lone surrogates
        event["body"], event["isBase64Encoded"] = body.decode("utf-8", "surrogateescape"), False
    if not envelope.identity:
        event["requestContext"].pop("identity", None)
    return event


def events_for(path: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda body, envelope: api_event(path, body, envelope), bodies(path), envelopes)


# -- checking an answer ----------------------------------------------------------------------------------
def problem(status: int, raw: bytes) -> str | None:
    """Why an answer breaks the guarantee, or None: no 5xx; a non-2xx is JSON in the error shape."""
    if status >= 500:
        return f"{status}"
    if 200 <= status < 300:
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return f"{status} with a body that is not JSON"
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return f"{status} without a message"
    if status in (400, 415, 422):
        errors, codes = body.get("errors"), body.get("codes")
        if not isinstance(errors, dict) or not isinstance(codes, dict) or set(errors) != set(codes):
            return f"{status} whose errors and codes do not name the same fields"
        if not all(isinstance(v, str) and v for v in [*errors.values(), *codes.values()]):
            return f"{status} with an empty error or code"
    return None


@dataclass
class Tally:
    """Status counts per route, error codes seen, and the answers that broke the guarantee."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def add(self, path: str, status: int, raw: bytes, event: dict[str, Any]) -> str | None:
        self.statuses.setdefault(path, Counter())[status] += 1
        why = problem(status, raw)
        if why is not None:
            self.failures.append((path, why, event))
        elif status >= 400:
            with contextlib.suppress(ValueError, AttributeError):
                self.codes.update(json.loads(raw).get("codes", {}).values())
        return why

    def table(self) -> str:
        statuses = sorted({s for counts in self.statuses.values() for s in counts})
        paths = [p for p in ROUTES if p in self.statuses]
        width = max(12, *(len(p) for p in paths))
        lines = ["status".ljust(8) + "".join(p.rjust(width) for p in paths)]
        for status in statuses:
            lines.append(
                str(status).ljust(8) + "".join(str(self.statuses[p][status]).rjust(width) for p in paths)
            )
        lines.append(
            "total".ljust(8) + "".join(str(sum(self.statuses[p].values())).rjust(width) for p in paths)
        )
        server_errors = sum(n for counts in self.statuses.values() for s, n in counts.items() if s >= 500)
        lines.append("5xx".ljust(8) + str(server_errors).rjust(width))
        return "\n".join(lines)


def fuzz(
    invoke: Callable[[str, dict[str, Any]], tuple[int, bytes]],
    path: str,
    examples: int,
    tally: Tally,
    *,
    random_seed: int | None = None,
    raise_on_failure: bool = False,
) -> None:
    """Run ``examples`` generated events at ``path`` through ``invoke(path, event) -> (status, body)``.
    With ``raise_on_failure`` (the test), the first broken answer fails and Hypothesis shrinks it."""

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=random_seed is None,
        phases=(Phase.generate, Phase.shrink) if raise_on_failure else (Phase.generate,),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(event=events_for(path))
    def one(event: dict[str, Any]) -> None:
        status, raw = invoke(path, event)
        why = tally.add(path, status, raw, event)
        if raise_on_failure and why is not None:
            raise AssertionError(f"{path} answered {why}: {raw[:300]!r}")

    if random_seed is not None:
        one = seed(random_seed)(one)
    one()


LAMBDA_ERROR = (502, b'{"message": "Internal server error"}')  # API Gateway's answer to a failed invocation


def through_api_gateway(sandbox: Any) -> Callable[[str, dict[str, Any]], tuple[int, bytes]]:
    """``invoke`` for :func:`fuzz` on a ``local.sandbox.Sandbox``: a handler that raises gets the 502
    that API Gateway answers when the Lambda invocation fails."""

    def invoke(path: str, event: dict[str, Any]) -> tuple[int, bytes]:
        try:
            response = sandbox.invoke_api_event(path, event)
        except Exception:
            return LAMBDA_ERROR
        return response.status, response.body

    return invoke


# -- the command -----------------------------------------------------------------------------------------
def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--examples", type=int, default=DEFAULT_EXAMPLES, help="bodies per route (default 10000)"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed (default: a fixed derandomized run)"
    )
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    from local.environment import prepare_environment

    prepare_environment()  # before any handler module is imported
    from local.sandbox import Sandbox

    tally = Tally()
    started = time.perf_counter()
    sandbox = Sandbox()
    invoke = through_api_gateway(sandbox)

    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for path in ROUTES:
                fuzz(invoke, path, args.examples, tally, random_seed=args.seed)
    finally:
        sandbox.close()
    elapsed = time.perf_counter() - started
    print(f"Fuzzed POST /register and POST /validate through the real handlers ({elapsed:.0f} s)\n")
    print(tally.table())
    if tally.codes:
        top = ", ".join(f"{code} {n}" for code, n in tally.codes.most_common(12))
        print(f"\nmost frequent codes: {top}")
    if tally.failures:
        print(f"\n{len(tally.failures)} answer(s) broke the guarantee; the first ones:", file=sys.stderr)
        for path, why, event in tally.failures[:5]:
            body = event.get("body")
            print(
                f"  {path}: {why}; body {str(body)[:200]!r}, base64 {event.get('isBase64Encoded')}",
                file=sys.stderr,
            )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
