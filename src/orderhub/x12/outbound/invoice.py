"""810 invoice from a canonical order and what is billed."""

from __future__ import annotations

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
    cents,
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
    text,
    transaction_set,
    unit_price,
)

# ITD element positions a terms code map (the 850's `attributes.terms_codes`) may carry.
_ITD_POSITIONS = range(1, 16)


class InvoiceLine(_Input):
    line_number: str  # the order line billed
    quantity: Decimal = Field(gt=0)  # IT102
    unit_price: Decimal | None = Field(default=None, ge=0)  # IT104; the ordered price by default
    uom: str | None = None  # IT103; the line's unit by default


class AllowanceCharge(_Input):
    """One header SAC: A allowance (subtracted) or C charge (added)."""

    indicator: Literal["A", "C"]
    code: str = Field(min_length=4, max_length=4)  # SAC02: D240 freight, C310 discount, H750 handling
    amount: Decimal = Field(gt=0)  # SAC05, written N2
    description: str | None = None  # SAC15


class Terms(_Input):
    """ITD terms of sale: "2% 10 days, net 30" is type 01, basis 3, 2, 10, 30."""

    type_code: str = "01"  # ITD01: 01 basic, 05 discount not applicable, 14 previously agreed
    basis_date_code: str = "3"  # ITD02: 3 invoice date
    discount_percent: Decimal | None = None  # ITD03
    discount_days: int | None = None  # ITD05
    net_days: int | None = None  # ITD07
    description: str | None = None  # ITD12


class Invoice(_Input):
    invoice_number: str = Field(min_length=1, max_length=22)  # BIG02
    invoice_date: date  # BIG01
    # What is billed; every order line at its ordered quantity and price when empty.
    lines: tuple[InvoiceLine, ...] = ()
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    terms: Terms | None = None  # the terms the 850 sent (ITD) by default
    remit_to: Party | None = None  # N1*RI (its code is set to RI)
    shipped_on: date | None = None  # DTM*011


def _itd(order: Mapping[str, Any], terms: Terms | None) -> list[Segment]:
    if terms is not None:
        return [
            segment(
                "ITD",
                terms.type_code,
                terms.basis_date_code,
                real(terms.discount_percent) if terms.discount_percent is not None else "",
                "",
                str(terms.discount_days) if terms.discount_days is not None else "",
                "",
                str(terms.net_days) if terms.net_days is not None else "",
                "",
                "",
                "",
                "",
                text(terms.description, 80),
            )
        ]
    # Echo the buyer's own ITD element by element, as the 850 carried it.
    received = (order.get("attributes") or {}).get("terms_codes")
    if not isinstance(received, Mapping) or not received:
        return []
    values = [str(received.get(f"ITD{position:02d}") or "") for position in _ITD_POSITIONS]
    return [segment("ITD", *values)]


def _billed(order: Mapping[str, Any], invoice: Invoice) -> list[tuple[Mapping[str, Any], InvoiceLine]]:
    if invoice.lines:
        numbers = [line.line_number for line in invoice.lines]
        if len(set(numbers)) != len(numbers):
            raise OutboundError("an order line is billed twice in one invoice")
        return [(order_line(order, line.line_number), line) for line in invoice.lines]
    billed = []
    for line in order.get("lines") or ():
        number = str(line["line_number"])
        billed.append((line, InvoiceLine(line_number=number, quantity=decimal(line["quantity"], f"line {number}"))))
    return billed


def build_810(
    order: OrderData,
    invoice: Invoice,
    *,
    control_number: int,
    version: str = "004010",
    parties: Sequence[Party] = (),
) -> list[Segment]:
    """The 810 (ST..SE) for one invoice of one order.

    TDS01 is the lines' quantity x price plus charges minus allowances, in cents (N2). `parties`
    replace the order's bill-to / ship-to or are added after them.
    """
    data = order_dict(order)
    check_version(version)
    block = b2b(data)
    given = list(parties)
    if invoice.remit_to is not None:
        given.insert(0, invoice.remit_to.model_copy(update={"code": "RI"}))
    body: list[Segment] = [
        segment(
            "BIG",
            ccyymmdd(invoice.invoice_date),
            invoice.invoice_number,
            ccyymmdd(po_date(data)),
            str(block["po_number"]),
            str(block.get("release_number") or ""),
        ),
        *currency(data, "SE"),
        *order_references(data),
        *party_segments(order_parties(data, ("RI", "BT", "ST"), given)),
        *_itd(data, invoice.terms),
    ]
    if invoice.shipped_on is not None:
        body.append(segment("DTM", "011", ccyymmdd(invoice.shipped_on)))

    total = Decimal(0)
    units = Decimal(0)
    units_uom: set[str] = set()
    line_count = 0
    for line, billed in _billed(data, invoice):
        price = billed.unit_price if billed.unit_price is not None else unit_price(line)
        if price is None:
            raise OutboundError(f"line {billed.line_number} has no unit price to invoice")
        uom = billed.uom or str(line.get("uom") or "EA")
        body.append(
            segment(
                "IT1",
                billed.line_number,
                real(billed.quantity),
                uom,
                real(price),
                price_basis(line),
                *flatten(product_ids(line)),
            )
        )
        body.extend(line_description(line))
        total += billed.quantity * price
        units += billed.quantity
        units_uom.add(uom)
        line_count += 1
    if not line_count:
        raise OutboundError("an invoice bills at least one line")

    for item in invoice.allowances_charges:
        total += item.amount if item.indicator == "C" else -item.amount
    if total < 0:
        raise OutboundError(f"allowances exceed the invoiced amount ({real(total)})")
    body.append(segment("TDS", cents(total)))
    for item in invoice.allowances_charges:
        body.append(
            segment("SAC", item.indicator, item.code, "", "", cents(item.amount), *[""] * 9, text(item.description, 80))
        )
    # ISS01/02 total units when they share one unit of measure (units of different kinds do not add up).
    if len(units_uom) == 1:
        body.append(segment("ISS", real(units), units_uom.pop()))
    body.append(segment("CTT", str(line_count)))
    return transaction_set("810", control_number, body, version)
