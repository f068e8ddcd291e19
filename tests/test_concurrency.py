"""YES and STOP for the same number racing, as two Lambda instances would: both read the same
contact version, one write lands first, and the conditional write makes the other re-read."""

import threading

import pytest

from optin.events import inbound_message
from optin.handlers import registration
from tests.support import LambdaContext, api_event, sqs_record, two_way

PHONE = "+12065550142"


class Race:
    """Both threads read before either writes; ``first`` writes first."""

    def __init__(self, store, first):
        self._get, self._save = store.get, store.save
        self._both_read = threading.Barrier(2, timeout=5)
        self._first_written = threading.Event()
        self._first = first
        self._local = threading.local()
        self.reads = 0

    def get(self, phone):
        contact = self._get(phone)
        self.reads += 1
        if not getattr(self._local, "raced", False):
            self._local.raced = True
            self._both_read.wait()
        return contact

    def save(self, *args, **kwargs):
        if threading.current_thread().name != self._first:
            self._first_written.wait(5)
        try:
            return self._save(*args, **kwargs)
        finally:
            if threading.current_thread().name == self._first:
                self._first_written.set()


@pytest.mark.parametrize("first", ["YES", "STOP"])
def test_yes_and_stop_racing_leave_a_consistent_state_and_trail(aws, deps, monkeypatch, first):
    aws.expect_lookup(PHONE)
    aws.expect_sms(PHONE)
    body = {"destinationNumber": "2065550142", "firstName": "Carlos", "lastName": "Salazar", "source": "form"}
    assert registration.handler(api_event("/register", body), LambdaContext())["statusCode"] == 202
    start_version = deps.contacts.get(PHONE).version

    race = Race(deps.contacts, first)
    monkeypatch.setattr(deps.contacts, "get", race.get)
    monkeypatch.setattr(deps.contacts, "save", race.save)
    replies = 2 if first == "YES" else 1  # after STOP, a YES confirms nothing and gets no reply
    for _ in range(replies):
        aws.expect_sms(PHONE)
    outcomes = {}

    def run(text):
        message = inbound_message(sqs_record(two_way(PHONE, text, message_id=f"in-{text}"))["body"])
        outcomes[text] = deps.inbound.handle(message)

    threads = [threading.Thread(target=run, args=(text,), name=text) for text in ("YES", "STOP")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    monkeypatch.undo()

    assert race.reads == 3  # the second writer found the version changed and read again
    contact = deps.contacts.get(PHONE)
    assert contact.version == start_version + 2  # both messages applied, neither lost
    assert contact.status == "OPTED_OUT"  # whichever order, STOP is never undone by YES
    trail = deps.contacts.events(PHONE)
    assert [e.detail["inboundMessageId"] for e in trail if e.type == "INBOUND"] == (
        ["in-YES", "in-STOP"] if first == "YES" else ["in-STOP", "in-YES"]
    )
    transitions = [e.type for e in trail if e.type in {"CONFIRMED", "OPTED_OUT"}]
    if first == "YES":
        assert outcomes == {"YES": "confirmed", "STOP": "opted_out"}
        assert transitions == ["CONFIRMED", "OPTED_OUT"]
    else:
        assert outcomes == {"STOP": "opted_out", "YES": "ignored"}
        assert transitions == ["OPTED_OUT"]
    assert len(aws.texts_to(PHONE)) == 1 + replies
