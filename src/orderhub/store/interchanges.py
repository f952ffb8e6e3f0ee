"""The registry of inbound X12 interchanges: which ISA13 each sender used, with what content.

Partners re-send. The same sender, receiver and ISA13 with the same content is a repeat: it is
acknowledged again but makes no new orders. The same ISA13 with other content means the partner
reused a control number: the interchange is processed and the reuse reported, never dropped.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS x12_interchanges (
        sender_qualifier TEXT NOT NULL, sender_id TEXT NOT NULL,
        receiver_qualifier TEXT NOT NULL, receiver_id TEXT NOT NULL,
        control_number TEXT NOT NULL, content_sha256 TEXT NOT NULL,
        received_at TEXT NOT NULL, receipt INTEGER, ack_ref TEXT,
        PRIMARY KEY (sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number, content_sha256))""",
)

Recorded = Literal["new", "repeat", "control_number_reused"]


@dataclass(frozen=True, slots=True)
class InterchangeRecord:
    content_sha256: str
    received_at: str
    receipt: int | None
    ack_ref: str | None


def control_number_key(control_number: str) -> str:
    """ISA13 as compared: "000000123" and "123" are the same number."""
    value = control_number.strip()
    return str(int(value)) if value.isdigit() else value


def _key(
    sender_qualifier: str, sender_id: str, receiver_qualifier: str, receiver_id: str, control_number: str
) -> tuple[str, str, str, str, str]:
    return (
        sender_qualifier.strip(),
        sender_id.strip(),
        receiver_qualifier.strip(),
        receiver_id.strip(),
        control_number_key(control_number),
    )


def record_interchange(
    conn: sqlite3.Connection,
    *,
    sender_qualifier: str,
    sender_id: str,
    receiver_qualifier: str,
    receiver_id: str,
    control_number: str,
    content_sha256: str,
    receipt: int | None = None,
    ack_ref: str | None = None,
    received_at: datetime | None = None,
) -> Recorded:
    """Register one received interchange; call inside a write job, with what it turns into."""
    key = _key(sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number)
    seen = conn.execute(
        "SELECT content_sha256 FROM x12_interchanges WHERE sender_qualifier = ? AND sender_id = ?"
        " AND receiver_qualifier = ? AND receiver_id = ? AND control_number = ?",
        key,
    ).fetchall()
    if any(row[0] == content_sha256 for row in seen):
        return "repeat"
    at = (received_at or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    conn.execute(
        "INSERT INTO x12_interchanges (sender_qualifier, sender_id, receiver_qualifier, receiver_id,"
        " control_number, content_sha256, received_at, receipt, ack_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*key, content_sha256, at, receipt, ack_ref),
    )
    return "control_number_reused" if seen else "new"


def set_ack_ref(
    conn: sqlite3.Connection,
    *,
    sender_qualifier: str,
    sender_id: str,
    receiver_qualifier: str,
    receiver_id: str,
    control_number: str,
    content_sha256: str,
    ack_ref: str,
) -> None:
    """Note where the acknowledgment of a recorded interchange went (for re-acknowledging a repeat)."""
    key = _key(sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number)
    conn.execute(
        "UPDATE x12_interchanges SET ack_ref = ? WHERE sender_qualifier = ? AND sender_id = ?"
        " AND receiver_qualifier = ? AND receiver_id = ? AND control_number = ? AND content_sha256 = ?",
        (ack_ref, *key, content_sha256),
    )


def find_interchanges(
    conn: sqlite3.Connection,
    *,
    sender_qualifier: str,
    sender_id: str,
    receiver_qualifier: str,
    receiver_id: str,
    control_number: str,
) -> list[InterchangeRecord]:
    """Every content recorded under this ISA13, oldest first."""
    rows = conn.execute(
        "SELECT content_sha256, received_at, receipt, ack_ref FROM x12_interchanges WHERE sender_qualifier = ?"
        " AND sender_id = ? AND receiver_qualifier = ? AND receiver_id = ? AND control_number = ?"
        " ORDER BY received_at, rowid",
        _key(sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number),
    ).fetchall()
    return [InterchangeRecord(r[0], r[1], r[2], r[3]) for r in rows]
