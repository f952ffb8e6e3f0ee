"""One more entry on an order's timeline, from modules beside the store (tracking, privacy)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import orjson


def now_text() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def add_event(
    conn: sqlite3.Connection, order_id: str, event: str, detail: dict[str, Any], revision: int | None = None
) -> None:
    """Inside a `db.write` job: the entry commits with whatever the job changed."""
    conn.execute(
        "INSERT INTO timeline (order_id, at, event, revision, detail) VALUES (?, ?, ?, ?, ?)",
        (order_id, now_text(), event, revision, orjson.dumps(detail).decode()),
    )
