"""The cost benchmark on a small mix: structural facts only, no timing (``make bench`` measures)."""

from bench import attack, cost


def test_cost_benchmark_small_mix():
    result = cost.run(cost.DEFAULT_MIX, 200, seed=3)
    by = result.by_category

    # Every kind of submission is present and got the answer and paid calls it should.
    assert all(by[category].n for category in cost.CATEGORIES), {c: t.n for c, t in by.items()}
    assert result.unexpected == []

    # Our flow never makes more paid calls than the tutorial's (one validate + one SMS each).
    validate, sms, _ = result.tutorial()
    assert result.ours.lookups <= validate
    assert result.ours.sms <= sms

    # What never needs a paid call costs none: garbage, countries we do not serve, double submits,
    # re-submits of confirmed numbers. Garbage does not even reach DynamoDB.
    for category in ("malformed", "foreign", "dup", "confirmed"):
        assert by[category].paid_calls == 0, category
    assert by["malformed"].ddb_calls == 0
    assert by["foreign"].ddb_calls == 0

    # A first-time mobile costs exactly one lookup and one SMS; a landline one lookup and no SMS;
    # a later repeat uses the cached lookup.
    assert by["new"].lookups == by["new"].sms == by["new"].n
    assert by["landline"].lookups == by["landline"].n and by["landline"].sms == 0
    assert by["later"].lookups == 0 and by["later"].sms <= by["later"].n

    assert result.calls_ratio < 1


def test_mix_parsing_and_counts():
    mix = cost.Mix.parse("malformed=20%,dup=0.15,landline=0.1")
    assert round(mix.share("new"), 6) == 0.55
    counts = mix.counts(333)
    assert sum(counts.values()) == 333
    assert mix.below_issue_minimums() == []
    assert cost.ISSUE_MINIMUM_MIX.below_issue_minimums() == []
    assert cost.DEFAULT_MIX.below_issue_minimums() == []


def test_an_sms_pumping_burst_costs_almost_nothing_and_real_people_still_get_their_text():
    result = attack.run(seed=3)  # the issue's burst: 5,000 in 10 minutes
    assert result.statuses["honeypot"] and result.statuses["sequential"] and result.statuses["foreign"]
    assert result.ratio <= attack.TARGET, attack.report(result)
    assert result.served >= attack.SERVED_TARGET, attack.report(result)
    assert result.attack_meter["sms"] < 0.02 * result.attacks
