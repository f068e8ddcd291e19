"""End to end in a real browser: the simulator's follow-up list with "Send due steps now", and the WhatsApp
broadcast form with its outbox. Contacts are made through the API (the form has its own tests).
Screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from tests.e2e.browser_support import expect, screenshot


def post(sandbox: Any, path: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(  # noqa: S310 - loopback
        sandbox.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return response.status


def sign_up(sandbox: Any, phone: str, source: str, *, reply: str | None = "YES") -> None:
    body = {
        "firstName": "Jane",
        "lastName": "Roe",
        "destinationNumber": phone,
        "consent": True,
        "source": source,
    }
    assert post(sandbox, "/register", body) == 202
    if reply:
        assert post(sandbox, "/sandbox/inbound", {"originationNumber": phone, "messageBody": reply}) == 202


def test_the_contact_panel_lists_the_follow_ups_and_sends_them_now(page, sandbox):
    sign_up(sandbox, "+12065550178", "e2e follow-ups")
    page.goto(sandbox.url + "/sandbox?phone=%2B12065550178")
    expect(page.locator("#contact-status")).to_have_text("CONFIRMED")
    steps = page.get_by_role("list", name="Scheduled follow-up steps").get_by_role("listitem")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("tips")
    expect(steps.nth(0)).to_contain_text("America/Los_Angeles")
    expect(steps.nth(1)).to_contain_text("week-1")
    expect(steps.nth(2)).to_contain_text("offer")
    expect(page.locator("#followups-hint")).to_contain_text("09:00-20:00")
    screenshot(page, "simulator-follow-ups")

    page.get_by_role("button", name="Send due steps now").click()
    expect(page.locator("#send-due-status")).to_have_text(
        "Sent 3 of 3 steps: tips sent, week-1 sent, offer sent."
    )
    received = page.locator("#messages .bubble-in")
    expect(received.nth(-3)).to_contain_text("Hi Jane, 3 tips to get started")
    expect(received.last).to_contain_text("20% off this week")
    expect(steps).to_have_count(0)
    expect(page.locator("#no-schedules")).to_be_visible()
    expect(page.get_by_role("button", name="Send due steps now")).to_be_disabled()
    screenshot(page, "simulator-follow-ups-sent")


def test_the_broadcast_form_sends_to_the_confirmed_contacts_and_shows_the_outbox(page, sandbox):
    source = "e2e broadcast"
    sign_up(sandbox, "+12065550179", source)
    sign_up(sandbox, "+12065550180", source, reply=None)  # pending: gets nothing
    page.goto(sandbox.url + "/sandbox")
    page.get_by_label("Template name").fill("order_update")
    expect(page.get_by_label("Language")).to_have_value("en_US")
    page.get_by_label("Only contacts from source").fill(source)
    with page.expect_response("**/broadcasts") as answered:
        page.get_by_role("button", name="Send broadcast").click()
    assert answered.value.status == 202
    assert answered.value.json()["queuedContacts"] == 1

    expect(page.locator("#broadcast-status")).to_contain_text("delivered")
    result = page.locator("#broadcast-result")
    expect(result).to_contain_text("1 queued · 1 sent · 0 failed · 0 skipped")
    endpoints = page.get_by_role("list", name="Result per contact").get_by_role("listitem")
    expect(endpoints).to_have_count(1)
    expect(endpoints.first).to_contain_text("+1 (206) 555-0179")
    expect(endpoints.first).to_contain_text(re.compile(r"sent\s*wamid\."))
    newest = page.locator("#wa-messages tr").first
    expect(newest).to_contain_text("+1 (206) 555-0179")
    expect(newest).to_contain_text("order_update")
    expect(newest).to_contain_text("accepted")
    expect(page.locator("#wa-messages")).not_to_contain_text("555-0180")
    screenshot(page, "simulator-whatsapp-broadcast")

    page.get_by_label("Template name").fill("Not a template")
    page.get_by_role("button", name="Send broadcast").click()
    expect(page.locator("#broadcast-status")).to_contain_text("Not sent")
    expect(page.get_by_label("Template name")).to_have_attribute("aria-invalid", "true")
