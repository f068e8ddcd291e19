"""A small chaos run in ``make test`` (``make chaos`` runs the full one): the send guarantees hold with
faults injected at the botocore level."""

from bench import chaos


def test_the_send_guarantees_hold_under_injected_faults():
    result = chaos.run(registrations=25, seed=5)
    print(chaos.report(result))

    # The faults were really there (a run without them would prove nothing).
    for fault in (
        "DynamoDB calls throttled",
        "DynamoDB write answers lost",
        "SendTextMessage 5xx",
        "crashes right after a send",
    ):
        assert result.counts[fault] > 0, fault
    assert (
        result.counts["SendTextMessage timeouts (accepted)"]
        + result.counts["SendTextMessage timeouts (not accepted)"]
        > 0
    )
    assert result.inbound_messages >= 2 * result.registrations

    assert result.replies_max == 1
    assert result.lost == 0
    assert result.accepted_without_text == 0
    assert result.sends_without_evidence == 0
    assert result.texts_per_cooldown_max == 1
    assert result.gave_up == 0


def test_a_seed_replays_the_same_run():
    """A chaos run that finds a problem can be replayed: the same seed injects the same faults in the same
    places (the SDK's retry jitter and every generated id come from the seed too)."""
    first = chaos.run(registrations=8, seed=3)
    second = chaos.run(registrations=8, seed=3)
    assert first.counts == second.counts
    assert (first.inbound_messages, first.replies_total, first.lost) == (
        second.inbound_messages,
        second.replies_total,
        second.lost,
    )
