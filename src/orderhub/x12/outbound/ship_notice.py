"""856 ship notice from a canonical order and the shipment that left the warehouse.

The hierarchy is the standard carton pack structure (BSN05 0001): one shipment (S), the order (O),
a tare (T) per pallet when cartons travel on pallets, one pack (P) per carton, one item (I) per
order line in the carton. Pallets and cartons carry their SSCC-18 in MAN*GM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator, model_validator

from orderhub.x12._segments import Segment
from orderhub.x12.outbound._common import (
    OrderData,
    OutboundError,
    Party,
    _Input,
    b2b,
    ccyymmdd,
    check_version,
    gtin_qualifier,
    hhmm,
    order_dict,
    order_line,
    order_parties,
    order_references,
    party_segments,
    po_date,
    product_ids,
    real,
    segment,
    transaction_set,
)
from orderhub.x12.outbound.sscc import validate_sscc

STRUCTURE_PICK_PACK = "0001"  # BSN05: shipment, order, packaging, item
SSCC_APPLICATION_IDENTIFIER = "00"


class ShippedLine(_Input):
    """Some quantity of one order line in one carton."""

    line_number: str
    quantity: Decimal = Field(gt=0)
    uom: str | None = None  # the order line's unit by default
    # Ids the warehouse read off the goods; added to the LIN when the order line does not carry them.
    sku: str | None = None
    gtin: str | None = None


class Package(_Input):
    """One carton: its SSCC-18 (MAN*GM) and what is in it."""

    sscc: str
    lines: tuple[ShippedLine, ...] = Field(min_length=1)
    weight: Decimal | None = Field(default=None, gt=0)

    @field_validator("sscc")
    @classmethod
    def _sscc(cls, value: str) -> str:
        return validate_sscc(value)


class Pallet(_Input):
    """A pallet (tare) and the cartons on it."""

    sscc: str
    packages: tuple[Package, ...] = Field(min_length=1)

    @field_validator("sscc")
    @classmethod
    def _sscc(cls, value: str) -> str:
        return validate_sscc(value)


class Shipment(_Input):
    shipment_id: str = Field(min_length=2, max_length=30)  # BSN02
    shipped_at: datetime  # DTM*011; written in its own time zone
    carrier_scac: str = Field(min_length=2, max_length=4)  # TD503
    service: str | None = None  # TD505 routing / service level, "FEDX 2 DAY"
    transport_method: str | None = None  # TD504: M motor, U private parcel service, A air
    tracking_number: str | None = None  # REF*CN (carrier's reference: tracking or PRO number)
    bill_of_lading: str | None = None  # REF*BM
    ship_from: Party  # N1*SF (its code is set to SF)
    packages: tuple[Package, ...] = ()  # cartons shipped loose
    pallets: tuple[Pallet, ...] = ()
    packaging_code: str = "CTN25"  # TD101: corrugated cartons
    weight: Decimal | None = Field(default=None, gt=0)  # TD107; the cartons' weights summed by default
    weight_uom: str = "LB"
    estimated_delivery: date | None = None  # DTM*017
    # MAN02 as "00" + SSCC (20 digits, the GS1 application identifier in front) as the corpus notices
    # write it; False for partners that want the bare 18 digits.
    sscc_with_application_identifier: bool = True

    @model_validator(mode="after")
    def _distinct_sscc(self) -> Shipment:
        if not self.cartons:
            raise ValueError("a shipment has at least one package")
        codes = [pallet.sscc for pallet in self.pallets] + [package.sscc for package in self.cartons]
        if len(set(codes)) != len(codes):
            raise ValueError("two packages or pallets have the same SSCC")
        return self

    @property
    def cartons(self) -> list[Package]:
        """Every carton, on pallets first, then loose."""
        return [package for pallet in self.pallets for package in pallet.packages] + list(self.packages)

    @property
    def total_weight(self) -> Decimal | None:
        if self.weight is not None:
            return self.weight
        weights = [package.weight for package in self.cartons]
        if any(w is None for w in weights):
            return None
        return sum((w for w in weights if w is not None), Decimal(0))


class _Hierarchy:
    """HL01 numbering: each level gets the next id and names its parent."""

    def __init__(self) -> None:
        self.count = 0

    def level(self, parent: int | None, code: str, has_children: bool) -> tuple[int, Segment]:
        self.count += 1
        hl = segment("HL", str(self.count), str(parent) if parent else "", code, "1" if has_children else "0")
        return self.count, hl


def build_856(
    order: OrderData,
    shipment: Shipment,
    *,
    control_number: int,
    issued_at: datetime | None = None,
    version: str = "004010",
    parties: Sequence[Party] = (),
) -> list[Segment]:
    """The 856 (ST..SE) for one shipment of one order.

    BSN03/BSN04 are `issued_at` (when the notice is made), by default the shipment time. `parties`
    replace the order's ship-to (the order keeps no store number) or are added after ship-from.
    """
    data = order_dict(order)
    check_version(version)
    block = b2b(data)
    hierarchy = _Hierarchy()
    issued = issued_at or shipment.shipped_at
    body: list[Segment] = [
        segment("BSN", "00", shipment.shipment_id, ccyymmdd(issued), hhmm(issued), STRUCTURE_PICK_PACK)
    ]

    shipment_id, hl = hierarchy.level(None, "S", True)
    body.append(hl)
    body.extend(_shipment_details(shipment))
    ship_from = shipment.ship_from.model_copy(update={"code": "SF"})
    body.extend(party_segments(order_parties(data, ("ST",), [ship_from, *parties])))

    order_id, hl = hierarchy.level(shipment_id, "O", True)
    body.append(hl)
    body.append(
        segment("PRF", str(block["po_number"]), str(block.get("release_number") or ""), "", ccyymmdd(po_date(data)))
    )
    body.extend(order_references(data))

    for pallet in shipment.pallets:
        tare_id, hl = hierarchy.level(order_id, "T", True)
        body.extend([hl, _sscc_marks(pallet.sscc, shipment)])
        for package in pallet.packages:
            body.extend(_pack(data, shipment, package, tare_id, hierarchy))
    for package in shipment.packages:
        body.extend(_pack(data, shipment, package, order_id, hierarchy))

    body.append(segment("CTT", str(hierarchy.count)))
    return transaction_set("856", control_number, body, version)


def _sscc_marks(sscc: str, shipment: Shipment) -> Segment:
    prefix = SSCC_APPLICATION_IDENTIFIER if shipment.sscc_with_application_identifier else ""
    return segment("MAN", "GM", prefix + sscc)


def _pack(
    order: Mapping[str, Any], shipment: Shipment, package: Package, parent: int, hierarchy: _Hierarchy
) -> list[Segment]:
    pack_id, hl = hierarchy.level(parent, "P", True)
    result = [hl, _sscc_marks(package.sscc, shipment)]
    for shipped in package.lines:
        _, hl = hierarchy.level(pack_id, "I", False)
        result.extend([hl, *_item(order, shipped)])
    return result


def _shipment_details(shipment: Shipment) -> list[Segment]:
    weight = shipment.total_weight
    details = [
        segment(
            "TD1",
            shipment.packaging_code,
            str(len(shipment.cartons)),
            "",
            "",
            "",
            "G" if weight is not None else "",
            real(weight) if weight is not None else "",
            shipment.weight_uom if weight is not None else "",
        ),
        segment("TD5", "B", "2", shipment.carrier_scac, shipment.transport_method or "", shipment.service or ""),
    ]
    if shipment.bill_of_lading:
        details.append(segment("REF", "BM", shipment.bill_of_lading))
    if shipment.tracking_number:
        details.append(segment("REF", "CN", shipment.tracking_number))
    details.append(segment("DTM", "011", ccyymmdd(shipment.shipped_at), hhmm(shipment.shipped_at)))
    if shipment.estimated_delivery is not None:
        details.append(segment("DTM", "017", ccyymmdd(shipment.estimated_delivery)))
    return details


def _item(order: Mapping[str, Any], shipped: ShippedLine) -> list[Segment]:
    line = order_line(order, shipped.line_number)
    pairs = product_ids(line)
    extra = [(gtin_qualifier(shipped.gtin), shipped.gtin)] if shipped.gtin else []
    if shipped.sku:
        extra.append(("SK", shipped.sku))
    for qualifier, value in extra:
        if all(v != value for _, v in pairs):
            pairs.append((qualifier, value))
    if not pairs:
        raise OutboundError(f"line {shipped.line_number} has no product id for its LIN")
    lin = segment("LIN", "", *[item for pair in pairs[:15] for item in pair])
    uom = shipped.uom or str(line.get("uom") or "EA")
    return [lin, segment("SN1", "", real(shipped.quantity), uom)]
