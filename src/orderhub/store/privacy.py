"""Privacy requests carried out on the stored canonical orders: redaction in place and data exports.

Functions take the sqlite3 connection of a `db.write` (or `db.read`) job, so a redaction, its
timeline entries and the record of the request commit together.

Redaction replaces the bodies of the order and of every stored revision of it; no new revision is
made and nothing is published. Removed: the customer's name, company, email and phone (the channel's
customer id stays: it is pseudonymous and lets later requests about the same customer be matched),
in `bill_to`/`ship_to` the name, company, street lines, city, postal code, phone and email (region
and country stay, for tax and reporting), and the free-text `notes`. `content_hash` is left as it
was, so a re-delivery of the very payload that was redacted changes nothing.

Not covered here (follow-up): the raw payloads keep their bytes (content-addressed blobs, the
webhooks and polled orders of that customer), messages already on the bus keep theirs, and a later,
different payload of a redacted order makes a new revision with the data it carries.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from orderhub.model.events import PrivacyRequest
from orderhub.store.timeline import add_event, now_text

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS privacy_actions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, receipt INTEGER NOT NULL UNIQUE, connector TEXT NOT NULL,
        action TEXT NOT NULL, request_id TEXT, shop TEXT, customer_id TEXT, orders TEXT NOT NULL,
        export_path TEXT, error TEXT, handled_at TEXT NOT NULL)""",
)

_CUSTOMER_FIELDS = ("name", "company", "email", "phone")
_ADDRESS_FIELDS = ("name", "company", "city", "postal_code", "phone", "email")


def redact_order(order: dict[str, Any]) -> dict[str, Any]:
    """The order without the customer's personal data (a new dict; the input is not changed)."""
    result = orjson.loads(orjson.dumps(order))
    customer = result.get("customer")
    if isinstance(customer, dict):
        customer.update(dict.fromkeys(_CUSTOMER_FIELDS))
    for key in ("bill_to", "ship_to"):
        address = result.get(key)
        if isinstance(address, dict):
            address.update(dict.fromkeys(_ADDRESS_FIELDS))
            address["lines"] = []
    if "notes" in result:
        result["notes"] = []
    return dict(result)


def _matches(order: dict[str, Any], request: PrivacyRequest) -> bool:
    if request.action == "redact_shop":
        return True
    if str((order.get("source") or {}).get("external_id")) in request.order_ids:
        return True
    customer = order.get("customer") or {}
    if request.customer_id is not None and customer.get("external_id") == request.customer_id:
        return True
    email = customer.get("email")
    return bool(request.customer_email and email and email.lower() == request.customer_email.lower())


def matching_orders(conn: sqlite3.Connection, connector: str, request: PrivacyRequest) -> list[dict[str, Any]]:
    """The connector's stored orders the request is about, oldest first."""
    rows = conn.execute("SELECT body FROM orders WHERE connector = ? ORDER BY seq", (connector,)).fetchall()
    orders = (dict(orjson.loads(row[0])) for row in rows)
    return [order for order in orders if _matches(order, request)]


def handled(conn: sqlite3.Connection, receipt: int) -> bool:
    return conn.execute("SELECT 1 FROM privacy_actions WHERE receipt = ?", (receipt,)).fetchone() is not None


def redact(conn: sqlite3.Connection, connector: str, request: PrivacyRequest, receipt: int) -> list[str]:
    """Redact the matching orders and their revisions; a `redacted` timeline entry each. Their ids."""
    redacted: list[str] = []
    for order in matching_orders(conn, connector, request):
        order_id = str(order["id"])
        conn.execute("UPDATE orders SET body = ? WHERE id = ?", (orjson.dumps(redact_order(order)), order_id))
        revisions = conn.execute(
            "SELECT revision, body FROM order_revisions WHERE order_id = ?", (order_id,)
        ).fetchall()
        for revision, body in revisions:
            conn.execute(
                "UPDATE order_revisions SET body = ? WHERE order_id = ? AND revision = ?",
                (orjson.dumps(redact_order(orjson.loads(body))), order_id, revision),
            )
        add_event(conn, order_id, "redacted", {"action": request.action, "receipt": receipt}, order.get("revision"))
        redacted.append(order_id)
    return redacted


def record(
    conn: sqlite3.Connection,
    connector: str,
    request: PrivacyRequest,
    receipt: int,
    orders: list[str],
    export_path: str | None = None,
    error: str | None = None,
) -> None:
    """What was done for one request (its receipt makes a re-delivered request a no-op)."""
    conn.execute(
        "INSERT INTO privacy_actions (receipt, connector, action, request_id, shop, customer_id, orders,"
        " export_path, error, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            receipt,
            connector,
            request.action,
            request.request_id,
            request.shop,
            request.customer_id,
            orjson.dumps(orders).decode(),
            export_path,
            error,
            now_text(),
        ),
    )


def record_export(
    conn: sqlite3.Connection, connector: str, request: PrivacyRequest, receipt: int, orders: list[str], path: str
) -> None:
    for order_id in orders:
        add_event(conn, order_id, "data_exported", {"receipt": receipt, "path": path})
    record(conn, connector, request, receipt, orders, export_path=path)


def webhook_headers(conn: sqlite3.Connection, receipts: list[int]) -> dict[int, dict[str, str]]:
    """Headers of the webhook receipts among these (cheap: no bodies are read)."""
    if not receipts:
        return {}
    marks = ",".join("?" * len(receipts))
    rows = conn.execute(
        f"SELECT id, headers FROM raw_receipts WHERE transport = 'webhook' AND id IN ({marks})", receipts
    ).fetchall()
    return {int(row[0]): dict(orjson.loads(row[1])) for row in rows}
