"""`orderhub x12 validate | ack | to-orders`: the commands that need validation, acks and mappings.

Without a partner profile they take delimiters, version and ids from the file itself and use the
ISA sender id as the account.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson

from orderhub.x12 import X12Document
from orderhub.x12._acks import acknowledge_interchange, validate_group
from orderhub.x12.cli import read_document, read_input
from orderhub.x12.partners import PartnerDirectory, PartnerProfile

EXIT_OK, EXIT_FAILED = 0, 1


class _NoProfile(Exception):
    """--partner named no usable profile; the message was printed."""


def _profile(args: argparse.Namespace) -> PartnerProfile | None:
    found = _partner(args)
    return found[0] if found is not None else None


def _partner(args: argparse.Namespace) -> tuple[PartnerProfile, PartnerDirectory] | None:
    """The partner profile `--partner` names (from the config's partners_dir), None without it."""
    if not getattr(args, "partner", None):
        return None
    from orderhub.cli import _config
    from orderhub.service.config import ConfigErrors
    from orderhub.x12.partners import load_partners

    try:
        config = _config(args)
        partners = load_partners(config.partners_dir)
    except ConfigErrors as exc:
        for problem in exc.errors:
            print(problem, file=sys.stderr)
        raise _NoProfile from None
    profile = partners.get(args.partner)
    if profile is None:
        known = ", ".join(p.id for p in partners) or "none"
        print(f"no partner profile {args.partner!r} in {config.partners_dir} (profiles: {known})", file=sys.stderr)
        raise _NoProfile
    return profile, partners


def _read(path: str, profile: PartnerProfile | None = None) -> X12Document | None:
    return read_document(path, profile.delimiters.for_reading() if profile is not None else None)


def _print_json(data: object) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def cmd_validate(args: argparse.Namespace) -> int:
    """Every finding with its position; exit 1 when any rejects a set, a group or the interchange."""
    try:
        document = _read(args.file, _profile(args))
    except _NoProfile:
        return EXIT_FAILED
    if document is None:
        return EXIT_FAILED
    failed = False
    report = []
    for finding in document.findings:
        if finding.code_source != "TA1":  # set and group findings come with the group validation below
            continue
        failed = True
        report.append({"level": "interchange", **finding.to_json()})
        print(
            f"{args.file}:{finding.line}: segment {finding.segment_ordinal} ({finding.segment_tag}): "
            f"{finding.message} [TA1 code {finding.code}]",
            file=sys.stderr,
        )
    for interchange in document.interchanges:
        for group in interchange.groups:
            result = validate_group(group, interchange.delimiters)
            for code in result.group_errors:
                failed = True
                report.append({"level": "group", "group_control": group.control_number, "code": code})
                print(f"{args.file}: group {group.control_number}: rejected [AK905 code {code}]", file=sys.stderr)
            for outcome in result.sets:
                for item in outcome.findings:
                    failed = failed or item.rejects
                    report.append({"set_control": outcome.control_number, **item.to_json()})
                    where = f"{args.file}:{item.line}:" if item.line is not None else f"{args.file}:"
                    element = f" element {item.element}" if item.element is not None else ""
                    component = f" component {item.component}" if item.component is not None else ""
                    note = "" if item.rejects else " (noted, not rejected)"
                    print(
                        f"{where} set {outcome.control_number} segment {item.position} ({item.segment_id}){element}"
                        f"{component}: {item.message} [{item.code_source} code {item.code}]{note}",
                        file=sys.stderr,
                    )
    if args.json:
        _print_json(report)
    elif not report:
        print(f"{args.file}: no errors", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_ack(args: argparse.Namespace) -> int:
    """The 997/999 (and TA1) that would answer each interchange, with preview control numbers."""
    try:
        profile = _profile(args)
    except _NoProfile:
        return EXIT_FAILED
    document = _read(args.file, profile)
    if document is None:
        return EXIT_FAILED
    now = datetime.now(UTC)
    for number, interchange in enumerate(document.interchanges, 1):
        ack = acknowledge_interchange(
            interchange,
            interchange_control_number=number,
            group_control_number=1,
            set_control_number=1,
            when=now,
            findings=document.findings,
            delimiters=profile.delimiters.for_writing(interchange.delimiters) if profile else interchange.delimiters,
            newline=profile.delimiters.segment_suffix or "\n" if profile else "\n",
            ta1=True if profile is not None and profile.acks.ta1 else None,
        )
        sys.stdout.buffer.write(ack if ack.endswith(b"\n") else ack + b"\n")
    sys.stdout.flush()
    return EXIT_OK


def cmd_to_orders(args: argparse.Namespace) -> int:
    """Canonical orders of the accepted 850s as a JSON array; rejected sets are listed on stderr."""
    from orderhub.mapping import Mapping, MappingContext, MappingError, builtin_mapping
    from orderhub.mapping.x12 import map_interchange
    from orderhub.store.base import sha256_hex

    data = read_input(args.file)
    if data is None:
        return EXIT_FAILED
    try:
        found = _partner(args)
    except _NoProfile:
        return EXIT_FAILED
    profile = found[0] if found is not None else None
    if args.mapping:
        mapping = Mapping.load(Path(args.mapping))
    elif found is not None:
        mapping = found[1].mapping_for(found[0].id)  # the partner's own mapping when its profile names one
    else:
        mapping = builtin_mapping("x12-850")
    ctx = MappingContext(
        connector=args.connector or "",
        account=args.account or (profile.id if profile else ""),
        channel=mapping.channel,
        received_at=datetime.now(UTC),
        raw_ref=f"sha256:{sha256_hex(data)}",
        timezone=profile.timezone if profile else "UTC",
        currency=profile.currency if profile else None,
        sku_xref=dict(profile.sku_xref) if profile else {},
        uom_xref=dict(profile.uom_xref) if profile else {},
    )
    try:
        mapped = map_interchange(data, mapping, ctx, profile.delimiters.for_reading() if profile else None)
    except MappingError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for rejected in mapped.rejected:
        for error in rejected.errors:
            print(
                f"{args.file}: interchange {rejected.interchange_control} group {rejected.group_control}"
                f" set {rejected.set_control}: rejected, no order: {error}",
                file=sys.stderr,
            )
    _print_json([order.model_dump(mode="json") for order in mapped.orders])
    return EXIT_FAILED if mapped.rejected else EXIT_OK


def cmd_emit(args: argparse.Namespace) -> int:
    """An 855, 856 or 810 for a stored order: printed with preview numbers, or queued with --send."""
    import asyncio

    from orderhub.cli import _config, _database
    from orderhub.service.config import ConfigErrors
    from orderhub.service.documents import parse_record, preview, send
    from orderhub.store.sqlite import SqliteStore, read_order
    from orderhub.x12.outbound import OutboundError
    from orderhub.x12.partners import load_partners

    config = _config(args)
    db = _database(config)
    order = db.read_sync(lambda conn: read_order(conn, args.order_id)) if db is not None else None
    if order is None or db is None:
        print(f"no order {args.order_id!r} (list them with `orderhub orders list`)", file=sys.stderr)
        return EXIT_FAILED
    try:
        partners = load_partners(config.partners_dir)
    except ConfigErrors as exc:
        for problem in exc.errors:
            print(problem, file=sys.stderr)
        return EXIT_FAILED
    partner_id = args.partner or order["source"]["account"]
    profile = partners.get(partner_id)
    if profile is None:
        print(f"no partner profile {partner_id!r} in {config.partners_dir}; pass --partner ID", file=sys.stderr)
        return EXIT_FAILED
    try:
        record = parse_record(args.document, Path(args.record).read_bytes() if args.record else None)
        if not args.send:
            data = db.read_sync(lambda conn: preview(conn, args.document, order, record, profile))
            sys.stdout.buffer.write(data if data.endswith(b"\n") else data + b"\n")
            return EXIT_OK

        async def queue() -> tuple[str, bytes]:
            store = SqliteStore(db)
            await store.open()
            try:
                return await send(store, args.document, order, record, profile)
            finally:
                await store.close()

        name, _ = asyncio.run(queue())
    except (OSError, ValueError, OutboundError) as exc:
        print(f"{args.order_id}: cannot make the {args.document}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"queued {name} for {profile.id}; the daemon delivers it by connector {order['source']['connector']!r}",
        file=sys.stderr,
    )
    return EXIT_OK


def add_trade_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="orderhub.yaml")
    validate = commands.add_parser(
        "validate", parents=[common], help="check a file against the transaction-set specs (exit 1 on errors)"
    )
    validate.add_argument("file", metavar="FILE", help='the X12 file ("-" reads standard input)')
    validate.add_argument("--json", action="store_true", help="print the findings as JSON on stdout")
    validate.add_argument("--partner", metavar="ID", help="read with this partner profile's delimiters")
    validate.set_defaults(func=cmd_validate)

    ack = commands.add_parser(
        "ack", parents=[common], help="print the 997/999 (and TA1) it would send; preview control numbers"
    )
    ack.add_argument("file", metavar="FILE", help='the X12 file ("-" reads standard input)')
    ack.add_argument("--partner", metavar="ID", help="answer with this partner profile's delimiters and TA1 setting")
    ack.set_defaults(func=cmd_ack)

    to_orders = commands.add_parser("to-orders", parents=[common], help="canonical orders of the file's 850s (JSON)")
    to_orders.add_argument("file", metavar="FILE", help='the X12 file ("-" reads standard input)')
    to_orders.add_argument("--account", metavar="ID", help="order ids are ACCOUNT:PO (default: the ISA sender id)")
    to_orders.add_argument("--connector", metavar="NAME", help="source.connector of the orders (default: the account)")
    to_orders.add_argument("--mapping", metavar="FILE", help="a mapping file instead of the built-in x12-850")
    to_orders.add_argument(
        "--partner", metavar="ID", help="apply this partner profile: account, time zone, currency, cross-references"
    )
    to_orders.set_defaults(func=cmd_to_orders)

    emit = commands.add_parser(
        "emit", parents=[common], help="an 855, 856 or 810 for a stored order (printed, or queued with --send)"
    )
    emit.add_argument("document", choices=["855", "856", "810"])
    emit.add_argument("order_id", metavar="ORDER_ID")
    emit.add_argument(
        "record",
        metavar="FILE",
        nargs="?",
        help="JSON: 855 line decisions (optional), the 856 shipment, the 810 invoice",
    )
    emit.add_argument("--partner", metavar="ID", help="partner profile (default: the order's account)")
    emit.add_argument("--send", action="store_true", help="take control numbers and queue it for delivery")
    emit.set_defaults(func=cmd_emit)
