"""The `orderhub` command line (CONTRACTS.md: exit 0 ok, 1 errors found or failed, 2 usage)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from orderhub import __version__
from orderhub._sqlite import Database
from orderhub._yaml import ConfigError
from orderhub.cli_backfill import add_backfill_command
from orderhub.cli_x12 import add_trade_commands
from orderhub.service.config import ConfigErrors, HubConfig, config_path, default_config, load_config
from orderhub.x12.cli import add_x12_commands

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _print_json(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _config(args: argparse.Namespace) -> HubConfig:
    explicit = getattr(args, "config", None)
    path = config_path(explicit)
    if not path.exists() and explicit is None and path.name == "orderhub.yaml" and not path.is_absolute():
        import os

        if "ORDERHUB_CONFIG" not in os.environ:
            return default_config(Path.cwd())
    return load_config(path)


def _database(config: HubConfig) -> Database | None:
    if not config.db_path.exists():
        _err(f"no data yet at {config.db_path} (start the daemon with `orderhub run`)")
        return None
    return Database(config.db_path)


def cmd_run(args: argparse.Namespace) -> int:
    from orderhub.service.daemon import serve
    from orderhub.service.logging import configure_logging

    config = _config(args)
    configure_logging(config.log_level)
    asyncio.run(serve(config))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from orderhub.service.connectors import build_connectors
    from orderhub.x12.partners import load_partners

    problems: list[ConfigError] = []
    try:
        config = _config(args)
    except ConfigErrors as exc:
        problems.extend(exc.errors)
        config = None
    if config is not None:
        try:
            connectors = build_connectors(config, _NoIntake())
        except ConfigErrors as exc:
            problems.extend(exc.errors)
        else:
            _err(f"ok: {len(connectors)} connector(s) in {config.connectors_dir}")
        try:
            partners = load_partners(config.partners_dir)
        except ConfigErrors as exc:
            problems.extend(p for p in exc.errors if p not in problems)
        else:
            _err(f"ok: {len(partners)} partner profile(s) in {config.partners_dir}")
    for problem in problems:
        print(problem)
    return EXIT_FAILED if problems else EXIT_OK


class _NoIntake:
    """`check` builds connectors without running them."""

    async def accept(self, raw: Any) -> Any:
        raise RuntimeError("check does not ingest")

    async def get_checkpoint(self, connector: str, key: str) -> str | None:
        return None

    async def set_checkpoint(self, connector: str, key: str, value: str) -> None:
        return None


def cmd_orders_list(args: argparse.Namespace) -> int:
    from orderhub.service.http import order_row_json
    from orderhub.store.sqlite import read_order_rows

    db = _database(_config(args))
    if db is None:
        rows_json: list[dict[str, Any]] = []
    else:
        rows = db.read_sync(lambda conn: read_order_rows(conn, args.limit, args.status, args.connector))
        rows_json = [order_row_json(row) for row in rows]
    if args.json:
        _print_json(rows_json)
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "rev", "status", "payment", "placed_at", "grand total", "connector")
    for row in rows_json:
        total = row["grand_total"]
        table.add_row(
            row["id"],
            str(row["revision"]),
            row["status"],
            row["payment_status"],
            row["placed_at"] or "",
            f"{total['amount']} {total['currency']}",
            row["connector"],
        )
    Console().print(table)
    return EXIT_OK


def cmd_orders_show(args: argparse.Namespace) -> int:
    from orderhub.store.sqlite import read_order, read_timeline

    db = _database(_config(args))
    order = db.read_sync(lambda conn: read_order(conn, args.id)) if db is not None else None
    if order is None:
        _err(f"no order {args.id!r} (list them with `orderhub orders list`)")
        return EXIT_FAILED
    if args.json:
        _print_json(order)
        return EXIT_OK
    assert db is not None
    timeline = db.read_sync(lambda conn: read_timeline(conn, args.id))
    _print_json(order)
    for entry in timeline:
        print(f"{entry.at}  {entry.event:<14} rev {entry.revision}  {orjson.dumps(entry.detail).decode()}")
    return EXIT_OK


def cmd_map(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from orderhub.mapping import Mapping, MappingContext, MappingError, MappingFileError, builtin_mapping, map_payload
    from orderhub.store.base import sha256_hex

    try:
        mapping = Mapping.load(Path(args.mapping)) if args.mapping else builtin_mapping(args.kind)
    except MappingFileError as exc:
        _err(str(exc))
        return EXIT_FAILED
    except (KeyError, FileNotFoundError):
        _err(f"no built-in mapping for kind {args.kind!r}; pass --mapping FILE")
        return EXIT_USAGE
    try:
        body = Path(args.file).read_bytes()
    except OSError as exc:
        _err(f"{args.file}: {exc.strerror}")
        return EXIT_FAILED
    connector = args.connector or args.kind
    ctx = MappingContext(
        connector=connector,
        account=connector,
        channel=mapping.channel,
        received_at=datetime.now(UTC),
        raw_ref=f"sha256:{sha256_hex(body)}",
    )
    try:
        orders = map_payload(body, mapping, ctx)
    except MappingError as exc:
        _err(f"{args.file}: {exc}")
        return EXIT_FAILED
    dumped = [order.model_dump(mode="json") for order in orders]
    _print_json(dumped[0] if len(dumped) == 1 else dumped)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from orderhub.model import order_schema

    _print_json(order_schema())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="orderhub.yaml (else $ORDERHUB_CONFIG, else ./orderhub.yaml)",
    )
    parser = argparse.ArgumentParser(prog="orderhub", description="Omnichannel order-ingestion hub.", parents=[common])
    parser.add_argument("--version", action="version", version=f"orderhub {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", parents=[common], help="run the daemon").set_defaults(func=cmd_run)
    sub.add_parser("check", parents=[common], help="validate orderhub.yaml, connector and partner files").set_defaults(
        func=cmd_check
    )

    orders = sub.add_parser("orders", help="canonical orders in the store").add_subparsers(
        dest="orders_command", required=True, metavar="COMMAND"
    )
    listing = orders.add_parser("list", parents=[common], help="newest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--status")
    listing.add_argument("--connector")
    listing.set_defaults(func=cmd_orders_list)
    show = orders.add_parser("show", parents=[common], help="one order (and its timeline)")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_orders_show)

    mapping = sub.add_parser("map", parents=[common], help="dry run of one raw payload through a mapping")
    mapping.add_argument("kind")
    mapping.add_argument("file")
    mapping.add_argument("--connector", metavar="NAME")
    mapping.add_argument("--mapping", metavar="FILE")
    mapping.set_defaults(func=cmd_map)

    sub.add_parser("schema", parents=[common], help="JSON Schema of the canonical order").set_defaults(func=cmd_schema)
    add_backfill_command(sub, common)
    add_trade_commands(add_x12_commands(sub))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigErrors as exc:
        for problem in exc.errors:
            _err(str(problem))
        return EXIT_FAILED
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    return code


if __name__ == "__main__":
    sys.exit(main())
