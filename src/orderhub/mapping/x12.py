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
from orderhub.x12 import X12Error, parse
from orderhub.x12._document import set_documents
from orderhub.x12._validator import validate_transaction_set


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


def map_interchange(raw: bytes, mapping: Mapping, ctx: MappingContext, timezone: str = "UTC") -> X12Mapped:
    """Without an account in `ctx` (no partner profile), the ISA sender id is the account."""
    try:
        document = parse(raw)
    except X12Error as exc:
        raise MappingError(str(mapping.path), "", "", str(exc)) from None
    result = X12Mapped()
    for interchange, group, transaction_set, doc in set_documents(document.interchanges, mapping.sets, timezone):
        findings = validate_transaction_set(transaction_set.segments, interchange.delimiters, group.version)
        errors = [f"segment {f.position} ({f.segment_id}): {f.message}" for f in findings if f.rejects]
        if errors:
            result.rejected.append(
                RejectedSet(
                    interchange.sender_id.strip(),
                    interchange.control_number,
                    group.control_number,
                    transaction_set.control_number,
                    errors,
                )
            )
            continue
        account = ctx.account or interchange.sender_id.strip()
        set_ctx = dataclasses.replace(ctx, account=account, connector=ctx.connector or account)
        result.orders.extend(mapping.apply(doc, set_ctx))
    return result
