"""store.privacy on its own: what a redaction removes and keeps, and which orders a request is about.
The orders here are made up for these tests."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from orderhub.model.events import PrivacyRequest
from orderhub.store.exports import remove_exports, write_export
from orderhub.store.privacy import earlier_pending, matching_orders, redact_order


def canonical(order_id: str, customer_id: str, email: str, connector: str = "shop") -> dict[str, Any]:
    address = {
        "name": "Ana Lima",
        "company": "Lima Ltda",
        "lines": ["Rua Augusta 1500", "apto 12"],
        "city": "São Paulo",
        "region": "São Paulo",
        "region_code": "SP",
        "postal_code": "01304-001",
        "country": "BR",
        "phone": "+55 11 5555 0101",
        "email": email,
    }
    return {
        "id": f"{connector}:{order_id}",
        "revision": 1,
        "source": {"connector": connector, "external_id": order_id},
        "customer": {"external_id": customer_id, "name": "Ana Lima", "company": None, "email": email, "phone": "+55"},
        "bill_to": address,
        "ship_to": copy.deepcopy(address),
        "notes": ["Deixar com o porteiro"],
        "lines": [{"line_number": "1", "sku": "CAFE-1KG"}],
    }


def test_redaction_removes_personal_data_and_keeps_the_rest() -> None:
    order = canonical("1", "c1", "ana@example.com.br")
    redacted = redact_order(order)
    assert order["customer"]["email"] == "ana@example.com.br"  # the input is left as it was
    assert redacted["customer"] == {"external_id": "c1", "name": None, "company": None, "email": None, "phone": None}
    for key in ("bill_to", "ship_to"):
        assert redacted[key] == {
            "name": None,
            "company": None,
            "lines": [],
            "city": None,
            "region": "São Paulo",
            "region_code": "SP",
            "postal_code": None,
            "country": "BR",
            "phone": None,
            "email": None,
        }
    assert redacted["notes"] == []
    assert redacted["lines"] == order["lines"] and redacted["id"] == order["id"]
    assert redact_order({**order, "customer": None, "ship_to": None})["ship_to"] is None


def test_requests_match_by_order_customer_id_or_email_within_the_connector() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE orders (id TEXT, connector TEXT, body BLOB, seq INTEGER)")
    orders = [
        canonical("1", "c1", "Ana@Example.com.br"),
        canonical("2", "c2", "bruno@example.com.br"),
        canonical("3", "c3", "carla@example.com.br"),
        canonical("1", "c1", "ana@example.com.br", connector="other-shop"),
    ]
    for seq, order in enumerate(orders):
        row = (order["id"], order["source"]["connector"], orjson.dumps(order), seq)
        conn.execute("INSERT INTO orders VALUES (?, ?, ?, ?)", row)

    def ids(request: PrivacyRequest) -> list[str]:
        return [o["id"] for o in matching_orders(conn, "shop", request)]

    assert ids(PrivacyRequest("redact_customer", customer_email="ana@example.com.br")) == ["shop:1"]
    assert ids(PrivacyRequest("redact_customer", customer_id="c2")) == ["shop:2"]
    assert ids(PrivacyRequest("data_request", order_ids=("3",))) == ["shop:3"]
    assert ids(PrivacyRequest("redact_customer", customer_id="nobody")) == []
    assert ids(PrivacyRequest("redact_shop")) == ["shop:1", "shop:2", "shop:3"]


def test_exports_live_per_connector_and_go_with_a_redaction(tmp_path: Path) -> None:
    ana = PrivacyRequest("data_request", request_id="r1", customer_id="70", customer_email="ana@example.com.br")
    bruno = PrivacyRequest("data_request", request_id="r2", customer_id="7001")
    first = write_export(tmp_path, "shop", ana, 5, [canonical("1", "70", "ana@example.com.br")])
    second = write_export(tmp_path, "shop", bruno, 6, [])
    other = write_export(tmp_path, "..", ana, 7, [])  # a name that would climb out stays inside
    assert first == tmp_path / "shop" / "70-5.json" and other.parent == tmp_path / "_"
    assert orjson.loads(first.read_bytes())["orders"][0]["customer"]["email"] == "ana@example.com.br"
    assert not list(tmp_path.rglob("*.part"))
    assert remove_exports(tmp_path, "shop", "70") == [first]
    assert second.exists() and other.exists()
    assert remove_exports(tmp_path, "shop", None) == [second]
    assert remove_exports(tmp_path, "nowhere", None) == []


def test_a_request_waits_only_for_earlier_pending_payloads_of_its_connector() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE raw_receipts (id INTEGER PRIMARY KEY, connector TEXT, state TEXT)")
    conn.executemany(
        "INSERT INTO raw_receipts VALUES (?, ?, ?)",
        [(1, "shop", "done"), (2, "other", "pending"), (3, "shop", "pending"), (4, "shop", "pending")],
    )
    assert earlier_pending(conn, "shop", 4)  # receipt 3 is not normalized yet
    assert not earlier_pending(conn, "shop", 3)  # later ones and other connectors do not count
    conn.execute("UPDATE raw_receipts SET state = 'failed' WHERE id = 3")
    assert not earlier_pending(conn, "shop", 4)
