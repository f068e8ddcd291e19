"""End to end in a real browser: the form, the sandbox's phone simulator, and the same handlers as
in Lambda. Screenshots of the form and the simulator go to test-artifacts/e2e/."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from tests.e2e.browser_support import expect, screenshot


def api(sandbox: Any, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(sandbox.url + path, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def fill_names(page: Any, first: str = "Carlos", last: str = "Salazar") -> None:
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)


def test_sign_up_then_reply_yes_in_the_simulator(page, sandbox):
    page.goto(sandbox.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Get ExampleCorp text alerts")
    consent = page.get_by_role("checkbox")
    expect(consent).not_to_be_checked()
    disclosure = page.locator("#consent-label")
    for words in ("ExampleCorp", "Up to 4 msgs/month", "Msg & data rates may apply", "HELP", "STOP"):
        expect(disclosure).to_contain_text(words)
    expect(page.get_by_role("link", name=re.compile("^Terms"))).to_have_attribute(
        "href", "https://example.com/terms"
    )
    expect(page.get_by_role("link", name=re.compile("^Privacy Policy"))).to_have_attribute(
        "href", "https://example.com/privacy"
    )

    fill_names(page)
    page.get_by_label("Mobile number").fill("(206) 555-0175")
    expect(page.locator("#phone-message")).to_have_text("We can text +1 (206) 555-0175.")  # inline check
    consent.check()
    screenshot(page, "form-filled")

    with page.expect_response("**/register") as registered:
        page.get_by_role("button", name="Sign up").click()
    assert registered.value.status == 202
    success = page.locator("#success")
    expect(success).to_be_visible()
    expect(success).to_contain_text("reply YES to it to confirm")
    expect(page.locator("#success-title")).to_be_focused()
    screenshot(page, "form-success")

    page.goto(sandbox.url + "/sandbox?phone=%2B12065550175")
    received = page.locator("#messages .bubble-in")
    expect(received.first).to_contain_text("Reply YES to confirm")
    tick = received.first.locator(".delivery")  # its delivery events went through DeliveryEvents
    expect(tick).to_have_attribute("data-delivery", "DELIVERED")
    expect(tick).to_contain_text("Delivered")
    expect(page.locator("#contact-status")).to_have_text("PENDING")
    expect(page.locator("#contact")).to_contain_text("DELIVERED (TEXT_DELIVERED")
    page.get_by_label("Reply as this phone").fill("YES")
    page.get_by_label("Reply as this phone").press("Enter")
    expect(page.locator("#contact-status")).to_have_text("CONFIRMED")
    expect(page.locator("#messages .bubble-out")).to_have_text(re.compile("YES"))
    expect(received.last).to_contain_text("You're subscribed")
    screenshot(page, "simulator-confirmed")

    status, contact = api(sandbox, "/sandbox/contacts/%2B12065550175")
    assert status == 200 and contact["status"] == "CONFIRMED"
    assert (contact["firstName"], contact["lastName"]) == ("Carlos", "Salazar")
    assert contact["source"] == sandbox.url + "/"
    assert "HeadlessChrome" in contact["userAgent"]


def test_letters_in_the_number_show_the_api_field_message(page, sandbox):
    page.goto(sandbox.url + "/")
    fill_names(page)
    page.get_by_label("Mobile number").fill("206-555-CALL")
    page.get_by_role("checkbox").check()
    with page.expect_response("**/register") as registered:
        page.get_by_role("button", name="Sign up").click()
    assert registered.value.status == 400
    assert registered.value.json()["errors"] == {
        "destinationNumber": "A phone number cannot contain letters."
    }

    phone = page.get_by_label("Mobile number")
    expect(page.locator("#phone-message")).to_have_text("A phone number cannot contain letters.")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_be_focused()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please correct the highlighted fields.")
    expect(alert.get_by_role("link", name="Mobile number")).to_have_attribute("href", "#phone")
    expect(page.get_by_text("A phone number cannot contain letters.")).to_have_count(1)  # said once
    expect(page.locator("#success")).to_be_hidden()
    screenshot(page, "form-letters")


def test_a_landline_is_refused(page, sandbox):
    page.goto(sandbox.url + "/")
    fill_names(page, "Mateo", "Jackson")
    page.get_by_label("Mobile number").fill("(206) 555-0111")
    message = page.locator("#phone-message")
    expect(message).to_have_text("This is a landline and cannot receive text messages.")  # inline check
    page.get_by_role("checkbox").check()
    with page.expect_response("**/register") as registered:
        page.get_by_role("button", name="Sign up").click()
    assert registered.value.status == 422
    assert registered.value.json()["reason"] == "landline"
    expect(message).to_have_text("This is a landline and cannot receive text messages.")
    # Said once: the summary names the problem and links to the field, the field says why.
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(re.compile(r"^\s*We cannot text this number\.\s*Mobile number\s*$"))
    expect(page.get_by_text("landline", exact=False)).to_have_count(1)
    alert.get_by_role("link", name="Mobile number").click()
    expect(page.get_by_label("Mobile number")).to_be_focused()
    expect(page.get_by_label("Mobile number")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "form-landline")
    assert api(sandbox, "/sandbox/contacts/%2B12065550111")[0] == 404
    assert api(sandbox, "/sandbox/messages?phone=%2B12065550111")[1] == []


def test_keyboard_only_and_consent_is_required(page, sandbox):
    registers: list[str] = []
    page.on(
        "request",
        lambda request: registers.append(request.url) if request.url.endswith("/register") else None,
    )
    page.goto(sandbox.url + "/")
    expect(page.locator("#country option")).to_have_count(2)

    def tab_to(element_id: str) -> None:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == element_id

    page.keyboard.press("Tab")  # the skip link
    tab_to("language")  # the language switch, at the top of the card
    tab_to("firstName")
    page.keyboard.type("Nikki")
    tab_to("lastName")
    page.keyboard.type("Wolf")
    tab_to("country")
    tab_to("phone")
    page.keyboard.type("2065550176")
    tab_to("consent")
    tab_to("terms-link")
    tab_to("privacy-link")
    tab_to("submit")
    page.keyboard.press("Enter")

    consent = page.get_by_role("checkbox")
    expect(page.locator("#consent-message")).to_have_text("Check the box to agree to receive text messages.")
    expect(consent).to_be_focused()
    expect(consent).not_to_be_checked()
    assert registers == []  # nothing sent without consent
    screenshot(page, "form-consent-required")

    page.keyboard.press("Space")
    expect(consent).to_be_checked()
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(page.locator("#submit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#success")).to_be_visible()
    assert len(registers) == 1


def test_the_form_works_from_another_origin_with_a_generated_config(page, sandbox, other_origin):
    page.goto(other_origin.url + "/index.html")
    expect(page.get_by_role("heading", level=1)).to_have_text("Get Acme Outdoor text alerts")
    expect(page.get_by_role("link", name=re.compile("^Terms"))).to_have_attribute(
        "href", other_origin.url + "/terms"
    )
    fill_names(page, "Jane", "Doe")
    page.get_by_label("Mobile number").fill("+1 206 555 0177")
    expect(page.locator("#phone-message")).to_have_text("We can text +1 (206) 555-0177.")
    page.get_by_role("checkbox").check()
    with page.expect_response(sandbox.url + "/register") as registered:
        page.get_by_role("button", name="Sign up").click()
    assert registered.value.status == 202
    expect(page.locator("#success")).to_be_visible()
    status, contact = api(sandbox, "/sandbox/contacts/%2B12065550177")
    assert status == 200 and contact["status"] == "PENDING"
    assert contact["source"] == other_origin.url + "/index.html"


def test_a_text_that_cannot_be_delivered_shows_it_and_the_person_may_ask_again(page, sandbox):
    page.goto(sandbox.url + "/")
    fill_names(page, "Nikhil", "Jayashankar")
    page.get_by_label("Mobile number").fill("(206) 555-0155")  # the sandbox's carrier-unreachable number
    page.get_by_role("checkbox").check()
    with page.expect_response("**/register") as registered:
        page.get_by_role("button", name="Sign up").click()
    assert registered.value.status == 202

    page.goto(sandbox.url + "/sandbox?phone=%2B12065550155")
    tick = page.locator("#messages .bubble-in .delivery").first
    expect(tick).to_have_attribute("data-delivery", "FAILED")
    expect(tick).to_contain_text("Not delivered")
    screenshot(page, "simulator-not-delivered")
    status, contact = api(sandbox, "/sandbox/contacts/%2B12065550155")
    assert status == 200 and contact["confirmationDelivery"]["status"] == "FAILED"
    assert contact["confirmationDelivery"]["eventType"] == "TEXT_CARRIER_UNREACHABLE"
    assert contact["lastSentAt"] is None  # the cooldown is lifted: a second try sends at once
