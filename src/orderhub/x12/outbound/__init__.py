"""Outbound X12 documents built from canonical data: 855 acknowledgment, 856 ship notice, 810 invoice.

Each builder takes the canonical order (the JSON form `orderhub orders show --json` prints, or the
model) and a small record of what the order does not hold, and returns one transaction set (ST..SE,
SE01 right) checked against orderhub's own spec. Control numbers are parameters. `render_outbound`
puts sets in functional groups and a complete interchange with the partner's delimiters.
"""

from orderhub.x12.outbound._common import OutboundError, Party
from orderhub.x12.outbound.envelope import parties_replying_to, render_outbound
from orderhub.x12.outbound.invoice import AllowanceCharge, Invoice, InvoiceLine, Terms, build_810
from orderhub.x12.outbound.poack import LineDecision, LineStatus, acknowledgment_type, build_855
from orderhub.x12.outbound.ship_notice import Package, Pallet, Shipment, ShippedLine, build_856
from orderhub.x12.outbound.sscc import gs1_check_digit, is_valid_sscc, sscc18, validate_sscc

__all__ = [
    "AllowanceCharge",
    "Invoice",
    "InvoiceLine",
    "LineDecision",
    "LineStatus",
    "OutboundError",
    "Package",
    "Pallet",
    "Party",
    "Shipment",
    "ShippedLine",
    "Terms",
    "acknowledgment_type",
    "build_810",
    "build_855",
    "build_856",
    "gs1_check_digit",
    "is_valid_sscc",
    "parties_replying_to",
    "render_outbound",
    "sscc18",
    "validate_sscc",
]
