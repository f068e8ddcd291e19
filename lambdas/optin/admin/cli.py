"""The ``sms-optin`` command line (argparse, rich): parse, pick the target, call it, print.

Exit codes: 0 done; 1 the operation failed or was refused, a contact was not found, rows were rejected
or failed, or the prompt was declined; 2 a usage error (bad options, no target); 130 interrupted.
Messages go to standard error with numbers masked; what a command produces (a contact, an export)
goes to standard output or ``--output``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from optin.admin.adapters import ProfileFilter
from optin.admin.rows import FORMATS, RecordWriter
from optin.admin.service import DEFAULT_IMPORT_SOURCE, RowResult
from optin.admin.targets import SandboxTarget, Target, TargetError, open_stack
from optin.clock import parse_iso
from optin.consent import Status
from optin.consent_records import ImportAs
from optin.masking import mask
from optin.ports import DependencyUnavailable

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130
PROG = "sms-optin"
SANDBOX = "http://127.0.0.1:8000"
REPORT_ON_TERMINAL = 50  # rejected rows listed on the terminal; --report FILE has them all

EXAMPLES = {
    "main": f"""examples:
  {PROG} contacts show +12065550142 --sandbox {SANDBOX}
  {PROG} contacts export --stack SmsOptin --region us-east-1 --status CONFIRMED --output consent.csv
  {PROG} contacts erase +12065550142 --reason "GDPR request 2026-113" --stack SmsOptin
  {PROG} contacts import customers.csv --as pending --rate 1 --apply --sandbox {SANDBOX}
  {PROG} optouts sync --stack SmsOptin""",
    "show": f"""example:
  {PROG} contacts show +12065550142 --sandbox {SANDBOX}
  {PROG} contacts show +12065550142 --stack SmsOptin --json""",
    "export": f"""examples:
  {PROG} contacts export --sandbox {SANDBOX} --output contacts.csv
  {PROG} contacts export --stack SmsOptin --status CONFIRMED --since 2026-01-01 --until 2026-06-30 \\
      --by confirmed --source https://example.com/join --format jsonl --with-audit --output evidence.jsonl

Numbers are written in full (that is what an export is for): keep the file safe.""",
    "erase": f"""example:
  {PROG} contacts erase +12065550142 --reason "GDPR request 2026-113" --sandbox {SANDBOX}

Keeps the number's opt-out state and one audit entry "erased at T for REASON"; removes names, IP, user
agent, carrier facts, message bodies, the rest of the audit trail, its idempotency records, cached lookup
and scheduled follow-ups. The number is never texted again until a new opt-in. Running it again is safe.""",
    "import": f"""examples:
  {PROG} contacts import customers.csv --as pending --sandbox {SANDBOX}            (dry run)
  {PROG} contacts import customers.csv --as pending --rate 1 --apply --sandbox {SANDBOX}
  {PROG} contacts import do-not-text.csv --as opted-out --apply --stack SmsOptin

The CSV needs a phone column (phone, phone_number, number or destinationNumber); pending rows also
first_name and last_name; source and country are optional. Each row is checked as POST /register checks
a body. A re-run skips rows already done, so an interrupted import resumes.""",
    "sync": f"""example:
  {PROG} optouts sync --stack SmsOptin --dry-run
  {PROG} optouts sync --sandbox {SANDBOX}

Numbers on the End User Messaging opt-out list become OPTED_OUT here (keyword CARRIER); numbers opted out
here are put on the list; a number confirmed here after it was listed is taken off the list.""",
}


class UsageError(Exception):
    """The command line is wrong (exit code 2)."""


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _target_options(parent: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    group = parent.add_argument_group("target (one of)")
    group.add_argument("--stack", metavar="NAME", default=default, help="a deployed stack (its outputs)")
    group.add_argument("--region", metavar="REGION", default=default, help="the stack's region")
    group.add_argument("--sandbox", metavar="URL", default=default, help=f"a running sandbox, e.g. {SANDBOX}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Consent records of sms-optin: look up, export, erase, import, opt-out sync.",
        epilog=EXAMPLES["main"],
        formatter_class=_formatter,
    )
    _target_options(parser, suppress=False)
    targets = argparse.ArgumentParser(add_help=False)
    _target_options(targets, suppress=True)
    groups = parser.add_subparsers(dest="group", metavar="{contacts,optouts}", required=True)

    def command(
        subparsers: argparse._SubParsersAction, name: str, help_: str, example: str
    ) -> argparse.ArgumentParser:
        """A command taking the target options, with its example as the epilog."""
        return subparsers.add_parser(
            name, parents=[targets], help=help_, epilog=EXAMPLES[example], formatter_class=_formatter
        )

    contacts = groups.add_parser(
        "contacts",
        help="show, export, erase and import contacts",
        epilog=EXAMPLES["main"],
        formatter_class=_formatter,
    )
    commands = contacts.add_subparsers(dest="command", metavar="{show,export,erase,import}", required=True)

    show = command(commands, "show", "a contact, its consent evidence and its audit trail", "show")
    show.add_argument("phone", metavar="+E164")
    show.add_argument("--json", action="store_true", help="print the record as JSON")

    export = command(commands, "export", "every contact's evidence as CSV or JSON lines, streamed", "export")
    export.add_argument("--status", type=str.upper, choices=[s.value for s in Status])
    export.add_argument("--since", metavar="DATE", help="from this date or time (UTC, inclusive)")
    export.add_argument("--until", metavar="DATE", help="up to this date or time (UTC, inclusive)")
    export.add_argument(
        "--by", choices=("submitted", "confirmed"), default="submitted", help="what --since/--until bound"
    )
    export.add_argument("--source", help="only contacts whose source is exactly this")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("--with-audit", action="store_true", help="add each contact's audit trail")
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")

    erase = command(
        commands, "erase", "erase a contact's personal data (GDPR/CCPA), keeping its opt-out", "erase"
    )
    erase.add_argument("phone", metavar="+E164")
    erase.add_argument("--reason", required=True, help="why (kept in the tombstone audit entry)")
    erase.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    importing = command(
        commands, "import", "bring in an existing list: re-permission texts or a suppression list", "import"
    )
    importing.add_argument("file", metavar="FILE.csv", type=Path)
    importing.add_argument(
        "--as", dest="mode", choices=[m.value for m in ImportAs], default=ImportAs.PENDING.value
    )
    importing.add_argument("--apply", action="store_true", help="write and send (default: a dry run)")
    importing.add_argument("--lookup", action="store_true", help="paid carrier lookup of each new number")
    importing.add_argument(
        "--rate", type=float, default=1.0, help="confirmation texts per second (default 1)"
    )
    importing.add_argument("--source", default=DEFAULT_IMPORT_SOURCE, help="source of rows that name none")
    importing.add_argument("--report", metavar="FILE", type=Path, help="write every rejected row here (CSV)")

    optouts = groups.add_parser(
        "optouts",
        help="End User Messaging's opt-out list",
        epilog=EXAMPLES["sync"],
        formatter_class=_formatter,
    )
    optout_commands = optouts.add_subparsers(dest="command", metavar="{sync}", required=True)
    sync = command(
        optout_commands, "sync", "reconcile the opt-out list with the contacts table, both ways", "sync"
    )
    sync.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    return parser


# -- the program ----------------------------------------------------------------------------------------
class Cli:
    def __init__(
        self,
        args: argparse.Namespace,
        stdin: IO[str],
        stdout: IO[str],
        stderr: IO[str],
        connect: Callable[[argparse.Namespace, bool], Target],
        sleep: Callable[[float], None],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.args = args
        self.stdin = stdin
        self.stdout = stdout
        self.err = Console(file=stderr, highlight=False, soft_wrap=True)
        self.out = Console(file=stdout, highlight=False)
        self._connect = connect
        self._sleep = sleep
        self._monotonic = monotonic

    def target(self, function_settings: bool = False) -> Target:
        return self._connect(self.args, function_settings)

    def say(self, text: str, style: str | None = None) -> None:
        """One message on standard error; numbers masked."""
        self.err.print(escape(mask(text)), style=style)

    def run(self) -> int:
        command = f"{self.args.group} {self.args.command}"
        return {
            "contacts show": self.show,
            "contacts export": self.export,
            "contacts erase": self.erase,
            "contacts import": self.import_file,
            "optouts sync": self.sync,
        }[command]()

    # -- show ---------------------------------------------------------------------------------------------
    def show(self) -> int:
        phone = _e164(self.args.phone)
        record = self.target().show(phone)
        if record is None:
            self.say(f"No contact for {phone}.", "red")
            return FAILED
        if self.args.json:
            self.stdout.write(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
            return OK
        events = record.pop("events", [])
        evidence = Table(
            title=escape(f"{record['phone']}  {record['status']}"), show_header=False, title_justify="left"
        )
        evidence.add_column("field", style="bold")
        evidence.add_column("value", overflow="fold")
        for name, value in record.items():
            if value is None or value == "" or name == "phone":
                continue
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items())
            evidence.add_row(escape(name), escape(_printable(str(value))))
        trail = Table(title=f"Audit trail ({len(events)})", title_justify="left")
        trail.add_column("at", no_wrap=True)
        trail.add_column("type", style="bold")
        trail.add_column("detail", overflow="fold")
        for event in events:
            detail = ", ".join(f"{k}={v}" for k, v in event["detail"].items())
            trail.add_row(escape(event["at"]), escape(_printable(event["type"])), escape(_printable(detail)))
        self.out.print(evidence)
        self.out.print(trail)
        return OK

    # -- export ---------------------------------------------------------------------------------------
    def export(self) -> int:
        args = self.args
        where = ProfileFilter(
            status=Status(args.status) if args.status else None,
            source=args.source,
            since=_when(args.since, "--since", end_of_day=False),
            until=_when(args.until, "--until", end_of_day=True),
            by=args.by,
        )
        target = self.target()
        with ExitStack() as stack:
            if args.output and args.output != "-":
                stream: IO[str] = stack.enter_context(
                    Path(args.output).open("w", encoding="utf-8", newline="")
                )
            else:
                stream = self.stdout
                if _is_terminal(stream):
                    self.say(
                        "Warning: an export holds full phone numbers and personal data; it is going to your "
                        "terminal. Use --output FILE to write it to a file.",
                        "yellow",
                    )
            writer = RecordWriter(stream, args.format, args.with_audit)
            with self._progress("Exporting contacts", total=None, show=stream is not self.stdout) as advance:
                for record in target.export(where, args.with_audit):
                    writer.write(record)
                    advance()
            stream.flush()
        where_to = args.output if args.output and args.output != "-" else "standard output"
        self.say(f"Exported {writer.count} contact(s) to {where_to}.", "green")
        return OK

    # -- erase ---------------------------------------------------------------------------------------
    def erase(self) -> int:
        args = self.args
        phone = _e164(args.phone)
        reason = args.reason.strip()
        if not reason:
            raise UsageError("--reason must say why the contact is erased")
        if not args.yes:
            if not _is_terminal(self.stdin):
                raise UsageError(
                    "erase asks for confirmation on a terminal; pass --yes to run it from a script"
                )
            self.err.print(
                escape(
                    f"Erase the personal data of {mask(phone)}? Its names, IP, user agent, message bodies and "
                    "audit trail are deleted; only its opt-out state and a tombstone entry stay."
                )
            )
            self.err.print("Type yes to erase: ", end="")
            answer = self.stdin.readline().strip().lower()
            if answer not in ("y", "yes"):
                self.say("Not erased.", "yellow")
                return FAILED
        result = self.target(function_settings=True).erase(phone, reason)
        if result.outcome == "not_found":
            self.say(f"No contact for {phone}: nothing to erase.", "yellow")
            return OK
        if result.outcome == "already_erased":
            self.say(f"{phone} is erased already: nothing left to erase.", "green")
            return OK
        self.say(
            f"Erased {phone}: {result.events_deleted} audit entries, {result.markers_deleted} idempotency "
            f"records, {result.schedules_deleted} follow-up schedules"
            f"{' and its cached lookup' if result.lookup_deleted else ''} deleted. It stays OPTED_OUT.",
            "green",
        )
        return OK

    # -- import ---------------------------------------------------------------------------------------
    def import_file(self) -> int:
        args = self.args
        mode = ImportAs(args.mode)
        if args.rate <= 0:
            raise UsageError("--rate must be more than 0 texts per second")
        path: Path = args.file
        try:
            total = _count_rows(path)
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        target = self.target(function_settings=True)
        counts: dict[str, int] = {}
        skipped: dict[str, int] = {}  # why: already pending, confirmed or opted out
        rejected: list[RowResult] = []
        texted = 0
        interval = 1.0 / args.rate
        next_text = self._monotonic()
        with ExitStack() as stack:
            rows = stack.enter_context(_csv_rows(path))
            report = (
                _ReportWriter(stack.enter_context(args.report.open("w", encoding="utf-8", newline="")))
                if args.report
                else None
            )
            label = "Importing" if args.apply else "Checking (dry run)"
            advance = stack.enter_context(self._progress(label, total=total, show=True))
            try:
                for line, row in rows:
                    options = {"lookup": args.lookup, "source": args.source}
                    result = target.import_row(row, line, mode, apply=False, **options)
                    if args.apply and result.outcome.startswith("would_"):
                        if result.outcome == "would_register":  # a text would go: keep to --rate
                            wait = next_text - self._monotonic()
                            if wait > 0:
                                self._sleep(wait)
                        result = target.import_row(row, line, mode, apply=True, **options)
                    if result.texted:
                        texted += 1
                        next_text = max(next_text, self._monotonic()) + interval
                    counts[result.outcome] = counts.get(result.outcome, 0) + 1
                    if result.outcome == "skipped":
                        skipped[result.reason] = skipped.get(result.reason, 0) + 1
                    if result.outcome in ("rejected", "failed"):
                        if len(rejected) < REPORT_ON_TERMINAL:
                            rejected.append(result)
                        if report is not None:
                            report.write(result)
                    advance()
            except KeyboardInterrupt:
                self.say(
                    "Interrupted. Run the same command again to resume: rows done are skipped.", "yellow"
                )
                return INTERRUPTED
        self._import_summary(counts, skipped, rejected, texted, args)
        return FAILED if counts.get("rejected") or counts.get("failed") else OK

    def _import_summary(
        self,
        counts: dict[str, int],
        skipped: dict[str, int],
        rejected: list[RowResult],
        texted: int,
        args: argparse.Namespace,
    ) -> None:
        if rejected:
            table = Table(title="Rows not imported", title_justify="left")
            for column in ("line", "number", "outcome", "why"):
                table.add_column(column)
            for r in rejected:
                why = "; ".join(f"{k}: {v}" for k, v in r.errors.items()) or r.reason
                table.add_row(
                    str(r.line), escape(_printable(mask(r.phone))), r.outcome, escape(_printable(mask(why)))
                )
            self.err.print(table)
            more = counts.get("rejected", 0) + counts.get("failed", 0) - len(rejected)
            if more > 0:
                self.say(f"... and {more} more{'' if args.report else ' (use --report FILE for all)'}.")
        parts = []
        for outcome, n in sorted(counts.items()):
            part = f"{n} {outcome.replace('_', ' ')}"
            if outcome == "skipped":
                why = ", ".join(f"{k} {reason.replace('_', ' ')}" for reason, k in sorted(skipped.items()))
                part += f" ({why})"
            parts.append(part)
        summary = ", ".join(parts)
        self.say(f"{sum(counts.values())} row(s): {summary or 'none'}. Confirmation texts sent: {texted}.")
        if not args.apply:
            self.say("Dry run: nothing was written or sent. Run again with --apply to import.", "yellow")
        if counts.get("failed"):
            self.say("Some rows failed on a dependency: run the same command again to retry them.", "yellow")

    # -- opt-out sync -----------------------------------------------------------------------------------
    def sync(self) -> int:
        report = self.target().sync_opt_outs(apply=not self.args.dry_run)
        verb = "" if report.applied else "would be "
        self.say(f"Opt-out list {report.opt_out_list}: {report.listed} number(s) on it.")
        for label, phones in (
            (f"{verb}opted out here (CARRIER)", report.opted_out_here),
            (f"{verb}put on the opt-out list", report.put_on_list),
            (f"{verb}taken off the list (confirmed here since)", report.removed_from_list),
            (
                "could not be taken off the list (End User Messaging allows once per 30 days)",
                report.not_removed,
            ),
        ):
            if phones:
                shown = ", ".join(mask(p) for p in phones[:20]) + (" ..." if len(phones) > 20 else "")
                self.say(f"  {len(phones)} {label}: {shown}")
        if not (
            report.opted_out_here or report.put_on_list or report.removed_from_list or report.not_removed
        ):
            self.say("  In step: nothing to change.", "green")
        if not report.applied:
            self.say("Dry run: nothing was changed. Run again without --dry-run to apply.", "yellow")
        return FAILED if report.not_removed else OK

    # -- plumbing --------------------------------------------------------------------------------------
    @contextmanager
    def _progress(self, label: str, total: int | None, show: bool) -> Iterator[Callable[[], None]]:
        """A progress bar on a terminal (standard error), nothing otherwise."""
        if not (show and self.err.is_terminal):
            yield lambda: None
            return
        columns = [SpinnerColumn(), TextColumn(label), BarColumn()]
        columns += [MofNCompleteColumn()] if total is not None else [TextColumn("{task.completed} rows")]
        with Progress(*columns, TimeElapsedColumn(), console=self.err, transient=True) as progress:
            task = progress.add_task(label, total=total)
            yield lambda: progress.advance(task)


class _ReportWriter:
    def __init__(self, stream: IO[str]) -> None:
        self._csv = csv.writer(stream, lineterminator="\r\n")
        self._csv.writerow(["line", "phone", "outcome", "reason", "field", "problem"])

    def write(self, result: RowResult) -> None:
        problems = list(result.errors.items()) or [("", "")]
        for name, problem in problems:
            self._csv.writerow([result.line, result.phone, result.outcome, result.reason, name, problem])


@contextmanager
def _csv_rows(path: Path) -> Iterator[Iterator[tuple[int, dict[str, str | None]]]]:
    """The file's rows with their line numbers (the header is line 1), read as they are used."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not _has_phone_column(reader.fieldnames):
            raise UsageError(f"{path} has no phone column (phone, phone_number, number or destinationNumber)")

        def rows() -> Iterator[tuple[int, dict[str, str | None]]]:
            for row in reader:
                yield reader.line_num, dict(row)

        yield rows()


def _has_phone_column(names: Sequence[str]) -> bool:
    from optin.admin.service import normalize_row

    return "phone" in normalize_row({name: "" for name in names})


def _count_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def _e164(value: str) -> str:
    import re

    phone = value.strip()
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", phone):
        raise UsageError(f"{mask(phone)!r} is not an E.164 number such as +12065550142")
    return phone


def _when(value: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    """A date (a whole day, UTC) or an ISO 8601 time."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return day + timedelta(days=1, milliseconds=-1) if end_of_day else day
        return parse_iso(text)
    except ValueError:
        raise UsageError(
            f"{option} must be a date such as 2026-01-31 or a time such as 2026-01-31T12:00:00Z"
        ) from None


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _printable(text: str) -> str:
    """Control and format characters shown as escapes, so a stored value cannot drive the terminal."""
    import unicodedata

    return "".join(
        ch.encode("unicode_escape").decode()
        if unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
        else ch
        for ch in text
    )


def connect(
    args: argparse.Namespace, function_settings: bool, session_factory: Any = None, clock: Any = None
) -> Target:
    stack, sandbox = getattr(args, "stack", None), getattr(args, "sandbox", None)
    if stack and sandbox:
        raise UsageError("give one target: --stack NAME or --sandbox URL, not both")
    if sandbox:
        return SandboxTarget(sandbox)
    if stack:
        return open_stack(
            stack,
            getattr(args, "region", None),
            function_settings_needed=function_settings,
            session_factory=session_factory,
            **({"clock": clock} if clock is not None else {}),
        )
    raise UsageError(
        f"no target: pass --stack NAME (a deployed stack) or --sandbox URL (make run: {SANDBOX})"
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    session_factory: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """The command. ``session_factory`` (boto3.Session), ``sleep``/``monotonic`` (the pacing of texts)
    and ``clock`` (the services' time) may be replaced, as the tests do."""
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), printed by argparse
        return int(exc.code or 0)
    cli = Cli(
        args,
        stdin or sys.stdin,
        stdout or sys.stdout,
        stderr,
        lambda a, settings: connect(a, settings, session_factory, clock),
        sleep,
        monotonic,
    )
    try:
        return cli.run()
    except UsageError as exc:
        cli.say(f"{PROG}: error: {exc}", "red")
        return USAGE
    except TargetError as exc:
        cli.say(f"{PROG}: {exc}", "red")
        return FAILED
    except DependencyUnavailable as exc:
        cli.say(f"{PROG}: {exc.what}. Every command is safe to run again.", "red")
        return FAILED
    except KeyboardInterrupt:
        cli.say("Interrupted.", "yellow")
        return INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
