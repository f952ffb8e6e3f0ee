"""The built-in WooCommerce order mapping on the real REST v3 payloads in the shared corpus.

Every expected value is written out by hand from the payload files and the rules of CONTRACTS.md.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orderhub.cli import main
from orderhub.mapping import MappingContext, MappingError, builtin_mapping, map_payload, parse_json
from orderhub.model import Order, dump_order

pytestmark = pytest.mark.corpus

CTX = MappingContext(
    connector="woo-main",
    account="woo",
    channel="woocommerce",
    received_at=datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC),
    raw_ref="sha256:0000",
)


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def source(external_id: str, updated_at: str) -> dict[str, Any]:
    return {
        "channel": "woocommerce",
        "connector": "woo-main",
        "account": "woo",
        "external_id": external_id,
        "external_number": external_id,
        "updated_at": updated_at,
        "received_at": "2026-11-23T08:00:00Z",
        "raw_ref": "sha256:0000",
    }


def line(number: str, external_id: str, description: str, quantity: str, unit_price: str) -> dict[str, Any]:
    return {
        "line_number": number,
        "external_id": external_id,
        "sku": None,
        "gtin": None,
        "buyer_part_number": None,
        "vendor_part_number": None,
        "description": description,
        "quantity": quantity,
        "uom": "EA",
        "unit_price": usd(unit_price),
        "discounts": [],
        "taxes": [],
        "requires_shipping": True,
        "attributes": {},
    }


JOHN = {
    "name": "John Doe",
    "company": None,
    "lines": ["969 Market"],
    "city": "San Francisco",
    "region": None,
    "region_code": "CA",
    "postal_code": "94103",
    "country": "US",
    "phone": "(555) 555-5555",
    "email": "john.doe@example.com",
}

ORDER_727 = {
    "schema_version": "1",
    "id": "woo:727",
    "revision": 0,
    "source": source("727", "2017-03-22T19:28:08Z"),
    "status": "received",
    "test": False,
    "placed_at": "2017-03-22T19:28:02Z",
    "currency": "USD",
    "prices_include_tax": False,
    "customer": {
        "external_id": None,  # customer_id 0: a guest
        "name": "John Doe",
        "company": None,
        "email": "john.doe@example.com",
        "phone": "(555) 555-5555",
    },
    "bill_to": JOHN,
    "ship_to": {**JOHN, "phone": None, "email": None},
    "lines": [
        {
            **line("1", "315", "Woo Single #1", "2", "3.00"),  # subtotal 6.00 / 2
            "taxes": [{"name": "State Tax", "rate": None, "amount": usd("0.45")}],  # rate_id 75
            "attributes": {"product_id": "93"},
        },
        {
            **line("2", "316", "Ship Your Idea – Color: Black, Size: M Test", "1", "12.00"),
            "sku": "Bar3",
            "taxes": [{"name": "State Tax", "rate": None, "amount": usd("0.9")}],  # rate_id 75
            "attributes": {
                "product_id": "22",
                "variation_id": "23",
                "meta_data": [
                    {"id": 2095, "key": "pa_color", "value": "black"},
                    {"id": 2096, "key": "size", "value": "M Test"},
                ],
            },
        },
    ],
    "charges": [{"kind": "shipping", "code": "flat_rate", "description": "Flat Rate", "amount": usd("10.00")}],
    "taxes": [{"name": "State Tax", "rate": None, "amount": usd("1.35")}],  # tax_total 1.35 + shipping 0.00
    "totals": {
        "subtotal": usd("18.00"),  # 6.00 + 12.00
        "discount_total": usd("0.00"),
        "shipping_total": usd("10.00"),
        "tax_total": usd("1.35"),
        "grand_total": usd("29.35"),  # 18.00 + 10.00 + 1.35: no issue
    },
    "payment": {"status": "paid", "method": "bacs", "terms": None},
    "refunds": [],
    "shipping": {"service_level": "flat_rate", "carrier": None, "ship_by": None, "deliver_by": None},
    "b2b": None,
    "notes": [],
    "tags": [],
    "issues": [],
    "attributes": {
        "status": "processing",
        "order_key": "wc_order_58d2d042d1d",
        "created_via": "rest-api",
        "prices_include_tax": False,
        "payment_method_title": "Direct Bank Transfer",
        "date_paid": "2017-03-22T19:28:08Z",
    },
}

JOAO = {
    "name": "João Silva",
    "company": None,
    "lines": ["Av. Brasil, 432"],
    "city": "Rio de Janeiro",
    "region": None,
    "region_code": "RJ",
    "postal_code": "12345-000",
    "country": "BR",
    "phone": "(11) 1111-1111",
    "email": "joao.silva@example.com",
}

ORDER_723 = {
    "schema_version": "1",
    "id": "woo:723",
    "revision": 0,
    "source": source("723", "2017-03-21T19:54:51Z"),
    "status": "closed",  # completed
    "test": False,
    "placed_at": "2017-03-21T19:16:00Z",
    "currency": "USD",
    "prices_include_tax": False,
    "customer": {
        "external_id": "26",
        "name": "João Silva",
        "company": None,
        "email": "joao.silva@example.com",
        "phone": "(11) 1111-1111",
    },
    "bill_to": JOAO,
    "ship_to": {**JOAO, "phone": None, "email": None},
    "lines": [
        {**line("1", "311", "Woo Album #2", "1", "9.00"), "attributes": {"product_id": "87"}},
        {**line("2", "313", "Woo Ninja", "1", "20.00"), "attributes": {"product_id": "34"}},
    ],
    "charges": [{"kind": "shipping", "code": "flat_rate:25", "description": "Flat rate", "amount": usd("10.00")}],
    "taxes": [],
    "totals": {
        "subtotal": usd("29.00"),
        "discount_total": usd("0.00"),
        "shipping_total": usd("10.00"),
        "tax_total": usd("0.00"),
        "grand_total": usd("39.00"),
    },
    # Completed, then refunded 10.00 and 9.00 of 39.00.
    "payment": {"status": "partially_refunded", "method": "bacs", "terms": None},
    # Listed with negative totals ("-10.00", "-9.00"); kept as positive refund records.
    "refunds": [
        {
            "external_id": "726",
            "created_at": None,
            "note": None,
            "lines": [],
            "shipping": None,
            "tax": None,
            "total": usd("10.00"),
            "attributes": {},
        },
        {
            "external_id": "724",
            "created_at": None,
            "note": None,
            "lines": [],
            "shipping": None,
            "tax": None,
            "total": usd("9.00"),
            "attributes": {},
        },
    ],
    "shipping": {"service_level": "flat_rate:25", "carrier": None, "ship_by": None, "deliver_by": None},
    "b2b": None,
    "notes": [],
    "tags": [],
    "issues": [],
    "attributes": {
        "status": "completed",
        "order_key": "wc_order_58d17c18352",
        "created_via": "checkout",
        "prices_include_tax": False,
        "payment_method_title": "Direct bank transfer",
        "date_completed": "2017-03-21T19:54:51Z",
    },
}


def fixture(corpus: Path, name: str) -> bytes:
    return (corpus / "channels" / "woocommerce" / name).read_bytes()


def mapped(corpus: Path, name: str) -> list[Order]:
    return map_payload(fixture(corpus, name), builtin_mapping("woocommerce"), CTX)


def as_json(order: Order) -> Any:
    return json.loads(dump_order(order))


def test_retrieved_order_maps_to_the_full_canonical_order(corpus: Path) -> None:
    (order,) = mapped(corpus, "wc-v3-order-727-retrieve.json")
    assert as_json(order) == ORDER_727


def test_the_same_order_after_it_was_completed(corpus: Path) -> None:
    (order,) = mapped(corpus, "wc-v3-order-727-update-completed.json")
    got = as_json(order)
    assert got["source"]["updated_at"] == "2017-03-22T19:30:35Z"
    assert (got["status"], got["payment"]["status"]) == ("closed", "paid")
    assert got["attributes"] == {
        **ORDER_727["attributes"],
        "status": "completed",
        "date_completed": "2017-03-22T19:30:35Z",
    }
    rest = {key: value for key, value in got.items() if key not in ("source", "status", "attributes")}
    assert rest == {key: value for key, value in ORDER_727.items() if key not in ("source", "status", "attributes")}


def test_list_response_is_a_bare_array_of_orders(corpus: Path) -> None:
    orders = mapped(corpus, "wc-v3-orders-list-727-723.json")
    assert [as_json(order) for order in orders] == [ORDER_727, ORDER_723]


def test_refund_is_not_an_order(corpus: Path) -> None:
    with pytest.raises(MappingError) as caught:
        mapped(corpus, "wc-v3-order-723-refund-726.json")
    error = caught.value
    assert error.field == "document"
    assert error.message == (
        "not an order for mapping 'woocommerce': missing status, currency, total (its keys: id, date_created, "
        "date_created_gmt, amount, reason, refunded_by, refunded_payment, meta_data)"
    )


def test_deleted_order_webhook_is_not_an_order() -> None:
    with pytest.raises(MappingError) as caught:
        builtin_mapping("woocommerce").apply({"id": 727}, CTX)
    assert (
        caught.value.message == "not an order for mapping 'woocommerce': missing status, currency, total (its keys: id)"
    )


def order_727(corpus: Path) -> dict[str, Any]:
    document = parse_json(fixture(corpus, "wc-v3-order-727-retrieve.json"))
    assert isinstance(document, dict)
    return document


def test_coupons_fees_and_tax_rates(corpus: Path) -> None:
    # The 727 order with a coupon of 1.20 on its first line, a fee, and a tax rate percentage, as
    # WooCommerce 3.7+ sends them: the declared totals move with them.
    order = order_727(corpus)
    order["line_items"][0].update(
        total="4.80", total_tax="0.36", taxes=[{"id": 75, "total": "0.36", "subtotal": "0.45"}]
    )
    order["coupon_lines"] = [{"id": 320, "code": "save20", "discount": "1.20", "discount_tax": "0.09"}]
    order["fee_lines"] = [{"id": 321, "name": "Gift wrap &amp; card", "total": "2.50", "total_tax": "0.00"}]
    order["tax_lines"][0].update(rate_percent=7.5, tax_total="1.26")
    order.update(discount_total="1.20", discount_tax="0.09", total_tax="1.26", total="30.56")
    got = as_json(builtin_mapping("woocommerce").apply(order, CTX)[0])
    assert got["lines"][0]["unit_price"] == usd("3.00")  # still before the discount
    assert got["lines"][0]["discounts"] == [{"code": "save20", "amount": usd("1.20")}]
    assert got["lines"][1]["discounts"] == []
    assert got["charges"][1] == {"kind": "fee", "code": None, "description": "Gift wrap & card", "amount": usd("2.50")}
    assert got["taxes"] == [{"name": "State Tax", "rate": "0.075", "amount": usd("1.26")}]
    assert [line["taxes"] for line in got["lines"]] == [
        [{"name": "State Tax", "rate": "0.075", "amount": usd("0.36")}],
        [{"name": "State Tax", "rate": "0.075", "amount": usd("0.9")}],
    ]
    # 18.00 - 1.20 + 10.00 + 2.50 + 1.26 = 30.56
    assert got["totals"]["discount_total"] == usd("1.20")
    assert got["issues"] == []
    assert got["attributes"]["coupons"] == [{"id": 320, "code": "save20", "discount": "1.20", "discount_tax": "0.09"}]


def test_a_second_coupon_leaves_the_line_discount_without_a_code(corpus: Path) -> None:
    order = order_727(corpus)
    order["line_items"][0]["total"] = "4.80"
    order["coupon_lines"] = [{"code": "a", "discount": "0.60"}, {"code": "b", "discount": "0.60"}]
    got = as_json(builtin_mapping("woocommerce").apply(order, CTX)[0])
    assert got["lines"][0]["discounts"] == [{"code": None, "amount": usd("1.20")}]
    # The declared discount_total (0.00) was not changed: the grand total still adds up.
    assert got["issues"] == []


def test_parts_that_do_not_add_up_are_an_issue(corpus: Path) -> None:
    order = order_727(corpus)
    order["total"] = "30.35"
    got = as_json(builtin_mapping("woocommerce").apply(order, CTX)[0])
    assert got["totals"]["grand_total"] == usd("30.35")
    assert got["issues"] == [
        {
            "code": "totals_mismatch",
            "message": "declared 30.35, its parts add up to 29.35",
            "field": "totals.grand_total",
        }
    ]


def test_tax_inclusive_store_still_maps_tax_exclusive_amounts(corpus: Path) -> None:
    order = order_727(corpus)
    order["prices_include_tax"] = True
    got = as_json(builtin_mapping("woocommerce").apply(order, CTX)[0])
    assert got["prices_include_tax"] is False
    assert got["attributes"]["prices_include_tax"] is True
    assert got["issues"] == []


@pytest.mark.parametrize(
    ("status", "paid", "expected"),
    [
        ("pending", False, ("received", "pending")),
        ("processing", False, ("received", "paid")),  # WooCommerce's is_paid(): processing counts as paid
        ("processing", True, ("received", "paid")),
        ("on-hold", False, ("on_hold", "pending")),
        ("on-hold", True, ("on_hold", "paid")),
        ("failed", False, ("on_hold", "pending")),
        ("completed", False, ("closed", "paid")),
        ("cancelled", False, ("cancelled", "voided")),
        ("cancelled", True, ("cancelled", "paid")),
        ("refunded", True, ("closed", "refunded")),
        ("checkout-draft", False, ("on_hold", "pending")),
    ],
)
def test_status_and_payment_status(corpus: Path, status: str, paid: bool, expected: tuple[str, str]) -> None:
    order = order_727(corpus)
    order["status"] = status
    if not paid:
        order["date_paid_gmt"] = None
    got = as_json(builtin_mapping("woocommerce").apply(order, CTX)[0])
    assert (got["status"], got["payment"]["status"]) == expected
    assert got["issues"] == []


def test_set_paid_of_a_create_request_means_paid(corpus: Path) -> None:
    order = order_727(corpus)
    order.update(status="pending", date_paid_gmt=None, set_paid=True)
    assert builtin_mapping("woocommerce").apply(order, CTX)[0].payment.status == "paid"


def test_a_plugin_status_is_an_issue_not_a_failure(corpus: Path) -> None:
    order = order_727(corpus)
    order.update(status="awaiting-shipment", date_paid_gmt=None)
    got = as_json(builtin_mapping("woocommerce").apply(order, CTX)[0])
    assert (got["status"], got["payment"]["status"]) == ("received", "pending")
    assert got["issues"] == [
        {"code": "unmapped_value", "message": "'awaiting-shipment' has no entry in the lookup table", "field": "status"}
    ]


def test_an_order_without_shipping_has_no_ship_to(corpus: Path) -> None:
    order = order_727(corpus)
    order["shipping"] = {key: "" for key in order["shipping"]}
    order.update(customer_id=0, billing={key: "" for key in order["billing"]})
    got = as_json(builtin_mapping("woocommerce").apply(order, CTX)[0])
    assert (got["customer"], got["bill_to"], got["ship_to"]) == (None, None, None)


def test_cli_map_prints_the_canonical_order(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus / "channels" / "woocommerce" / "wc-v3-order-727-retrieve.json"
    assert main(["map", "woocommerce", str(path), "--connector", "woo"]) == 0
    got = json.loads(capsys.readouterr().out)
    received_at = got["source"].pop("received_at")
    assert datetime.fromisoformat(received_at).tzinfo is not None
    assert got["source"].pop("raw_ref").startswith("sha256:")
    expected = copy.deepcopy(ORDER_727)
    for key in ("received_at", "raw_ref"):
        del expected["source"][key]
    expected["source"].update(connector="woo", account="woo")
    assert got == expected


def test_cli_map_prints_an_array_for_a_list_and_rejects_a_refund(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = corpus / "channels" / "woocommerce"
    assert main(["map", "woocommerce", str(folder / "wc-v3-orders-list-727-723.json")]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [(order["id"], order["status"], order["payment"]["status"]) for order in got] == [
        ("woocommerce:727", "received", "paid"),
        ("woocommerce:723", "closed", "partially_refunded"),
    ]
    assert main(["map", "woocommerce", str(folder / "wc-v3-order-723-refund-726.json")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "document: not an order for mapping 'woocommerce': missing status, currency, total" in captured.err
