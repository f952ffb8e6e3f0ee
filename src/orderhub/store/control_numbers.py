"""X12 control numbers (ISA13, GS06, ST02): persistent per partner, monotonic, never handed out twice.

`allocate` runs inside a write transaction (a `Database.write` job), so numbers are taken in the same
commit as the interchange that uses them: a rolled-back job gives its numbers back, a committed one
never sees them again. SQLite's single write lock serializes allocation across `Database` objects and
processes on the same file.

The counter starts at the partner profile's `*_start` (for partners moving over from another
translator) and counts up. After 999999999 (nine digits, the most ISA13/GS06/ST02 can hold) it wraps
to 1: explicitly, logged as a warning, and counted in the `wraps` column. Once wrapped, the start value
no longer applies.
"""

from __future__ import annotations

import sqlite3
from typing import Literal, get_args

import structlog

MAX_CONTROL_NUMBER = 999_999_999

Direction = Literal["inbound", "outbound"]
Kind = Literal["interchange", "group", "set"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS control_numbers (
        partner TEXT NOT NULL, direction TEXT NOT NULL, kind TEXT NOT NULL,
        value INTEGER NOT NULL, wraps INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (partner, direction, kind))""",
)

log = structlog.get_logger("orderhub.store.control_numbers")


def _check(direction: str, kind: str, start: int) -> None:
    if direction not in get_args(Direction):
        raise ValueError(f"direction must be one of {get_args(Direction)}, not {direction!r}")
    if kind not in get_args(Kind):
        raise ValueError(f"kind must be one of {get_args(Kind)}, not {kind!r}")
    if not 1 <= start <= MAX_CONTROL_NUMBER:
        raise ValueError(f"start must be between 1 and {MAX_CONTROL_NUMBER}, not {start}")


def _state(conn: sqlite3.Connection, partner: str, direction: str, kind: str) -> tuple[int, int] | None:
    row = conn.execute(
        "SELECT value, wraps FROM control_numbers WHERE partner = ? AND direction = ? AND kind = ?",
        (partner, direction, kind),
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def _following(last: int | None, wraps: int, start: int) -> tuple[int, int]:
    """The number after `last`, and the wrap count after taking it."""
    if last is None:
        return start, 0
    if last >= MAX_CONTROL_NUMBER:
        return 1, wraps + 1
    following = last + 1
    if wraps == 0 and following < start:  # the start was raised after numbers were sent
        following = start
    return following, wraps


def allocate(
    conn: sqlite3.Connection, partner: str, direction: Direction, kind: Kind, count: int = 1, *, start: int = 1
) -> list[int]:
    """Take the next `count` numbers; call inside a write transaction (a `Database.write` job)."""
    _check(direction, kind, start)
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    if not conn.in_transaction:
        raise RuntimeError("allocate runs inside a write transaction (a Database.write job)")
    state = _state(conn, partner, direction, kind)
    last, wraps = (None, 0) if state is None else state
    numbers: list[int] = []
    for _ in range(count):
        number, new_wraps = _following(last, wraps, start)
        if new_wraps != wraps:
            log.warning(
                "control number wrapped",
                partner=partner,
                direction=direction,
                kind=kind,
                after=last,
                next=number,
                wraps=new_wraps,
            )
        numbers.append(number)
        last, wraps = number, new_wraps
    conn.execute(
        "INSERT INTO control_numbers (partner, direction, kind, value, wraps) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(partner, direction, kind) DO UPDATE SET value = excluded.value, wraps = excluded.wraps",
        (partner, direction, kind, last, wraps),
    )
    return numbers


def peek(conn: sqlite3.Connection, partner: str, direction: Direction, kind: Kind, *, start: int = 1) -> int:
    """The number `allocate` would give next, consuming nothing (for previews such as `x12 ack`)."""
    _check(direction, kind, start)
    try:
        state = _state(conn, partner, direction, kind)
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        state = None  # a store that never allocated anything yet
    last, wraps = (None, 0) if state is None else state
    return _following(last, wraps, start)[0]
