"""The built-in Magento 2 / Adobe Commerce order mapping on the real REST payloads in the shared corpus.

Every expected value is written out by hand from the payload files and the rules of CONTRACTS.md.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orderhub.cli import main
from orderhub.mapping import MappingContext, MappingError, builtin_mapping, map_payload, parse_json
from orderhub.model import Order, dump_order

pytestmark = pytest.mark.corpus

CTX = MappingContext(
    connector="magento-main",
    account="mage",
    channel="magento",
    received_at=datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC),
    raw_ref="sha256:0000",
)
ORDER_FILE = "rest-V1-orders-3-get-bundle-downloadable.json"


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def line(
    number: str, item_id: str, sku: str, name: str, price: str, product_id: str, product_type: str
) -> dict[str, Any]:
    return {
        "line_number": number,
        "external_id": item_id,
        "sku": sku,
        "gtin": None,
        "buyer_part_number": None,
        "vendor_part_number": None,
        "description": name,
        "quantity": "1",
        "uom": "EA",
        "unit_price": usd(price),
        "discounts": [],
        "taxes": [],
        "requires_shipping": True,
        "attributes": {"product_id": product_id, "product_type": product_type},
    }


JANE = {
    "name": "Jane Doe",
    "company": None,
    "lines": ["123 Oak Ave"],
    "city": "Purchase",
    "region": "New York",
    "region_code": "NY",
    "postal_code": "10577",
    "country": "US",
    "phone": "512-555-1111",
    "email": "jdoe@example.com",
}

ORDER_3 = {
    "schema_version": "1",
    "id": "mage:3",  # entity_id, not the increment_id
    "revision": 0,
    "source": {
        "channel": "magento",
        "connector": "magento-main",
        "account": "mage",
        "external_id": "3",
        "external_number": "000000003",
        "updated_at": "2017-08-21T22:22:20Z",
        "received_at": "2026-11-23T08:00:00Z",
        "raw_ref": "sha256:0000",
    },
    "status": "received",  # state new
    "test": False,
    "placed_at": "2017-08-21T22:22:19Z",
    "currency": "USD",
    "prices_include_tax": False,
    "customer": {
        "external_id": "3",
        "name": "Jane Doe",
        "company": None,
        "email": "jdoe@example.com",
        "phone": "512-555-1111",
    },
    "bill_to": JANE,
    "ship_to": JANE,
    # 9 items: the bundle (item 5) has 4 children and the configurable (item 10) one; only the
    # parents are lines, and 22 + 18 + 68 + 52 = 160 = base_subtotal.
    "lines": [
        line("1", "3", "WS12-M-Orange", "Radiant Tee-M-Orange", "22", "1553", "simple"),
        {
            **line("2", "4", "240-LV08", "Advanced Pilates & Yoga (Strength)", "18", "49", "downloadable"),
            "requires_shipping": False,  # is_virtual 1
        },
        {
            **line(
                "3",
                "5",
                "24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086",
                "Sprite Yoga Companion Kit",
                "68",
                "51",
                "bundle",
            ),
            # Items 6 to 9, whose parent_item_id is 5 (27 + 5 + 17 + 19 = 68, not added again).
            "attributes": {
                "product_id": "51",
                "product_type": "bundle",
                "component_skus": ["24-WG082-blue", "24-WG084", "24-WG086", "24-WG088"],
            },
        },
        line("4", "10", "MH01-S-Gray", "Chaz Kangeroo Hoodie", "52", "67", "configurable"),
    ],
    "charges": [
        {"kind": "shipping", "code": "tablerate_bestway", "description": "Best Way - Table Rate", "amount": usd("5")}
    ],
    "taxes": [],
    "totals": {
        "subtotal": usd("160"),
        "discount_total": usd("0"),
        "shipping_total": usd("5"),
        "tax_total": usd("0"),
        "grand_total": usd("165"),
    },
    # Bank transfer, not invoiced yet: nothing paid.
    "payment": {"status": "pending", "method": "banktransfer", "terms": None},
    "refunds": [],
    "shipping": {"service_level": "tablerate_bestway", "carrier": None, "ship_by": None, "deliver_by": None},
    "b2b": None,
    "notes": [],
    "tags": [],
    "issues": [],
    "attributes": {"state": "new", "status": "pending", "store_id": "1", "customer_group_id": "1"},
}


def fixture(corpus: Path, name: str) -> bytes:
    return (corpus / "channels" / "magento" / name).read_bytes()


def as_json(order: Order) -> Any:
    return json.loads(dump_order(order))


def order_3(corpus: Path) -> dict[str, Any]:
    document = parse_json(fixture(corpus, ORDER_FILE))
    assert isinstance(document, dict)
    return document


def map_one(document: dict[str, Any]) -> Any:
    (order,) = builtin_mapping("magento").apply(document, CTX)
    return as_json(order)


def test_order_with_bundle_configurable_and_downloadable_items(corpus: Path) -> None:
    (order,) = map_payload(fixture(corpus, ORDER_FILE), builtin_mapping("magento"), CTX)
    assert as_json(order) == ORDER_3
    assert order.totals.grand_total.amount == Decimal(165)


def test_search_result_holds_orders(corpus: Path) -> None:
    order = order_3(corpus)
    second = {**copy.deepcopy(order), "entity_id": 4, "increment_id": "000000004"}
    search = {
        "items": [order, second],
        "search_criteria": {"filter_groups": [], "page_size": 100, "current_page": 1},
        "total_count": 2,
    }
    orders = builtin_mapping("magento").apply(search, CTX)
    assert [(o.id, o.source.external_number) for o in orders] == [("mage:3", "000000003"), ("mage:4", "000000004")]
    assert as_json(orders[0]) == ORDER_3


def test_invoice_is_not_an_order(corpus: Path) -> None:
    with pytest.raises(MappingError) as caught:
        map_payload(fixture(corpus, "rest-V1-invoices-000000003-discounted.json"), builtin_mapping("magento"), CTX)
    assert caught.value.field == "document"
    assert caught.value.message == (
        "not an order for mapping 'magento': missing status (its keys: base_currency_code, base_discount_amount, "
        "base_grand_total, base_discount_tax_compensation_amount, base_shipping_amount, "
        "base_shipping_discount_tax_compensation_amnt, base_shipping_incl_tax, base_shipping_tax_amount)"
    )


def test_graphql_customer_orders_are_not_rest_orders(corpus: Path) -> None:
    with pytest.raises(MappingError) as caught:
        map_payload(fixture(corpus, "graphql-customer-orders-000000001.json"), builtin_mapping("magento"), CTX)
    assert caught.value.message == (
        "not an order for mapping 'magento': missing entity_id, increment_id, status, base_currency_code, "
        "base_grand_total (its keys: data)"
    )


def test_discounts_taxes_and_presentment_totals(corpus: Path) -> None:
    # Order 3 with a 20% coupon on the tee and an 8.25% tax on it, charged in EUR at 0.9 (base USD).
    order = order_3(corpus)
    tee = order["items"][0]
    tee.update(base_discount_amount=Decimal("4.4"), base_tax_amount=Decimal("1.45"), tax_percent=Decimal("8.25"))
    order.update(
        coupon_code="SPRING20",
        order_currency_code="EUR",
        base_discount_amount=Decimal("-4.4"),
        base_tax_amount=Decimal("1.45"),
        base_grand_total=Decimal("162.05"),
        subtotal=144,
        discount_amount=Decimal("-3.96"),
        shipping_amount=Decimal("4.5"),
        tax_amount=Decimal("1.31"),
        grand_total=Decimal("145.85"),
    )
    order["extension_attributes"]["applied_taxes"] = [
        {"code": "US-NY", "title": "US-NY-*-Rate 1", "percent": Decimal("8.25"), "amount": 1.31, "base_amount": 1.45}
    ]
    got = map_one(order)
    assert got["currency"] == "USD"
    assert got["lines"][0]["discounts"] == [{"code": "SPRING20", "amount": usd("4.4")}]
    assert got["lines"][0]["taxes"] == [{"name": None, "rate": "0.0825", "amount": usd("1.45")}]
    assert got["taxes"] == [{"name": "US-NY-*-Rate 1", "rate": "0.0825", "amount": usd("1.45")}]
    assert got["totals"] == {
        "subtotal": usd("160"),
        "discount_total": usd("4.4"),  # -4.4 in Magento
        "shipping_total": usd("5"),
        "tax_total": usd("1.45"),
        "grand_total": usd("162.05"),  # 160 - 4.4 + 5 + 1.45
    }
    assert got["issues"] == []
    assert got["attributes"]["presentment_totals"] == {
        "subtotal": {"amount": "144", "currency": "EUR"},
        "discount_total": {"amount": "3.96", "currency": "EUR"},
        "shipping_total": {"amount": "4.5", "currency": "EUR"},
        "tax_total": {"amount": "1.31", "currency": "EUR"},
        "grand_total": {"amount": "145.85", "currency": "EUR"},
    }
    assert got["attributes"]["coupon_code"] == "SPRING20"


def test_parts_that_do_not_add_up_are_an_issue(corpus: Path) -> None:
    order = order_3(corpus)
    order["base_subtotal"] = 228  # as if the bundle's children were counted too
    got = map_one(order)
    assert got["totals"]["subtotal"] == usd("228")
    assert got["issues"] == [
        {"code": "totals_mismatch", "message": "declared 228, lines add up to 160", "field": "totals.subtotal"},
        {"code": "totals_mismatch", "message": "declared 165, its parts add up to 233", "field": "totals.grand_total"},
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"state": "new"}, ("received", "pending")),
        ({"state": "processing", "base_total_paid": 165, "base_total_due": 0}, ("received", "paid")),
        ({"state": "processing", "base_total_paid": 100, "base_total_due": 65}, ("received", "partially_paid")),
        (
            {"state": "processing", "payment": {"method": "checkmo", "base_amount_authorized": 165}},
            ("received", "authorized"),
        ),
        ({"state": "complete", "base_total_paid": 165, "base_total_due": 0}, ("closed", "paid")),
        ({"state": "complete", "base_total_paid": 165, "base_total_refunded": 20}, ("closed", "partially_refunded")),
        ({"state": "closed", "base_total_paid": 165, "base_total_refunded": 165}, ("closed", "refunded")),
        ({"state": "canceled"}, ("cancelled", "voided")),
        ({"state": "holded"}, ("on_hold", "pending")),
        ({"state": "payment_review"}, ("on_hold", "pending")),
        ({"state": "pending_payment"}, ("received", "pending")),
    ],
)
def test_state_and_payment_status(corpus: Path, changes: dict[str, Any], expected: tuple[str, str]) -> None:
    order = order_3(corpus)
    order.update(changes)
    got = map_one(order)
    assert (got["status"], got["payment"]["status"]) == expected
    assert got["issues"] == []


def test_guest_order_has_no_customer_id(corpus: Path) -> None:
    order = order_3(corpus)
    order.update(customer_is_guest=1, customer_id=None)
    assert map_one(order)["customer"]["external_id"] is None


def test_cli_map_prints_the_canonical_order(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus / "channels" / "magento" / ORDER_FILE
    assert main(["map", "magento", str(path), "--connector", "mage"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert datetime.fromisoformat(got["source"].pop("received_at")).tzinfo is not None
    assert got["source"].pop("raw_ref").startswith("sha256:")
    expected = copy.deepcopy(ORDER_3)
    for key in ("received_at", "raw_ref"):
        del expected["source"][key]
    expected["source"].update(connector="mage", account="mage")
    assert got == expected


def test_cli_map_rejects_the_invoice(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus / "channels" / "magento" / "rest-V1-invoices-000000003-discounted.json"
    assert main(["map", "magento", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "document: not an order for mapping 'magento': missing status" in captured.err


def test_a_search_of_invoices_is_rejected_at_its_first_item(corpus: Path) -> None:
    invoice = parse_json(fixture(corpus, "rest-V1-invoices-000000003-discounted.json"))
    with pytest.raises(MappingError) as caught:
        builtin_mapping("magento").apply({"items": [invoice], "search_criteria": {"page_size": 20}}, CTX)
    assert (caught.value.field, caught.value.source_path) == ("document", "items[0]")
    assert caught.value.message.startswith("not an order for mapping 'magento': missing status (its keys: ")
