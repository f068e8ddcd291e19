"""Issue 10: generated hostile bodies at POST /register and POST /validate through the real handlers
(the sandbox engine, in-process) never get a 5xx, and every other non-2xx answer is JSON in the error
shape. A bounded run of ``bench/fuzz.py`` (``make fuzz`` runs 10,000 per route)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.fuzz import LAMBDA_ERROR, Tally, fuzz, problem, through_api_gateway
from local.sandbox import Sandbox

EXAMPLES = 300  # per route: a few seconds


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    engine = Sandbox()
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture(scope="module")
def tally(sandbox: Sandbox) -> Tally:
    tally = Tally()
    for path in ("/register", "/validate"):
        fuzz(through_api_gateway(sandbox), path, EXAMPLES, tally, raise_on_failure=True)
    return tally


def test_generated_bodies_never_get_a_5xx_and_errors_keep_their_shape(tally: Tally) -> None:
    assert tally.failures == []
    for path in ("/register", "/validate"):
        statuses = tally.statuses[path]
        assert sum(statuses.values()) >= EXAMPLES
        assert not [s for s in statuses if s >= 500]


def test_the_generator_reaches_every_kind_of_answer(tally: Tally) -> None:
    """A fuzzer that only ever produced one kind of body would prove nothing."""
    assert tally.statuses["/register"][202] > 0 and tally.statuses["/validate"][200] > 0
    assert tally.statuses["/register"][415] > 0 and tally.statuses["/validate"][400] > 0
    for code in (
        "too_deep",
        "invalid_base64",
        "invalid_encoding",
        "body_too_large",
        "not_object",
        "not_text",
    ):
        assert tally.codes[code] > 0, code


def test_the_check_itself_catches_what_it_must():
    assert problem(*LAMBDA_ERROR) == "502"
    assert problem(503, b'{"message": "later"}') == "503"
    assert problem(400, b"oops") is not None
    assert problem(400, b'{"message": "x", "errors": {"a": "why"}}') is not None  # no codes
    assert problem(400, b'{"message": "x", "errors": {"a": "why"}, "codes": {"a": "required"}}') is None
    assert problem(202, b"") is None
