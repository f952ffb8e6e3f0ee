"""X12 interchanges through a declarative mapping: one canonical order per accepted transaction set.

A set that fails validation makes no order; it is listed in `rejected` (and its group's 997/999
says so), while the other sets of the same group go through.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from orderhub.mapping.engine import Mapping, MappingContext
from orderhub.mapping.errors import MappingError
from orderhub.model import Order
from orderhub.x12 import Delimiters, X12Document, X12Error, parse
from orderhub.x12._acks import ReceivedInterchange, validate_group
from orderhub.x12._document import SetContext, set_document


@dataclass(frozen=True, slots=True)
class RejectedSet:
    sender_id: str
    interchange_control: str
    group_control: str
    set_control: str
    errors: list[str]


@dataclass(slots=True)
class X12Mapped:
    orders: list[Order] = field(default_factory=list)
    rejected: list[RejectedSet] = field(default_factory=list)
    received: list[ReceivedInterchange] = field(default_factory=list)  # what the acknowledgments say


def map_interchange(
    raw: bytes, mapping: Mapping, ctx: MappingContext, delimiters: Delimiters | None = None
) -> X12Mapped:
    """Without an account in `ctx` (no partner profile), the ISA sender id is the account. A partner's
    delimiter override (`delimiters`) wins over what the ISA declares.

    Which sets are accepted is decided by the same group validation the 997/999 reports.
    """
    document, received = read_file(raw, str(mapping.path), delimiters)
    return map_document(document, received, mapping, ctx)


def read_file(
    raw: bytes, source: str, delimiters: Delimiters | None = None
) -> tuple[X12Document, list[ReceivedInterchange]]:
    """Parse a file and validate its groups once: what both its orders and its acknowledgments need.
    A file that does not parse raises `MappingError` naming `source` (the mapping file)."""
    try:
        document = parse(raw, delimiters)
    except X12Error as exc:
        raise MappingError(source, "", "", str(exc)) from None
    received = [
        ReceivedInterchange.read(
            interchange, [validate_group(group, interchange.delimiters) for group in interchange.groups]
        )
        for interchange in document.interchanges
    ]
    return document, received


def map_document(
    document: X12Document, received: list[ReceivedInterchange], mapping: Mapping, ctx: MappingContext
) -> X12Mapped:
    """The orders of a file `read_file` read."""
    result = X12Mapped(received=received)
    for interchange, reading in zip(document.interchanges, received, strict=True):
        account = ctx.account or interchange.sender_id.strip()
        set_ctx = dataclasses.replace(ctx, account=account, connector=ctx.connector or account)
        for group, checked in zip(interchange.groups, reading.groups, strict=True):
            for transaction_set, outcome in zip(group.sets, checked.sets, strict=True):
                if transaction_set.id not in mapping.sets:
                    continue
                if checked.rejected_as_a_whole or not outcome.accepted:
                    errors = [
                        f"segment {f.position} ({f.segment_id}): {f.message}" for f in outcome.findings if f.rejects
                    ]
                    result.rejected.append(
                        RejectedSet(
                            interchange.sender_id.strip(),
                            interchange.control_number,
                            group.control_number,
                            transaction_set.control_number,
                            errors or [f"group rejected: {', '.join(checked.group_errors)}"],
                        )
                    )
                    continue
                context = SetContext(interchange, group, ctx.timezone, ctx.currency, ctx.sku_xref, ctx.uom_xref)
                doc = set_document(transaction_set, context)
                result.orders.extend(mapping.apply(doc, set_ctx))
    return result
