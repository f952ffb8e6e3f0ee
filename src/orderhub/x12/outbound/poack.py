"""855 purchase order acknowledgment from a canonical order and a decision per line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from orderhub.x12._segments import Segment
from orderhub.x12.outbound._common import (
    OrderData,
    OutboundError,
    Party,
    _Input,
    b2b,
    ccyymmdd,
    check_version,
    currency,
    decimal,
    flatten,
    line_description,
    order_dict,
    order_line,
    order_parties,
    order_references,
    party_segments,
    po_date,
    price_basis,
    product_ids,
    real,
    segment,
    transaction_set,
    unit_price,
)

# ACK01 line item status codes (X12 element 668).
LineStatus = Literal[
    "IA",  # item accepted
    "IC",  # accepted, changes made
    "IR",  # item rejected
    "IB",  # backordered
    "IQ",  # accepted, quantity changed
    "IP",  # accepted, price changed
    "ID",  # item deleted
    "IS",  # accepted, substitution made
    "IH",  # item on hold
    "IE",  # accepted, price pending
    "IF",  # on hold, incomplete description
    "IW",  # on hold, waiver required
    "AC",  # acknowledged, with detail and change
    "AR",  # acknowledged, rejected
    "DR",  # acknowledged, date rescheduled
    "R1",  # rejected, not a contract item
    "R2",  # rejected, invalid item product number
    "R3",  # rejected, invalid unit of issue
    "R4",  # rejected, contract item not available
    "SP",  # schedule date pending
]
AckType = Literal["AD", "AC", "RJ", "AT", "AK", "AE", "AH", "AP", "NA", "RD", "RF", "RO", "ZZ"]

REJECTED: frozenset[str] = frozenset({"IR", "ID", "AR", "R1", "R2", "R3", "R4"})
# BAK02 AD when every line is acknowledged exactly as ordered.
AS_ORDERED: frozenset[str] = frozenset({"IA"})


class LineDecision(_Input):
    """What the seller says about one ordered line (ACK loop)."""

    line_number: str
    status: LineStatus
    # ACK02: the quantity the status applies to; by default the ordered quantity, 0 for a rejection.
    quantity: Decimal | None = Field(default=None, ge=0)
    uom: str | None = None  # ACK03; the line's unit by default
    date: dt.date | None = None  # ACK05: when the line ships (or arrives, per `date_qualifier`)
    date_qualifier: str = "068"  # ACK04: 068 current schedule ship, 067 current schedule delivery


def acknowledgment_type(statuses: Sequence[str]) -> AckType:
    """BAK02 from the line statuses: AD all as ordered, RJ all rejected, AC anything in between."""
    if statuses and all(s in REJECTED for s in statuses):
        return "RJ"
    if all(s in AS_ORDERED for s in statuses):
        return "AD"
    return "AC"


def build_855(
    order: OrderData,
    decisions: Sequence[LineDecision] = (),
    *,
    control_number: int,
    ack_date: date,
    version: str = "004010",
    ack_type: AckType | None = None,
    parties: Sequence[Party] = (),
) -> list[Segment]:
    """The 855 (ST..SE) answering the order's 850.

    Every ordered line is echoed (PO1 with the buyer's line number, quantity, unit, price, basis and
    product ids, PID) with an ACK: its decision, or IA for the ordered quantity when none is given.
    With `ack_type` RJ and no decisions the whole PO is rejected at the header (no lines, CTT*0).
    `parties` replace the order's N1 loops of the same code (BY, BT, ST) or are added after them.
    """
    data = order_dict(order)
    check_version(version)
    by_line = {d.line_number: d for d in decisions}
    if len(by_line) != len(decisions):
        raise OutboundError("two decisions for the same line")
    for line_number in by_line:
        order_line(data, line_number)  # an unknown line number raises
    header_rejection = ack_type == "RJ" and not decisions
    lines: list[Mapping[str, Any]] = [] if header_rejection else list(data.get("lines") or ())
    statuses = [
        by_line[str(line["line_number"])].status if str(line["line_number"]) in by_line else "IA" for line in lines
    ]
    block = b2b(data)
    body: list[Segment] = [
        segment(
            "BAK",
            "00",
            ack_type or acknowledgment_type(statuses),
            str(block["po_number"]),
            ccyymmdd(po_date(data)),
            str(block.get("release_number") or ""),
            "",
            str((data.get("attributes") or {}).get("contract_number") or ""),
            "",
            ccyymmdd(ack_date),
        ),
        *currency(data, "SE"),
        *order_references(data),
        *party_segments(order_parties(data, ("BY", "BT", "ST"), parties)),
    ]
    for line in lines:
        decision = by_line.get(str(line["line_number"]))
        body.extend(_line(line, decision))
    body.append(segment("CTT", str(len(lines))))
    return transaction_set("855", control_number, body, version)


def _line(line: Mapping[str, Any], decision: LineDecision | None) -> list[Segment]:
    number = str(line["line_number"])
    ordered = decimal(line.get("quantity"), f"line {number} quantity")
    uom = str(line.get("uom") or "EA")
    price = unit_price(line)
    po1 = segment(
        "PO1",
        number,
        real(ordered),
        uom,
        real(price) if price is not None else "",
        price_basis(line) if price is not None else "",
        *flatten(product_ids(line)),
    )
    status = decision.status if decision else "IA"
    quantity = decision.quantity if decision and decision.quantity is not None else None
    if quantity is None:
        quantity = Decimal(0) if status in REJECTED else ordered
    when = decision.date if decision else None
    ack = segment(
        "ACK",
        status,
        real(quantity),
        (decision.uom if decision and decision.uom else uom),
        decision.date_qualifier if decision and when else "",
        ccyymmdd(when) if when else "",
    )
    return [po1, *line_description(line), ack]
