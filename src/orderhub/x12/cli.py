"""`orderhub x12 ...` commands. `add_x12_commands` returns the x12 subparsers so more can be added."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from orderhub.x12._envelopes import X12Document, parse
from orderhub.x12._errors import X12Error
from orderhub.x12._json import document_json
from orderhub.x12._segments import Delimiters

EXIT_OK, EXIT_FAILED = 0, 1


def error_line(path: str, error: X12Error) -> str:
    """`FILE:line: segment N (TAG): message`, leaving out the parts the error does not know."""
    where = [f"{path}:{error.line}:" if error.line is not None else f"{path}:"]
    if error.segment_ordinal is not None:
        where.append(f"segment {error.segment_ordinal} ({error.segment_tag or '?'}):")
    message = error.message
    if error.element is not None:
        message += f" (element {error.element})"
    if error.code and error.code_source:
        message += f" [{error.code_source} code {error.code}]"
    return " ".join([*where, message])


def read_input(path: str) -> bytes | None:
    """The file's bytes ("-" reads standard input); None after saying on stderr why it cannot be read."""
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return None


def read_document(path: str, delimiters: Delimiters | None = None) -> X12Document | None:
    """The parsed file; None after printing `FILE:line: segment N (TAG): message` on stderr."""
    data = read_input(path)
    if data is None:
        return None
    try:
        return parse(data, delimiters)
    except X12Error as exc:
        print(error_line(path, exc), file=sys.stderr)
        return None


def cmd_parse(args: argparse.Namespace) -> int:
    path: str = args.file
    document = read_document(path)
    if document is None:
        return EXIT_FAILED
    output = {"file": path, **document_json(document)}
    sys.stdout.buffer.write(orjson.dumps(output, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()
    return EXIT_OK


def add_x12_commands(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """Add `x12 parse FILE` under `sub`; returns the x12 subparsers for `validate`, `ack`, `to-orders`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="orderhub.yaml")
    x12 = sub.add_parser("x12", help="read, check and acknowledge X12 files")
    commands: argparse._SubParsersAction = x12.add_subparsers(  # type: ignore[type-arg]
        dest="x12_command", required=True, metavar="COMMAND"
    )
    parse_cmd = commands.add_parser(
        "parse",
        parents=[common],
        help="print the envelope structure and segments as JSON (exit 1 when it does not tokenize or nest)",
    )
    parse_cmd.add_argument("file", metavar="FILE", help='the X12 file ("-" reads standard input)')
    parse_cmd.add_argument("--json", action="store_true", help="accepted for symmetry: the output is always JSON")
    parse_cmd.set_defaults(func=cmd_parse)
    return commands
