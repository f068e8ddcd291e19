"""``python -m bench``: both benchmarks of issue 2 in one run, then their ratios side by side, and the
admin tool's export (issue 13)."""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import warnings

from bench import attack, coldstart, cost, export, first_run, sandbox_load


def _mix(spec: str) -> cost.Mix:
    try:
        return cost.Mix.parse(spec, "custom (--mix)")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        choices=("cold", "cost", "export", "sandbox", "first-run"),
        help="run one benchmark only",
    )
    parser.add_argument(
        "--registrations", type=int, default=10_000, help="sandbox: registrations through its API (10,000)"
    )
    parser.add_argument(
        "--contacts", type=int, default=100_000, help="export: contacts in the table (default 100,000)"
    )
    parser.add_argument(
        "--reps", type=int, default=20, help="cold start: interleaved rounds (default 20, min 15)"
    )
    parser.add_argument(
        "--submissions", type=int, default=1000, help="cost: submissions per mix (default 1000)"
    )
    parser.add_argument("--seed", type=int, default=7, help="cost: seed of the generated mix (default 7)")
    parser.add_argument(
        "--mix",
        type=_mix,
        default=cost.DEFAULT_MIX,
        metavar="SPEC",
        help="cost: the main mix as category=share pairs, e.g. malformed=0.2,foreign=0.1,landline=0.1,"
        "dup=0.2,later=0.08,confirmed=0.05 (shares or percentages; 'new' takes the rest; categories: "
        + ", ".join(cost.CATEGORIES)
        + ")",
    )
    args = parser.parse_args(argv)
    if args.reps < 15:
        parser.error("--reps must be at least 15")
    if args.submissions < 1:
        parser.error("--submissions must be positive")
    return args


def _quietly(mix: cost.Mix, n: int, seed: int) -> cost.CostResult:
    """Run the cost benchmark without the handlers' metric lines (EMF goes to stdout)."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        return cost.run(mix, n, seed)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    cost.prepare_environment()  # before any handler module is imported
    started = time.perf_counter()
    cold = None
    costs: list[cost.CostResult] = []

    if args.only in (None, "cold"):
        print(
            f"== Cold start: fresh process importing each handler ÷ fresh `import boto3` (target ≤ {coldstart.TARGET}x)"
        )
        cold = coldstart.measure(args.reps)
        print(coldstart.report(cold), end="\n\n", flush=True)

    if args.only in (None, "cost"):
        print(
            f"== Cost per 1000 submissions: our registration flow ÷ the tutorial's (one validate + one SMS"
            f" per submission), list price validate ${cost.VALIDATE_USD} and US SMS ${cost.SMS_USD} per segment"
            f" (target ≤ {cost.TARGET}x)"
        )
        mixes = (
            [args.mix]
            if args.mix.spec() == cost.ISSUE_MINIMUM_MIX.spec()
            else [args.mix, cost.ISSUE_MINIMUM_MIX]
        )
        for mix in mixes:
            result = _quietly(mix, args.submissions, args.seed)
            costs.append(result)
            print(cost.report(result), end="\n\n", flush=True)
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            burst = attack.run(seed=args.seed)
        print(attack.report(burst), end="\n\n", flush=True)
    else:
        burst = None

    exported = None
    if args.only in (None, "export"):
        print(f"== Export: sms-optin contacts export of {args.contacts:,} contacts under moto", flush=True)
        exported = export.run(args.contacts)
        print(export.report(exported), end="\n\n", flush=True)

    load = first = None
    if args.only in (None, "sandbox"):
        print("== The sandbox under load (issue 14)", flush=True)
        load = sandbox_load.run(args.registrations)
        print(sandbox_load.report(load), end="\n\n", flush=True)
    if args.only in (None, "first-run"):
        print("== First run (issue 14)", flush=True)
        first = first_run.run()
        print(first_run.report(first), end="\n\n", flush=True)

    print(summary(cold, costs, time.perf_counter() - started, burst, exported))
    if load is not None:
        print(
            f"  sandbox at {load.registrations} contacts: RSS {load.final_rss:.0f} MB (target ≤ "
            f"{sandbox_load.RSS_TARGET_MB}), median {load.median():.1f} ms (target ≤ "
            f"{sandbox_load.LATENCY_TARGET_MS:.0f})  {'ok' if load.on_target else 'MISSED'}"
        )
    if first is not None:
        print(f"  {first_run.report(first).split(': ', 1)[1]}")
    invalid_export = exported is not None and (
        not exported.same_page or exported.exported != exported.contacts
    )
    return 2 if any(r.unexpected for r in costs) or invalid_export else 0


def summary(
    cold: coldstart.ColdStartResult | None,
    costs: list[cost.CostResult],
    elapsed: float,
    burst: attack.AttackResult | None = None,
    exported: export.ExportResult | None = None,
) -> str:
    lines = [f"== Summary: both ratios, measured in this run ({elapsed:.0f} s)"]
    if cold is not None:
        lines.append(
            f"  cold start ÷ `import boto3` (median of {cold.reps}; target ≤ {coldstart.TARGET}x)"
            f"{'':<8}as deployed ({'unchecked-hash .pyc' if coldstart.deployed_with_bytecode() else 'no .pyc in the asset'})"
        )
        for handler in coldstart.HANDLERS:
            pyc, src = cold.ratio(handler, "pyc"), cold.ratio(handler, "deployed")
            lines.append(
                f"    {handler.rsplit('.', 1)[-1]:<20} {pyc:>5.2f}x  {coldstart.verdict(pyc)}"
                f"{'':<30}{src:>5.2f}x  {coldstart.verdict(src)}"
            )
    if costs:
        lines.append(f"  cost per 1000 submissions ÷ tutorial (target ≤ {cost.TARGET}x)")
        for result in costs:
            lines.append(
                f"    {result.mix.name:<44} USD {result.usd_ratio:.2f}x  {cost.verdict(result.usd_ratio, cost.TARGET)}"
                f"   paid calls {result.calls_ratio:.2f}x  {cost.verdict(result.calls_ratio, cost.TARGET)}"
                f"   (floor {result.floor():.2f}x)"
            )
        if burst is not None:
            lines.append(
                f"    {'attack (5,000 bot submissions in 10 minutes)':<44} USD {burst.ratio:.4f}x  "
                f"{cost.verdict(burst.ratio, attack.TARGET)} (target ≤ {attack.TARGET}x)"
                f"   real people served {burst.served:.0%} (target ≥ {attack.SERVED_TARGET:.0%})"
            )
        if any(r.unexpected for r in costs):
            lines.append(
                "  INVALID: some submissions had unexpected outcomes (listed above): fix those first."
            )
    if exported is not None:
        lines.append(
            f"  export of {exported.contacts:,} contacts (moto): {exported.per_second:,.0f} contacts/s, "
            f"peak +{exported.peak_bytes / 2**20:.0f} MiB (all at once: ~{exported.all_at_once_bytes / 2**20:.0f} MiB)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
