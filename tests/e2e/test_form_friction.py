"""The form's bot friction in a real browser (issue 12): the hidden honeypot field and the signed
fill-time token, against a sandbox with the production minimum fill time (3 s)."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from local.testing import SandboxProcess
from tests.e2e.browser_support import expect


@pytest.fixture(scope="module")
def strict_sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(env={"RANGE_REGISTRATIONS_PER_HOUR": "0"}) as process:  # FORM_MIN_FILL_SECONDS: 3
        yield process


def texts_to(sandbox: SandboxProcess, phone: str) -> list[dict[str, Any]]:
    url = f"{sandbox.url}/sandbox/messages?phone={urllib.parse.quote(phone)}"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def fill(page: Any, national: str) -> None:
    page.get_by_label("First name").fill("Carlos")
    page.get_by_label("Last name").fill("Salazar")
    page.get_by_label("Mobile number").fill(national)
    page.get_by_role("checkbox").check()


def test_the_honeypot_is_out_of_sight_and_out_of_reach(page, strict_sandbox):
    page.goto(strict_sandbox.url + "/")
    trap = page.locator("#website")
    assert trap.get_attribute("tabindex") == "-1"
    box = trap.bounding_box()
    assert box is None or box["x"] + box["width"] < 0  # off screen, not merely transparent
    expect(page.get_by_role("textbox", name="Website")).to_have_count(0)  # hidden from assistive tech


def test_a_form_sent_faster_than_a_person_types_gets_the_usual_answer_and_no_text(page, strict_sandbox):
    with page.expect_response("**/form-token") as token:
        page.goto(strict_sandbox.url + "/")
    assert token.value.status == 200
    fill(page, "(206) 555-0181")
    with page.expect_request("**/register") as sent:
        page.get_by_role("button", name="Sign up").click()
    body = json.loads(sent.value.post_data or "{}")
    assert body["website"] == "" and body["formToken"].startswith("v1.")
    expect(page.locator("#success")).to_be_visible()  # the same answer a person gets
    assert texts_to(strict_sandbox, "+12065550181") == []


def test_at_a_person_s_pace_the_text_arrives(page, strict_sandbox):
    page.goto(strict_sandbox.url + "/")
    fill(page, "(206) 555-0182")
    time.sleep(3.2)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#success")).to_be_visible()
    assert "Reply YES" in texts_to(strict_sandbox, "+12065550182")[0]["body"]
