"""The built-in X12 850 mapping on the real corpus: exact orders, one per accepted set."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orderhub.mapping import MappingContext, MappingError, builtin_mapping
from orderhub.mapping.x12 import X12Mapped, map_interchange

pytestmark = pytest.mark.corpus

RECEIVED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def run(corpus: Path, name: str, account: str = "", **partner: Any) -> X12Mapped:
    ctx = MappingContext(
        connector="", account=account, channel="x12", received_at=RECEIVED, raw_ref="sha256:x", **partner
    )
    return map_interchange((corpus / "x12" / name).read_bytes(), builtin_mapping("x12-850"), ctx)


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def dump(mapped: X12Mapped) -> list[dict[str, Any]]:
    return [order.model_dump(mode="json") for order in mapped.orders]


def test_vics_po_maps_every_line_party_and_envelope_id(corpus: Path) -> None:
    mapped = run(corpus, "850/nodex12_vics.edi")
    assert mapped.rejected == []
    [order] = dump(mapped)
    assert order["id"] == "4405197800:08292233294"  # no partner profile: the ISA sender is the account
    assert order["source"]["updated_at"] == order["placed_at"] == "2010-11-27T17:19:00Z"  # GS04/GS05, UTC
    assert order["status"] == "received" and order["test"] is False and order["currency"] == "USD"
    assert order["ship_to"] == {
        "name": "XYZ RETAIL",
        "company": None,
        "lines": ["31875 SOLON RD"],
        "city": "SOLON",
        "region": None,
        "region_code": "OH",
        "postal_code": "44139",
        "country": None,
        "phone": None,
        "email": None,
    }
    lines = [
        (line["line_number"], line["sku"], line["buyer_part_number"], line["description"], line["quantity"])
        for line in order["lines"]
    ]
    assert lines == [
        ("1", "AB3542", "065322-117", "SMALL WIDGET", "120"),
        ("2", "RD5322", "066850-116", "MEDIUM WIDGET", "220"),
        ("3", "XY5266", "060733-110", "LARGE WIDGET", "126"),
        ("4", "VX2332", "065308-116", "NANO WIDGET", "76"),
        ("5", "RV0524", "065374-118", "BLUE WIDGET", "72"),
        ("6", "DX1875", "067504-118", "ORANGE WIDGET", "696"),
    ]
    assert [line["unit_price"]["amount"] for line in order["lines"]] == [
        "9.25",
        "13.79",
        "10.99",
        "4.35",
        "7.5",
        "9.55",
    ]
    assert order["lines"][0]["attributes"] == {
        "price_basis": "TE",
        "product_ids": {"CB": "065322-117", "PR": "RO", "VN": "AB3542"},
        "pack": "4",
    }
    # 120 x 9.25 + 220 x 13.79 + 126 x 10.99 + 76 x 4.35 + 72 x 7.5 + 696 x 9.55 = 13045.94 (AMT*1 agrees)
    assert order["totals"]["subtotal"] == order["totals"]["grand_total"] == usd("13045.94")
    assert order["issues"] == []
    assert order["payment"]["terms"] == "2% 45 days, net 46 days"  # ITD*14*3*2**45**46
    assert order["shipping"] == {
        "service_level": "SEE XYZ RETAIL ROUTING GUIDE",
        "carrier": None,  # TD502 92: P3 is the buyer's own routing code, not a SCAC
        "ship_by": None,
        "deliver_by": "2010-12-14T00:00:00Z",
    }
    assert order["b2b"] == {
        "po_number": "08292233294",
        "po_date": "2010-11-27",
        "purpose": "original",
        "release_number": None,
        "buyer_id": None,
        "seller_id": None,
        "department": "038",
        "vendor_number": None,
        "terms": "2% 45 days, net 46 days",
        "edi": {
            "sender_qualifier": "12",
            "sender_id": "4405197800",
            "receiver_qualifier": "01",
            "receiver_id": "999999999",
            "interchange_control": "000003438",
            "group_control": "1421",
            "set_control": "000000010",
            "version": "004010VICS",
        },
    }


def test_a_set_that_fails_validation_makes_no_order_and_the_other_set_goes_through(corpus: Path) -> None:
    mapped = run(corpus, "850/edifabric_two_po_bom.txt", account="aero")
    [order] = dump(mapped)
    assert order["id"] == "aero:XX-1234"
    assert order["test"] is True  # ISA15 T
    assert order["b2b"]["edi"]["set_control"] == "0001"
    assert order["customer"] == {
        "external_id": "1234567890101",
        "name": "ABC AEROSPACE",
        "company": None,
        "email": None,
        "phone": "8001234567",
    }
    line = order["lines"][0]
    assert (line["sku"], line["vendor_part_number"], line["quantity"], line["uom"]) == (
        "XYZ-1234",
        "XYZ-1234",
        "25",
        "EA",
    )
    assert line["unit_price"] == usd("36")
    assert order["totals"]["grand_total"] == usd("900")  # AMT*TT*900 = 25 x 36
    [rejected] = mapped.rejected
    assert (rejected.set_control, rejected.sender_id) == ("0002", "SENDER1")
    assert rejected.errors == ["segment 9 (PO1): PO103 'INVALID' is too long: exactly 2 characters"]


def test_005010_drop_ship_po(corpus: Path) -> None:
    [order] = dump(run(corpus, "850/stedi_005010_dropship.edi"))
    assert order["id"] == "ANOTHERMERCH:365465413"
    assert order["placed_at"] == "2022-10-11T02:56:30Z"  # GS05 with seconds
    assert [
        (line["line_number"], line["sku"], line["quantity"], line["unit_price"]["amount"]) for line in order["lines"]
    ] == [
        ("item-1", "ACM/8900-400", "8", "400"),  # zero-padded 0008 read as a number
        ("item-2", "ACM/1100-001", "4", "125"),
    ]
    assert [line["vendor_part_number"] for line in order["lines"]] == ["VND1234567", "VND000111222"]
    assert order["ship_to"]["country"] == "US" and order["ship_to"]["postal_code"] == "85001"
    assert order["totals"]["grand_total"] == usd("3700")
    assert order["b2b"]["edi"]["version"] == "005010"


def test_two_interchanges_give_two_revisions_of_one_po_id(corpus: Path) -> None:
    orders = dump(run(corpus, "850/nodex12_two_interchanges.edi"))
    assert [order["id"] for order in orders] == ["4405197800:08292233294", "4405197800:08292233294"]


def test_wrong_segment_count_rejects_the_set(corpus: Path) -> None:
    mapped = run(corpus, "850/gozer_walmart_vics.txt")
    assert mapped.orders == []
    assert mapped.rejected[0].errors == ["segment 21 (SE): SE01 says '33' segments but the set has 21 (ST through SE)"]


def test_other_sets_in_a_mixed_file_are_not_orders(corpus: Path) -> None:
    mapped = run(corpus, "other/mixed_810_850_two_gs.edi")
    assert mapped.orders == []
    assert [r.errors for r in mapped.rejected] == [["segment 9 (N1): N104 is required when N103 is present (P0304)"]]


def test_a_file_that_is_not_x12_names_what_is_wrong() -> None:
    ctx = MappingContext(connector="", account="", channel="x12", received_at=RECEIVED, raw_ref="sha256:x")
    with pytest.raises(MappingError, match="ISA"):
        map_interchange(b'{"not": "x12"}', builtin_mapping("x12-850"), ctx)


def test_partner_profile_currency_time_zone_and_cross_references(corpus: Path) -> None:
    mapped = run(
        corpus,
        "850/nodex12_vics.edi",
        account="vics",
        timezone="America/New_York",
        currency="CAD",
        sku_xref={"065322-117": "SMALL-W-OURS"},  # their catalog number (CB) -> our SKU
        uom_xref={"EA": "PC"},
    )
    [order] = dump(mapped)
    assert order["placed_at"] == "2010-11-27T22:19:00Z"  # GS 20101127 1719 in New York (EST, UTC-5)
    assert order["currency"] == "CAD"  # no CUR segment: the partner's currency
    assert [(line["sku"], line["uom"]) for line in order["lines"][:2]] == [("SMALL-W-OURS", "PC"), ("RD5322", "PC")]
    assert order["attributes"]["ship_to_id"] == "9:0003947268292"  # N103/N104: the store's GLN
    assert (order["attributes"]["gs_sender"], order["attributes"]["gs_receiver"]) == ("4405197800", "999999999")
