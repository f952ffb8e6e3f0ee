"""The mapping engine on small mapping files written here: loading, validation, transforms, errors."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orderhub.mapping import (
    Mapping,
    MappingContext,
    MappingError,
    MappingFileError,
    UnknownMappingError,
    builtin_mapping,
    map_payload,
    parse_json,
)
from orderhub.model import dump_order

CTX = MappingContext(
    connector="shop-1",
    account="acct",
    channel="test",
    received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    raw_ref="sha256:abc",
)

# A minimal valid mapping; tests add lines to its `order:` block.
BASE = """\
channel: test
documents: ["orders[]", order, $]
expect: [id]
order:
  source:
    external_id: id
  currency: currency
  totals:
    subtotal: sub
    discount_total: {const: "0"}
    shipping_total: {const: "0"}
    tax_total: {const: "0"}
    grand_total: total
"""

DOC: dict[str, Any] = {"id": 7, "currency": "EUR", "sub": "0.00", "total": "0.00"}


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def load(tmp_path: Path, extra: str = "") -> Mapping:
    return Mapping.load(write(tmp_path, BASE + textwrap.indent(textwrap.dedent(extra), "  ")))


def one(mapping: Mapping, doc: dict[str, Any]) -> Any:
    orders = mapping.apply({**DOC, **doc}, CTX)
    assert len(orders) == 1
    return json.loads(dump_order(orders[0]))


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(MappingFileError) as caught:
        Mapping.load(path)
    assert caught.value.file == str(path)
    return str(caught.value).removeprefix(f"{path}:")


# --- loading and validation ---------------------------------------------------------------------


def test_minimal_mapping_produces_a_complete_order(tmp_path: Path) -> None:
    mapping = load(tmp_path)
    assert (mapping.name, mapping.channel, mapping.path) == ("m", "test", tmp_path / "m.yaml")
    assert len(mapping.digest) == 64
    assert one(mapping, {}) == {
        "schema_version": "1",
        "id": "acct:7",
        "revision": 0,
        "source": {
            "channel": "test",
            "connector": "shop-1",
            "account": "acct",
            "external_id": "7",
            "external_number": None,
            "updated_at": None,
            "received_at": "2026-01-02T03:04:05Z",
            "raw_ref": "sha256:abc",
        },
        "status": "received",
        "test": False,
        "placed_at": None,
        "currency": "EUR",
        "prices_include_tax": False,
        "customer": None,
        "bill_to": None,
        "ship_to": None,
        "lines": [],
        "charges": [],
        "taxes": [],
        "totals": {
            "subtotal": {"amount": "0.00", "currency": "EUR"},
            "discount_total": {"amount": "0", "currency": "EUR"},
            "shipping_total": {"amount": "0", "currency": "EUR"},
            "tax_total": {"amount": "0", "currency": "EUR"},
            "grand_total": {"amount": "0.00", "currency": "EUR"},
        },
        "payment": {"status": "pending", "method": None, "terms": None},
        "refunds": [],
        "shipping": {"service_level": None, "carrier": None, "ship_by": None, "deliver_by": None},
        "b2b": None,
        "notes": [],
        "tags": [],
        "issues": [],
        "attributes": {},
    }


def test_unknown_top_level_key(tmp_path: Path) -> None:
    assert load_error(tmp_path, "channel: test\nmapping: x\norder: {}\n") == (
        "2: mapping: unknown key (known: name, channel, description, format, sets, documents, expect, order, refund)"
    )


def test_unknown_rule_key(tmp_path: Path) -> None:
    text = BASE + "  placed_at:\n    path: created\n    zone: UTC\n"
    message = load_error(tmp_path, text)
    assert message.startswith("16: order.placed_at.zone: unknown key 'zone' (known: ")


def test_unknown_transform(tmp_path: Path) -> None:
    text = BASE + "  placed_at: {path: created, as: datetim}\n"
    assert load_error(tmp_path, text) == (
        "14: order.placed_at.as: unknown transform 'datetim' (known: abs, bool, country, date, datetime, "
        "decimal, divide, join, lookup, lower, money, multiply, negate, non_empty, split, string, subtract, sum, "
        "trim, unescape_html, upper)"
    )


def test_unknown_field_of_a_canonical_object(tmp_path: Path) -> None:
    text = BASE + "  customer:\n    nmae: name\n"
    message = load_error(tmp_path, text)
    assert message.startswith("15: order.customer.nmae: is not a field of Customer (fields: external_id, name,")


def test_parameter_of_a_transform_that_is_not_used(tmp_path: Path) -> None:
    text = BASE + "  tags: {path: tags, sep: ';'}\n"
    assert load_error(tmp_path, text) == "14: order.tags.sep: 'sep' is a parameter of join, split, not used here"


def test_bad_path(tmp_path: Path) -> None:
    text = BASE + "  notes: 'a..b'\n"
    assert load_error(tmp_path, text) == "14: order.notes: bad path 'a..b': '.' where a name or '[' was expected"
    text = BASE + "  notes: 'a[0'\n"
    assert load_error(tmp_path, text) == "14: order.notes: bad path 'a[0': unbalanced bracket"


def test_required_field_not_mapped(tmp_path: Path) -> None:
    text = "channel: test\norder:\n  source: {external_id: id}\n  currency: c\n"
    assert load_error(tmp_path, text) == "3: order: required field not mapped: totals"


def test_fields_the_engine_sets_cannot_be_mapped(tmp_path: Path) -> None:
    message = load_error(tmp_path, BASE + "  id: id\n")
    assert message.startswith("14: order.id: is set by the engine (fields: ")
    message = load_error(tmp_path, BASE.replace("    external_id: id\n", "    external_id: id\n    raw_ref: x\n"))
    assert message.startswith("7: order.source.raw_ref: is set by the engine")


def test_constants_are_checked_against_the_model(tmp_path: Path) -> None:
    text = BASE + "  status: {const: canceled, when: cancelled_at}\n"
    message = load_error(tmp_path, text)
    assert message == (
        "14: order.status.const: 'canceled' is not one of received, accepted, rejected, on_hold, routed, "
        "released, picked, packed, shipped, delivered, invoiced, closed, cancelled"
    )


def test_list_without_each(tmp_path: Path) -> None:
    text = BASE + "  lines:\n    quantity: qty\n"
    assert load_error(tmp_path, text) == "14: order.lines: a list needs each: <path of the source list>"


def test_yaml_syntax_and_duplicate_keys(tmp_path: Path) -> None:
    assert (
        load_error(tmp_path, "channel: test\norder: [\n")
        == "3: (syntax): expected the node content, but found '<stream end>'"
    )
    assert load_error(tmp_path, BASE + "  currency: other\n") == "14: (syntax): duplicate key 'currency'"


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError) as caught:
        Mapping.load(tmp_path / "missing.yaml")
    assert str(caught.value) == f"{tmp_path / 'missing.yaml'}:1: (file): cannot read: No such file or directory"


# --- applying -------------------------------------------------------------------------------------


def test_missing_required_value_names_mapping_file_and_canonical_field(tmp_path: Path) -> None:
    mapping = load(tmp_path)
    doc = {k: v for k, v in DOC.items() if k != "total"}
    with pytest.raises(MappingError) as caught:
        mapping.apply({"order": doc}, CTX)
    error = caught.value
    assert (error.file, error.field, error.source_path) == (
        str(mapping.path),
        "totals.grand_total",
        "order.total",
    )
    assert error.message == "required value is missing"
    assert str(error) == f"{mapping.path}: totals.grand_total: required value is missing (at order.total)"


def test_error_in_a_list_item_names_both_indexes(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        lines:
          each: items
          when: {path: kind, not_in: [gift]}
          line_number: {position: 1}
          quantity: qty
        """,
    )
    items = [{"qty": 1}, {"kind": "gift"}, {"qty": 2}, {"qty": "two"}]
    with pytest.raises(MappingError) as caught:
        mapping.apply({"orders": [DOC, {**DOC, "items": items}]}, CTX)
    assert caught.value.field == "lines[2].quantity"
    assert caught.value.source_path == "orders[1].items[3].qty"
    assert caught.value.message == "not a decimal number: 'two'"


def test_model_validation_errors_become_mapping_errors(tmp_path: Path) -> None:
    mapping = load(tmp_path, "bill_to: {from: addr, country: country}\n")
    with pytest.raises(MappingError) as caught:
        mapping.apply({**DOC, "addr": {"country": "Freedonia"}}, CTX)
    assert caught.value.field == "bill_to.country"
    assert caught.value.source_path == "addr.country"
    assert caught.value.message == "Value error, not an ISO 3166-1 alpha-2 country code: 'Freedonia'"


def test_bad_order_currency(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        load(tmp_path).apply({**DOC, "currency": "EURO"}, CTX)
    assert (caught.value.field, caught.value.message) == ("currency", "not an ISO 4217 currency code: 'EURO'")


def test_documents_bare_wrapped_and_listed(tmp_path: Path) -> None:
    mapping = load(tmp_path)
    bare, wrapped, listed = (
        mapping.apply(DOC, CTX),
        mapping.apply({"order": DOC}, CTX),
        mapping.apply({"orders": [DOC, {**DOC, "id": 8}]}, CTX),
    )
    assert [o.id for o in bare + wrapped + listed] == ["acct:7", "acct:7", "acct:7", "acct:8"]
    assert mapping.apply({"orders": []}, CTX) == []
    with pytest.raises(MappingError) as caught:
        mapping.apply({"refund": {"id": 1}}, CTX)
    assert caught.value.message == "not an order for mapping 'm': missing id (its keys: refund)"
    with pytest.raises(MappingError) as caught:
        mapping.apply({"orders": {"id": 1}}, CTX)
    assert caught.value.message == "expected an array of orders, got an object"
    with pytest.raises(MappingError) as caught:
        mapping.apply([DOC], CTX)
    assert caught.value.message == "expected an order object, got an array"


def test_amounts_keep_their_scale_and_never_use_an_exponent(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        lines:
          each: items
          line_number: {position: 1}
          quantity: qty
          unit_price: price
        """,
    )
    raw = b"""{"id": 1, "currency": "JPY", "sub": 19940, "total": "19940",
               "items": [{"qty": 1, "price": 62.6793}, {"qty": 2.50, "price": 1E+2},
                         {"qty": 1, "price": "0.000001"}]}"""
    (order,) = map_payload(raw, mapping, CTX)
    got = json.loads(dump_order(order))
    assert [(line["quantity"], line["unit_price"]["amount"]) for line in got["lines"]] == [
        ("1", "62.6793"),
        ("2.50", "100"),
        ("1", "0.000001"),
    ]
    assert got["totals"]["subtotal"] == {"amount": "19940", "currency": "JPY"}
    assert got["totals"]["grand_total"] == {"amount": "19940", "currency": "JPY"}
    assert got["issues"] == [
        {
            "code": "totals_mismatch",
            "message": "declared 19940, lines add up to 312.679301",
            "field": "totals.subtotal",
        }
    ]


def test_naive_datetime_with_a_configured_zone_converts_to_utc(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        placed_at: {path: created, tz: America/Toronto}
        """,
    )
    assert one(mapping, {"created": "2024-01-15 09:30:00"})["placed_at"] == "2024-01-15T14:30:00Z"
    assert one(mapping, {"created": "2024-07-15T09:30:00"})["placed_at"] == "2024-07-15T13:30:00Z"
    # An explicit offset wins over the configured zone.
    assert one(mapping, {"created": "2024-07-15T09:30:00+02:00"})["placed_at"] == "2024-07-15T07:30:00Z"


def test_naive_datetime_without_a_zone_is_an_error(tmp_path: Path) -> None:
    mapping = load(tmp_path, "placed_at: created\n")
    assert one(mapping, {"created": "2008-01-10T11:00:00-05:00"})["placed_at"] == "2008-01-10T16:00:00Z"
    with pytest.raises(MappingError) as caught:
        mapping.apply({**DOC, "created": "2008-01-10 11:00:00"}, CTX)
    assert caught.value.field == "placed_at"
    assert caught.value.message == ("date-time '2008-01-10 11:00:00' has no UTC offset and the mapping sets no tz")


def test_datetime_formats(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        placed_at: {path: created, format: rfc2822}
        shipping:
          ship_by: {path: ship_by, format: epoch}
          deliver_by: {path: deliver_by, format: "%d/%m/%Y %H:%M", tz: Europe/Paris}
        b2b:
          po_number: po
          po_date: {path: po_date, format: "%Y%m%d"}
        """,
    )
    got = one(
        mapping,
        {
            "created": "Tue, 05 Mar 2019 21:40:11 +0000",
            "ship_by": 1700000000,
            "deliver_by": "01/08/2024 10:00",
            "po": "PO-1",
            "po_date": "20240102",
        },
    )
    assert got["placed_at"] == "2019-03-05T21:40:11Z"
    assert got["shipping"]["ship_by"] == "2023-11-14T22:13:20Z"
    assert got["shipping"]["deliver_by"] == "2024-08-01T08:00:00Z"
    assert got["b2b"]["po_date"] == "2024-01-02"


def test_transforms(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        status: {const: cancelled, when: cancelled_at, default: received}
        test: {path: mode, as: lookup, table: {live: false, sandbox: true}}
        customer:
          when: {any: [buyer, email]}
          name: {all: [buyer.first, buyer.last], as: join}
          email: {first: [email, buyer.email]}
          company: {path: buyer.company, as: [trim, upper]}
        ship_to:
          from: addr
          lines: {all: [line1, line2, line3], as: non_empty}
          country: {path: country, as: country}
          postal_code: zip
        notes: {path: note, as: non_empty}
        tags: {path: tags, as: split, sep: "|"}
        charges:
          - each: fees
            kind: {const: fee}
            amount: {path: value, as: abs}
          - each: rebates
            kind: {const: discount}
            amount: {path: value, as: negate}
        payment:
          status: {path: fin, as: lookup, table: {PAID: paid}, on_unknown: issue, default: pending}
        attributes:
          flags: {path: flags, as: bool}
          total_fees: {path: "fees[].value", as: [sum, money]}
          nothing: {path: none}
          empty: {const: ""}
          converted:
            when: {path: fx_currency, differs_from: currency}
            total: {path: fx_total, as: money, currency: fx_currency}
            rate: {path: fx_rate, as: decimal}
        """,
    )
    got = one(
        mapping,
        {
            "cancelled_at": "2024-01-01T00:00:00Z",
            "mode": "sandbox",
            "buyer": {"first": "Ana", "last": " ", "email": "ana@example.com", "company": "  acme  "},
            "email": "",
            "addr": {
                "line1": "Rua A 1",
                "line2": "",
                "line3": "Bloco 2",
                "country": "Brazil",
                "zip": 1310100,
            },
            "note": "   ",
            "tags": "a| b ||c",
            "fees": [{"value": "-1.50"}, {"value": "2"}],
            "rebates": [{"value": "-0.75"}, {"value": "0.00"}],
            "fin": "WEIRD",
            "flags": "yes",
            "fx_currency": "BRL",
            "fx_total": "55.10",
            "fx_rate": 5.51,
        },
    )
    assert got["status"] == "cancelled"
    assert got["test"] is True
    assert got["customer"] == {
        "external_id": None,
        "name": "Ana",
        "company": "ACME",
        "email": "ana@example.com",
        "phone": None,
    }
    assert got["ship_to"]["lines"] == ["Rua A 1", "Bloco 2"]
    assert got["ship_to"]["country"] == "BR"
    assert got["ship_to"]["postal_code"] == "1310100"
    assert got["notes"] == []
    assert got["tags"] == ["a", "b", "c"]
    assert got["charges"] == [
        {"kind": "fee", "code": None, "description": None, "amount": {"amount": "1.50", "currency": "EUR"}},
        {"kind": "fee", "code": None, "description": None, "amount": {"amount": "2", "currency": "EUR"}},
        {
            "kind": "discount",
            "code": None,
            "description": None,
            "amount": {"amount": "0.75", "currency": "EUR"},
        },
        {
            "kind": "discount",
            "code": None,
            "description": None,
            "amount": {"amount": "0.00", "currency": "EUR"},
        },
    ]
    assert got["payment"]["status"] == "pending"
    assert got["attributes"] == {
        "flags": True,
        "total_fees": {"amount": "0.50", "currency": "EUR"},
        "converted": {"total": {"amount": "55.10", "currency": "BRL"}, "rate": "5.51"},
    }
    assert got["issues"][0] == {
        "code": "unmapped_value",
        "message": "'WEIRD' has no entry in the lookup table",
        "field": "payment.status",
    }
    # Mapping issues come first, then the totals check: 0.00 - 0 + 0 + (1.50 + 2 - 0.75 - 0.00) + 0.
    assert got["issues"][1:] == [
        {
            "code": "totals_mismatch",
            "message": "declared 0.00, its parts add up to 2.75",
            "field": "totals.grand_total",
        }
    ]


def test_unknown_country_is_an_issue_not_a_rejection(tmp_path: Path) -> None:
    mapping = load(tmp_path, "bill_to: {from: addr, country: {path: country, as: country}}\n")
    got = one(mapping, {"addr": {"country": "Atlantis"}})
    assert got["bill_to"]["country"] is None
    assert got["issues"] == [
        {"code": "unknown_country", "message": "unknown country 'Atlantis'", "field": "bill_to.country"}
    ]
    assert one(mapping, {"addr": {"country": "united states"}})["bill_to"]["country"] == "US"
    assert one(mapping, {"addr": {"country": "ca"}})["bill_to"]["country"] == "CA"


def test_lookup_without_on_unknown_rejects_unknown_values(tmp_path: Path) -> None:
    mapping = load(tmp_path, "payment: {status: {path: fin, as: lookup, table: {PAID: paid}}}\n")
    assert one(mapping, {"fin": "PAID"})["payment"]["status"] == "paid"
    with pytest.raises(MappingError) as caught:
        mapping.apply({**DOC, "fin": "NOPE"}, CTX)
    assert (caught.value.field, caught.value.message) == (
        "payment.status",
        "'NOPE' has no entry in the lookup table",
    )


def test_root_paths_and_dynamic_indexes_inside_lists(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        lines:
          each: items
          line_number: {position: 10}
          quantity: qty
          discounts:
            each: allocations
            code: {first: ["$.apps[app].code", "$.apps[app].title"]}
            amount: amount
          attributes:
            order_ref: $.ref
            last_app: "$.apps[-1].title"
        """,
    )
    got = one(
        mapping,
        {
            "ref": "R-1",
            "apps": [{"code": "SAVE5", "title": "Save 5"}, {"code": None, "title": "Staff"}],
            "items": [
                {"qty": 1, "allocations": [{"app": 1, "amount": "1"}, {"app": "0", "amount": "2"}]},
                {"qty": 3, "allocations": [{"app": 9, "amount": "3"}]},
            ],
        },
    )
    assert [line["line_number"] for line in got["lines"]] == ["10", "11"]
    assert [line["discounts"] for line in got["lines"]] == [
        [
            {"code": "Staff", "amount": {"amount": "1", "currency": "EUR"}},
            {"code": "SAVE5", "amount": {"amount": "2", "currency": "EUR"}},
        ],
        [{"code": None, "amount": {"amount": "3", "currency": "EUR"}}],
    ]
    assert got["lines"][0]["attributes"] == {"order_ref": "R-1", "last_app": "Staff"}


def test_yaml_numbers_are_decimals_and_merge_keys_work(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        charges:
          - each: fees
            kind: {const: handling}
            amount: &fixed {const: 0.10}
          - each: fees
            kind: {const: fee}
            amount: {<<: *fixed, const: 2.50}
        """,
    )
    got = one(mapping, {"fees": [{}]})
    assert [charge["amount"]["amount"] for charge in got["charges"]] == ["0.10", "2.50"]


# --- JSON parsing and entry points ----------------------------------------------------------------


def test_parse_json_numbers_are_int_or_decimal() -> None:
    parsed = parse_json(b'\xef\xbb\xbf{"id": 820982911946154508, "rate": 0.06, "big": 1.5e3}')
    assert parsed == {"id": 820982911946154508, "rate": Decimal("0.06"), "big": Decimal("1.5E+3")}
    assert type(parsed["id"]) is int
    assert type(parsed["rate"]) is Decimal


def test_parse_json_errors() -> None:
    with pytest.raises(MappingError) as caught:
        parse_json(b'{\n  "a": }')
    assert (caught.value.source_path, caught.value.message) == (
        "line 2 column 8",
        "invalid JSON: Expecting value",
    )
    with pytest.raises(MappingError) as caught:
        parse_json(b'{"a": NaN}')
    assert caught.value.message == "invalid JSON: NaN is not a JSON number"
    with pytest.raises(MappingError):
        parse_json(b"\xff\xfe")


def test_map_payload_names_the_mapping_on_bad_json(tmp_path: Path) -> None:
    mapping = load(tmp_path)
    with pytest.raises(MappingError) as caught:
        map_payload(b"{", mapping, CTX)
    assert caught.value.file == str(mapping.path)
    assert str(caught.value).startswith(f"{mapping.path}: invalid JSON")


def test_builtin_mappings() -> None:
    shopify = builtin_mapping("shopify")
    assert shopify is builtin_mapping("shopify")
    assert (shopify.name, shopify.channel) == ("shopify", "shopify")
    with pytest.raises(UnknownMappingError) as caught:
        builtin_mapping("../secrets")
    assert isinstance(caught.value, KeyError)
    assert str(caught.value).startswith("no built-in mapping '../secrets' (available: ")
