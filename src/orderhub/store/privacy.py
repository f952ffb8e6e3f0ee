"""Privacy requests carried out on the stored canonical orders: redaction in place and data exports.

Functions take the sqlite3 connection of a `db.write` (or `db.read`) job, so a redaction, its
timeline entries and the record of the request commit together.

Redaction replaces the bodies of the order and of every stored revision of it; no new revision is
made and nothing is published. Removed: the customer's name, company, email and phone (the channel's
customer id stays: it is pseudonymous and lets later requests about the same customer be matched),
in `bill_to`/`ship_to` the name, company, street lines, city, postal code, phone and email (region
and country stay, for tax and reporting), and the free-text `notes`. `content_hash` is left as it
was, so a re-delivery of the very payload that was redacted changes nothing.

Raw payloads: when the connector can redact its own payload format, the stored bytes of every
payload that made or touched a redacted order (and the privacy request itself) are replaced by the
redacted bytes, in the same transaction, and listed in `redacted_blobs`. Such a blob keeps its
`sha256:` address, which then names the original content rather than the bytes now kept; a replay
of it makes orders without the personal data. For `shop/redact` every payload of the connector is
redacted. Not covered (follow-up): messages already on the bus keep their bytes, and orders named
by a redaction that arrive later (not yet stored when the request came) are not redacted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from orderhub.model.events import PrivacyRequest
from orderhub.store.timeline import add_event, now_text

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS privacy_actions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, receipt INTEGER NOT NULL UNIQUE, connector TEXT NOT NULL,
        action TEXT NOT NULL, request_id TEXT, shop TEXT, customer_id TEXT, orders TEXT NOT NULL,
        payloads INTEGER NOT NULL DEFAULT 0, export_path TEXT, error TEXT, handled_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS redacted_blobs (
        sha256 TEXT PRIMARY KEY, redacted_at TEXT NOT NULL, request_receipt INTEGER NOT NULL)""",
)
_CHUNK = 500

Redactor = Callable[[bytes], bytes | None]  # a payload without the personal data; None: cannot tell

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


def earlier_pending(conn: sqlite3.Connection, connector: str, receipt: int) -> bool:
    """Whether a payload of the connector received before this one still waits to be normalized."""
    row = conn.execute(
        "SELECT 1 FROM raw_receipts WHERE connector = ? AND id < ? AND state = 'pending' LIMIT 1", (connector, receipt)
    ).fetchone()
    return row is not None


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


def order_receipts(conn: sqlite3.Connection, order_ids: list[str]) -> set[int]:
    """Receipts of the payloads that made or touched these orders (revisions and timeline entries)."""
    found: set[int] = set()
    for start in range(0, len(order_ids), _CHUNK):
        chunk = order_ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT receipt FROM order_revisions WHERE order_id IN ({marks})"
            f" UNION SELECT json_extract(detail, '$.receipt') FROM timeline WHERE order_id IN ({marks})",
            [*chunk, *chunk],
        ).fetchall()
        found.update(int(row[0]) for row in rows if isinstance(row[0], int))
    return found


def connector_receipts(conn: sqlite3.Connection, connector: str) -> set[int]:
    return {int(row[0]) for row in conn.execute("SELECT id FROM raw_receipts WHERE connector = ?", (connector,))}


def redact_blobs(conn: sqlite3.Connection, receipts: Iterable[int], redactor: Redactor, request_receipt: int) -> int:
    """Replace the stored bytes of these receipts' payloads by their redacted form; how many changed."""
    ids = sorted(set(receipts))
    changed = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT DISTINCT b.sha256, b.body FROM raw_receipts r JOIN raw_blobs b USING (sha256)"
            f" WHERE r.id IN ({marks})",
            chunk,
        ).fetchall()
        for sha256, body in rows:
            original = bytes(body)
            redacted = redactor(original)
            if redacted is None or redacted == original:
                continue
            conn.execute("UPDATE raw_blobs SET body = ?, size = ? WHERE sha256 = ?", (redacted, len(redacted), sha256))
            conn.execute(
                "INSERT INTO redacted_blobs (sha256, redacted_at, request_receipt) VALUES (?, ?, ?)"
                " ON CONFLICT(sha256) DO UPDATE SET redacted_at = excluded.redacted_at",
                (sha256, now_text(), request_receipt),
            )
            changed += 1
    return changed


def record(
    conn: sqlite3.Connection,
    connector: str,
    request: PrivacyRequest,
    receipt: int,
    orders: list[str],
    export_path: str | None = None,
    error: str | None = None,
    payloads: int = 0,
) -> None:
    """What was done for one request (its receipt makes a re-delivered request a no-op)."""
    conn.execute(
        "INSERT INTO privacy_actions (receipt, connector, action, request_id, shop, customer_id, orders,"
        " payloads, export_path, error, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            receipt,
            connector,
            request.action,
            request.request_id,
            request.shop,
            request.customer_id,
            orjson.dumps(orders).decode(),
            payloads,
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
