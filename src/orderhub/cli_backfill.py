"""`orderhub backfill --connector NAME --since DATE [--until DATE]`: pull a window of history now.

Progress goes to stderr: a live line on a terminal (rich), one plain line per page otherwise. The
summary goes to stdout (JSON with `--json`). Exit 0 when the window was read, 1 when it failed
(what was stored stays stored; running it again is safe), 2 for a usage error, an unknown
connector, or one that cannot backfill.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the connectors load only when the command runs
    from orderhub.connectors._poll import Progress, Tally

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def when(text: str, end_of_day: bool = False) -> datetime:
    """A date (`2026-11-01`: midnight UTC, or the next midnight for the window's end) or an ISO 8601
    time (UTC when it names no zone)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(0), tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _until(text: str) -> datetime:
    return when(text, end_of_day=True)


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _line(name: str, tally: Tally) -> str:
    return f"{name}: page {tally.pages}, {tally.orders} order(s) stored, {tally.new} new"


@contextmanager
def progress_display(name: str) -> Iterator[Progress]:
    """A live rich status line on a terminal; plain lines on stderr otherwise."""
    if not sys.stderr.isatty():
        yield lambda tally: _err(_line(name, tally))
        return
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn

    with Bar(SpinnerColumn(), TextColumn("{task.description}"), console=Console(stderr=True)) as bar:
        task = bar.add_task(f"{name}: reading the first page")
        yield lambda tally: bar.update(task, description=_line(name, tally))


def cmd_backfill(args: argparse.Namespace) -> int:
    from orderhub.cli import _config, _print_json
    from orderhub.connectors._poll import CannotBackfill, Tally, Window
    from orderhub.service.backfill import UnknownConnector, backfill
    from orderhub.service.logging import configure_logging

    config = _config(args)
    window = Window(args.since, args.until)
    if window.until is not None and window.until <= window.after:
        _err("--until must be later than --since")
        return EXIT_USAGE
    configure_logging(config.log_level)
    tally = Tally()

    def seen(current: Tally) -> None:
        tally.pages, tally.orders, tally.new = current.pages, current.orders, current.new

    try:
        with progress_display(args.connector) as shown:

            def report(current: Tally) -> None:
                seen(current)
                shown(current)

            asyncio.run(backfill(config, args.connector, window, report))
    except (UnknownConnector, CannotBackfill) as exc:
        _err(f"cannot backfill: {exc.args[0]}")
        return EXIT_USAGE
    except Exception as exc:
        _err(
            f"backfill of {args.connector} failed after {tally.orders} order(s) in {tally.pages} page(s): "
            f"{type(exc).__name__}: {exc}\n"
            "What was stored stays stored. Check the connector's settings and the platform's API, then run "
            "the same command again: orders already stored are recognised and not stored twice."
        )
        return EXIT_FAILED
    summary = {
        "connector": args.connector,
        "since": _stamp(window.after),
        "until": _stamp(window.until),
        "pages": tally.pages,
        "orders": tally.orders,
        "new": tally.new,
        "already_stored": tally.orders - tally.new,
    }
    if args.json:
        _print_json(summary)
    else:
        until = f" to {summary['until']}" if window.until is not None else ""
        print(
            f"backfill of {args.connector} from {summary['since']}{until}: {tally.orders} order(s) in "
            f"{tally.pages} page(s), {tally.new} new, {tally.orders - tally.new} already stored. "
            "The daemon normalizes them (or the next `orderhub run` does)."
        )
    return EXIT_OK


def add_backfill_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "backfill",
        parents=[common],
        help="pull the orders changed in a window through a connector's poll (the live checkpoint stays)",
    )
    parser.add_argument("--connector", metavar="NAME", required=True)
    parser.add_argument(
        "--since", metavar="DATE", required=True, type=when, help="YYYY-MM-DD (midnight UTC) or an ISO 8601 time"
    )
    parser.add_argument(
        "--until", metavar="DATE", type=_until, help="exclusive; a date means up to the end of that day (UTC)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    parser.set_defaults(func=cmd_backfill)
