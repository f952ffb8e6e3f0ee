"""What the outbound builders share: reading the canonical order, formatting values, parties, ST/SE."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict

from orderhub.model import Order
from orderhub.x12._segments import Delimiters, Segment
from orderhub.x12._specs import default_library
from orderhub.x12._validator import validate_transaction_set

BASE_VERSION = "004010"
# The built sets hold no composites, so checking them uses a component separator no value holds:
# a ":" in a description is data here, and the partner's own separators are scrubbed when written.
_CHECKING = Delimiters(element="*", component="\x1f", segment="~")
MAX_ID_PAIRS = 10  # PO1 / IT1 carry at most ten qualifier-id pairs

OrderData = Mapping[str, Any] | Order


class OutboundError(ValueError):
    """The canonical data cannot make the requested document (a missing PO number, an unknown line, ...)."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def order_dict(order: OrderData) -> Mapping[str, Any]:
    """The canonical order JSON form (`orderhub orders show --json`), whichever way it was given."""
    if isinstance(order, Order):
        return order.model_dump(mode="json")
    return order


def check_version(version: str) -> str:
    """GS08 as given; the builders write 8-digit dates, which X12 uses from 004010 on."""
    base = version[:6]
    if not (len(base) == 6 and base.isdigit() and base >= BASE_VERSION):
        raise OutboundError(f"version {version!r} is not supported for outbound documents (004010 or later)")
    return version


def segment(tag: str, *elements: str) -> Segment:
    values = list(elements)
    while values and not values[-1]:
        values.pop()
    return Segment(tag=tag, elements=values, ordinal=0, line=0, offset=0)


def transaction_set(set_id: str, control_number: int, body: Sequence[Segment], version: str) -> list[Segment]:
    """ST..SE around `body` (SE01 counts ST and SE), checked against orderhub's spec of the set.

    A document orderhub's own validator rejects is never handed out: the partner's 997 would reject
    it too, after it was sent.
    """
    if not 0 < control_number <= 999_999_999:
        raise OutboundError(f"ST02 must be 1..999999999, got {control_number}")
    control = f"{control_number:04d}"
    segments = [segment("ST", set_id, control), *body, segment("SE", str(len(body) + 2), control)]
    # Noted-only findings (a unit of measure outside the common list) do not stop a document.
    findings = [f for f in validate_transaction_set(segments, _CHECKING, version) if f.rejects]
    if findings:
        problems = "; ".join(f"segment {f.position} ({f.segment_id}): {f.message}" for f in findings)
        raise OutboundError(f"the {set_id} built from this data does not validate: {problems}")
    return segments


def functional_id(set_id: str, version: str) -> str:
    """GS01 for a set, from its spec (855 PR, 856 SH, 810 IN)."""
    spec = default_library().spec_for(set_id, version)
    if spec is None:
        raise OutboundError(f"no spec for transaction set {set_id!r}")
    return spec.functional_group


# --- values ------------------------------------------------------------------------------------


def decimal(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise OutboundError(f"{what}: {value!r} is not a number") from None
    if not number.is_finite():
        raise OutboundError(f"{what}: {value!r} is not a number")
    return number


def real(value: Decimal) -> str:
    """An X12 R value: no exponent, no trailing zeros ("0008" -> "8", "12.50" -> "12.5")."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def cents(value: Decimal) -> str:
    """An N2 value: the amount in hundredths, rounded half up ("100.00" -> "10000")."""
    return str(int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def ccyymmdd(value: date) -> str:
    return value.strftime("%Y%m%d")


def hhmm(value: datetime) -> str:
    return value.strftime("%H%M")


def parse_date(value: Any) -> date | None:
    """A canonical date ("2022-08-30") or datetime ("2022-10-11T02:56:30Z") as a date."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    if "T" in text:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    return date.fromisoformat(text)


def text(value: Any, max_length: int) -> str:
    """Free text (names, addresses, descriptions) for an AN element: one line, plain ASCII (partners
    read X12 as ASCII: "Montréal" becomes "Montreal", a character with no ASCII form "?"), cut to the
    element's maximum length."""
    if value is None:
        return ""
    folded = unicodedata.normalize("NFKD", " ".join(str(value).split()))
    ascii_text = "".join(ch if ch.isascii() else "?" for ch in folded if not unicodedata.combining(ch))
    return ascii_text[:max_length]


# --- the order ---------------------------------------------------------------------------------


def b2b(order: Mapping[str, Any]) -> Mapping[str, Any]:
    block = order.get("b2b")
    if not block or not block.get("po_number"):
        raise OutboundError(f"order {order.get('id')!r} has no b2b.po_number to answer")
    result: Mapping[str, Any] = block
    return result


def po_date(order: Mapping[str, Any]) -> date:
    """BEG05 as mapped (b2b.po_date); an order without it was placed on `placed_at`."""
    found = parse_date(b2b(order).get("po_date")) or parse_date(order.get("placed_at"))
    if found is None:
        raise OutboundError(f"order {order.get('id')!r} has neither b2b.po_date nor placed_at")
    return found


def order_line(order: Mapping[str, Any], line_number: str) -> Mapping[str, Any]:
    for line in order.get("lines") or ():
        if str(line.get("line_number")) == line_number:
            found: Mapping[str, Any] = line
            return found
    raise OutboundError(f"order {order.get('id')!r} has no line {line_number!r}")


def gtin_qualifier(gtin: str) -> str:
    # UPC-A is 12 digits (UP), EAN-13 13 (EN), a GTIN-14 case code 14 (UK).
    return {12: "UP", 14: "UK"}.get(len(gtin), "EN")


def product_ids(line: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The line's qualifier-id pairs: the buyer's own pairs as received (PO1 order) first, then the
    canonical ids the buyer did not send (GTIN UP/EN/UK, BP buyer part, VN vendor part, SK SKU)."""
    pairs: list[tuple[str, str]] = []
    received = (line.get("attributes") or {}).get("product_ids")
    if isinstance(received, Mapping):
        pairs.extend((str(q), str(v)) for q, v in received.items() if q and v not in (None, ""))
    gtin = line.get("gtin")
    derived = [
        (gtin_qualifier(str(gtin)) if gtin else "", gtin),
        ("BP", line.get("buyer_part_number")),
        ("VN", line.get("vendor_part_number")),
        ("SK", line.get("sku")),
    ]
    for qualifier, value in derived:
        if not value:
            continue
        value = str(value)
        if any(q == qualifier or v == value for q, v in pairs):
            continue
        pairs.append((qualifier, value))
    return pairs[:MAX_ID_PAIRS]


def flatten(pairs: Sequence[tuple[str, str]]) -> list[str]:
    return [item for pair in pairs for item in pair]


def unit_price(line: Mapping[str, Any]) -> Decimal | None:
    price = line.get("unit_price")
    if not price or price.get("amount") in (None, ""):
        return None
    return decimal(price["amount"], f"line {line.get('line_number')} unit_price")


def price_basis(line: Mapping[str, Any]) -> str:
    """PO105 as the buyer sent it (echoed in PO1 and IT1); "" when it was not sent."""
    basis = (line.get("attributes") or {}).get("price_basis")
    return str(basis) if basis else ""


def line_description(line: Mapping[str, Any]) -> list[Segment]:
    description = text(line.get("description"), 80)
    return [segment("PID", "F", "", "", "", description)] if description else []


# --- parties -------------------------------------------------------------------------------------


class Party(_Input):
    """One N1 loop: N101 entity code (ST, BT, BY, SF, SE, RI, ...), name, id, address."""

    code: str
    name: str | None = None
    id_qualifier: str | None = None  # N103: 92 assigned by buyer, 1 DUNS, UL GLN, ...
    id: str | None = None
    company: str | None = None  # N2, when the name is a person's
    lines: tuple[str, ...] = ()
    city: str | None = None
    region_code: str | None = None
    postal_code: str | None = None
    country: str | None = None

    @classmethod
    def from_address(cls, code: str, address: Mapping[str, Any] | None) -> Party | None:
        """A canonical address (`ship_to`, `bill_to`) as a party; None when the order has none."""
        if not address:
            return None
        return cls(
            code=code,
            name=address.get("name") or address.get("company"),
            company=address.get("company") if address.get("name") else None,
            lines=tuple(address.get("lines") or ()),
            city=address.get("city"),
            region_code=address.get("region_code"),
            postal_code=address.get("postal_code"),
            country=address.get("country"),
        )

    def segments(self) -> list[Segment]:
        name = text(self.name, 60)
        has_id = bool(self.id_qualifier and self.id)
        if not name and not has_id:
            return []
        qualifier, identifier = (self.id_qualifier or "", self.id or "") if has_id else ("", "")
        result = [segment("N1", self.code, name, qualifier, identifier)]
        company = text(self.company, 60)
        if company and company != name:
            result.append(segment("N2", company))
        lines = [text(line, 55) for line in self.lines if text(line, 55)]
        for index in range(0, min(len(lines), 4), 2):
            result.append(segment("N3", *lines[index : index + 2]))
        if self.city or self.region_code or self.postal_code or self.country:
            result.append(
                segment(
                    "N4",
                    text(self.city, 30),
                    self.region_code or "",
                    (self.postal_code or "").strip(),
                    self.country or "",
                )
            )
        return result


def order_parties(order: Mapping[str, Any], codes: Sequence[str], given: Sequence[Party]) -> list[Party]:
    """Parties in `codes` order: a given party replaces the one the order holds under the same code
    (the order keeps no N104 store numbers, so a caller that needs them passes the party); given
    parties with other codes follow."""
    from_order: dict[str, Party | None] = {
        "BY": _buyer(order),
        "BT": Party.from_address("BT", order.get("bill_to")),
        "ST": Party.from_address("ST", order.get("ship_to")),
    }
    by_code = {party.code: party for party in given}
    result: list[Party] = []
    for code in codes:
        party = by_code.pop(code, None) or from_order.get(code)
        if party is not None:
            result.append(party)
    result.extend(by_code.values())
    return result


def _buyer(order: Mapping[str, Any]) -> Party | None:
    customer = order.get("customer")
    if not customer or not customer.get("name"):
        return None
    buyer_id = customer.get("external_id")
    return Party(code="BY", name=customer["name"], id_qualifier="92" if buyer_id else None, id=buyer_id)


def party_segments(parties: Sequence[Party]) -> list[Segment]:
    return [s for party in parties for s in party.segments()]


def order_references(order: Mapping[str, Any]) -> list[Segment]:
    """REF*DP (department) and REF*IA (vendor number) when the order holds them."""
    block = b2b(order)
    refs = [("DP", block.get("department")), ("IA", block.get("vendor_number"))]
    return [segment("REF", qualifier, str(value)) for qualifier, value in refs if value]


def currency(order: Mapping[str, Any], entity: str) -> list[Segment]:
    """CUR only when the order is not in US dollars, which X12 assumes."""
    code = order.get("currency")
    return [segment("CUR", entity, str(code))] if code and code != "USD" else []
