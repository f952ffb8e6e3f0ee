"""The built-in Shopify order mapping on the real fixtures in the shared corpus.

Every expected value is written out by hand from the fixture files.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orderhub.mapping import MappingContext, MappingError, builtin_mapping, map_payload, parse_json
from orderhub.model import Order, dump_order

pytestmark = pytest.mark.corpus

CTX = MappingContext(
    connector="shopify-acme",
    account="acme",
    channel="shopify",
    received_at=datetime(2026, 11, 21, 4, 52, 41, tzinfo=UTC),
    raw_ref="sha256:0000",
)


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


BOB_ADDRESS = {
    "name": "Bob Norman",
    "company": None,
    "lines": ["Chestnut Street 92"],
    "city": "Louisville",
    "region": "Kentucky",
    "region_code": "KY",
    "postal_code": "40202",
    "country": "US",
    "phone": "555-625-1199",
    "email": None,
}

SOURCE = {
    "channel": "shopify",
    "connector": "shopify-acme",
    "account": "acme",
    "external_id": "450789469",
    "external_number": "#1001",
    "updated_at": "2008-01-10T16:00:00Z",
    "received_at": "2026-11-21T04:52:41Z",
    "raw_ref": "sha256:0000",
}


def ipod(line_number: str, external_id: str, colour: str, variant_id: str) -> dict[str, Any]:
    return {
        "line_number": line_number,
        "external_id": external_id,
        "sku": f"IPOD2008{colour.upper()}",
        "gtin": None,
        "buyer_part_number": None,
        "vendor_part_number": None,
        "description": f"IPod Nano - 8gb - {colour}",
        "quantity": "1",
        "uom": "EA",
        "unit_price": usd("199.00"),
        "discounts": [],
        "taxes": [],
        "requires_shipping": True,
        "attributes": {"product_id": "632910392", "variant_id": variant_id, "variant_title": colour},
    }


ORDER_JSON = {
    "schema_version": "1",
    "id": "acme:450789469",
    "revision": 0,
    "source": SOURCE,
    "status": "received",
    "test": False,
    "placed_at": "2008-01-10T16:00:00Z",
    "currency": "USD",
    "prices_include_tax": False,
    "customer": {
        "external_id": "207119551",
        "name": "Bob Norman",
        "company": None,
        "email": "bob.norman@hostmail.com",
        "phone": None,
    },
    "bill_to": BOB_ADDRESS,
    "ship_to": BOB_ADDRESS,
    "lines": [
        {
            **ipod("1", "466157049", "green", "39072856"),
            "attributes": {
                "product_id": "632910392",
                "variant_id": "39072856",
                "variant_title": "green",
                "properties": [{"name": "Custom Engraving", "value": "Happy Birthday"}],
            },
        },
        ipod("2", "518995019", "red", "49148385"),
        ipod("3", "703073504", "black", "457924702"),
    ],
    "charges": [{"kind": "shipping", "code": "Free Shipping", "description": "Free Shipping", "amount": usd("0.00")}],
    "taxes": [{"name": "State Tax", "rate": "0.06", "amount": usd("11.94")}],
    "totals": {
        "subtotal": usd("398.00"),
        "discount_total": usd("0.00"),
        "shipping_total": usd("0.00"),
        "tax_total": usd("11.94"),
        "grand_total": usd("409.94"),
    },
    "payment": {"status": "authorized", "method": "authorize_net", "terms": None},
    "refunds": [],
    "shipping": {"service_level": "Free Shipping", "carrier": None, "ship_by": None, "deliver_by": None},
    "b2b": None,
    "notes": [],
    "tags": [],
    "issues": [
        {
            "code": "totals_mismatch",
            "message": "declared 398.00, lines add up to 597.00",
            "field": "totals.subtotal",
        }
    ],
    "attributes": {
        "source_name": "web",
        "note_attributes": [
            {"name": "custom engraving", "value": "Happy Birthday"},
            {"name": "colour", "value": "green"},
        ],
        "discount_codes": [{"code": "TENOFF", "amount": "10.00"}],
        "order_number": 1001,
    },
}


def fixture(corpus: Path, name: str) -> bytes:
    return (corpus / "channels" / "shopify" / name).read_bytes()


def mapped(corpus: Path, name: str) -> list[Order]:
    return map_payload(fixture(corpus, name), builtin_mapping("shopify"), CTX)


def as_json(order: Order) -> Any:
    return json.loads(dump_order(order))


def test_order_json_maps_to_the_full_canonical_order(corpus: Path) -> None:
    orders = mapped(corpus, "shopify_python_api-order.json")
    assert len(orders) == 1
    assert as_json(orders[0]) == ORDER_JSON


def test_order_json_keeps_exact_decimals(corpus: Path) -> None:
    (order,) = mapped(corpus, "shopify_python_api-order.json")
    assert order.taxes[0].rate == Decimal("0.06")
    assert order.taxes[0].rate.as_tuple() == Decimal("0.06").as_tuple()
    assert order.totals.grand_total.amount.as_tuple() == Decimal("409.94").as_tuple()
    assert order.placed_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert order.source.updated_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)


def test_orders_json_list_response(corpus: Path) -> None:
    orders = mapped(corpus, "shopify_python_api-orders.json")
    assert len(orders) == 1
    got = as_json(orders[0])
    assert got["id"] == "acme:450789469"
    assert got["source"] == SOURCE
    assert got["placed_at"] == "2008-01-10T16:00:00Z"  # processed_at
    assert got["currency"] == "USD"
    assert got["status"] == "received"
    assert got["customer"] == {
        "external_id": "207119551",
        "name": "Bob Norman",
        "company": None,
        "email": "bob.norman@hostmail.com",
        "phone": "+557734881234",  # the order's phone wins over the customer's +16136120707
    }
    assert got["bill_to"] == BOB_ADDRESS
    assert got["ship_to"] == BOB_ADDRESS
    assert got["lines"] == []
    assert got["charges"] == []
    assert got["taxes"] == []
    assert got["totals"] == {
        "subtotal": usd("597.00"),
        "discount_total": usd("10.00"),
        "shipping_total": usd("0.00"),  # total_shipping_price_set.shop_money
        "tax_total": usd("11.94"),
        "grand_total": usd("598.94"),
    }
    assert got["payment"] == {"status": "partially_refunded", "method": "authorize_net", "terms": None}
    assert got["shipping"] == {"service_level": None, "carrier": None, "ship_by": None, "deliver_by": None}
    assert got["notes"] == []
    assert got["tags"] == []
    # The fixture has no line_items: its declared subtotal has no parts. 597 - 10 + 0 + 11.94 = 598.94.
    assert got["issues"] == [
        {
            "code": "totals_mismatch",
            "message": "declared 597.00, lines add up to 0",
            "field": "totals.subtotal",
        }
    ]
    # presentment_currency is USD too: no presentment_totals.
    assert got["attributes"] == {
        "order_number": 1001,
        "admin_graphql_api_id": "gid://shopify/Order/450789469",
    }


def test_order_with_properties(corpus: Path) -> None:
    (order,) = mapped(corpus, "shopify_api_ruby-order_with_properties.json")
    got = as_json(order)
    assert got["id"] == "acme:450789469"
    assert got["source"] == SOURCE
    assert got["placed_at"] == "2008-01-10T16:00:00Z"  # no processed_at: created_at
    assert got["customer"]["phone"] is None
    assert got["bill_to"] == BOB_ADDRESS
    assert [
        (line["line_number"], line["external_id"], line["sku"], line["quantity"], line["unit_price"])
        for line in got["lines"]
    ] == [
        ("1", "466157049", None, "1", usd("45.00")),
        ("2", "641254555689", None, "1", usd("24.00")),
    ]
    assert [line["description"] for line in got["lines"]] == [
        "Create Your Own Coffee 3 Pack",
        "Create Your Own Coffee 3 Pack (8oz bags)",
    ]
    assert [(line["discounts"], line["taxes"]) for line in got["lines"]] == [([], []), ([], [])]
    assert got["lines"][0]["attributes"] == {
        "product_id": "632910392",
        "variant_id": "39072856",
        "vendor": "VCR",
        "properties": [
            {"name": "1st Coffee", "value": "Coffee1"},
            {"name": "2nd Coffee", "value": "Coffee2"},
            {"name": "3rd Coffee", "value": "Coffee3"},
            {"name": "Select Your Grind", "value": "Ground"},
        ],
    }
    # Nested property values and repeated names are kept as given.
    assert got["lines"][1]["attributes"] == {
        "product_id": "288331137065",
        "variant_id": "4107806867497",
        "vendor": "OMC",
        "properties": [
            {
                "name": 'By default may label with "Roasted for ',
                "value": {"Your First Name": {'". If you want something specific on the label, enter it here:': ""}},
            },
            {"name": "Select Your Grind", "value": "Ground"},
            {"name": "Coffees", "value": "Coffee blend 1"},
            {"name": "Coffees", "value": "Coffee blend 2"},
            {"name": "Coffees", "value": "Coffee blend 3"},
        ],
    }
    assert got["charges"] == [
        {"kind": "shipping", "code": "Free Shipping", "description": "Free Shipping", "amount": usd("0.00")}
    ]
    assert got["taxes"] == [{"name": "State Tax", "rate": "0.06", "amount": usd("11.94")}]
    assert got["totals"] == {
        "subtotal": usd("398.00"),
        "discount_total": usd("0.00"),
        "shipping_total": usd("0.00"),  # no total_shipping_price_set: the sum of shipping_lines
        "tax_total": usd("11.94"),
        "grand_total": usd("409.94"),
    }
    assert got["payment"] == {"status": "authorized", "method": "authorize_net", "terms": None}
    assert got["shipping"]["service_level"] == "Free Shipping"
    assert got["notes"] == ["Test note"]
    assert got["tags"] == []
    assert got["issues"] == [
        {
            "code": "totals_mismatch",
            "message": "declared 398.00, lines add up to 69.00",
            "field": "totals.subtotal",
        }
    ]
    assert got["attributes"] == {"source_name": "web", "order_number": 1001}


def test_refund_is_not_an_order(corpus: Path) -> None:
    with pytest.raises(MappingError) as caught:
        mapped(corpus, "shopify_python_api-refund.json")
    error = caught.value
    assert error.file == str(builtin_mapping("shopify").path)
    assert error.field == "document"
    assert error.message == "not an order for mapping 'shopify': missing id, currency, total_price (its keys: refund)"
    assert str(error).startswith(f"{error.file}: document: not an order")


def test_bare_single_and_list_forms_give_the_same_order(corpus: Path) -> None:
    document = parse_json(fixture(corpus, "shopify_python_api-order.json"))
    bare = json.dumps(document["order"], default=str).encode()  # Decimal 0.06 -> "0.06" text: same value
    mapping = builtin_mapping("shopify")
    forms = [
        map_payload(bare, mapping, CTX),
        mapping.apply(document, CTX),
        mapping.apply({"orders": [document["order"]]}, CTX),
    ]
    assert [len(orders) for orders in forms] == [1, 1, 1]
    assert as_json(forms[0][0]) == as_json(forms[1][0]) == as_json(forms[2][0]) == ORDER_JSON


def test_a_list_response_with_several_orders(corpus: Path) -> None:
    document = parse_json(fixture(corpus, "shopify_python_api-order.json"))
    second = copy.deepcopy(document["order"])
    second.update(id=450789470, name="#1002", cancelled_at="2008-01-11T09:30:00+01:00")
    orders = builtin_mapping("shopify").apply({"orders": [document["order"], second]}, CTX)
    assert [(o.id, o.source.external_number, o.status.value) for o in orders] == [
        ("acme:450789469", "#1001", "received"),
        ("acme:450789470", "#1002", "cancelled"),
    ]
    assert as_json(orders[1])["attributes"]["cancelled_at"] == "2008-01-11T08:30:00Z"


def test_presentment_totals_when_the_customer_paid_in_another_currency(corpus: Path) -> None:
    document = parse_json(fixture(corpus, "shopify_python_api-orders.json"))
    order = document["orders"][0]
    order["presentment_currency"] = "CAD"
    for key, amount in (
        ("total_line_items_price_set", "810.50"),
        ("total_discounts_set", "13.58"),
        ("total_shipping_price_set", "0.00"),
        ("total_tax_set", "16.21"),
        ("total_price_set", "813.13"),
    ):
        order[key]["presentment_money"] = {"amount": amount, "currency_code": "CAD"}
    got = as_json(builtin_mapping("shopify").apply(document, CTX)[0])
    assert got["currency"] == "USD"
    assert got["totals"]["grand_total"] == usd("598.94")
    assert got["attributes"]["presentment_totals"] == {
        "subtotal": {"amount": "810.50", "currency": "CAD"},
        "discount_total": {"amount": "13.58", "currency": "CAD"},
        "shipping_total": {"amount": "0.00", "currency": "CAD"},
        "tax_total": {"amount": "16.21", "currency": "CAD"},
        "grand_total": {"amount": "813.13", "currency": "CAD"},
    }


def test_line_discounts_and_taxes_from_allocations(corpus: Path) -> None:
    document = parse_json(fixture(corpus, "shopify_python_api-order.json"))
    order = document["order"]
    order["discount_applications"] = [
        {"type": "manual", "title": "Staff", "code": None},
        {"type": "discount_code", "code": "TENOFF", "title": "TENOFF"},
    ]
    order["line_items"][0]["discount_allocations"] = [
        {"amount": "10.00", "discount_application_index": 1},
        {"amount": "0.50", "discount_application_index": 0},
    ]
    order["line_items"][0]["tax_lines"] = [{"title": "State Tax", "price": Decimal("11.34"), "rate": Decimal("0.06")}]
    order["tags"] = " vip, , wholesale ,"
    order["note"] = "Leave at the door"
    order["financial_status"] = "expired"
    order["shipping_lines"][0]["source"] = "usps"
    got = as_json(builtin_mapping("shopify").apply(document, CTX)[0])
    line = got["lines"][0]
    assert line["discounts"] == [
        {"code": "TENOFF", "amount": usd("10.00")},
        {"code": "Staff", "amount": usd("0.50")},
    ]
    assert line["taxes"] == [{"name": "State Tax", "rate": "0.06", "amount": usd("11.34")}]
    assert got["tags"] == ["vip", "wholesale"]
    assert got["notes"] == ["Leave at the door"]
    assert got["shipping"]["carrier"] == "usps"
    assert got["payment"]["status"] == "pending"
    assert got["issues"][0] == {
        "code": "unmapped_value",
        "message": "'expired' has no entry in the lookup table",
        "field": "payment.status",
    }
