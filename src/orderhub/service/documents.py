"""Outbound X12 documents for a stored order: an 855, 856 or 810 previewed, or queued for the partner.

A preview uses the control numbers that would come next and consumes none. Sending takes the
numbers and queues the interchange on `outbound` in one transaction; the daemon's dispatch stage
delivers it through the connector the order came in by (folder, SFTP, AS2).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from orderhub.bus.base import OutMessage
from orderhub.store import control_numbers
from orderhub.store.sqlite import Enqueue, SqliteStore
from orderhub.x12 import Delimiters, Segment
from orderhub.x12._acks import InterchangeParties
from orderhub.x12.outbound import Invoice, LineDecision, Shipment, build_810, build_855, build_856, render_outbound
from orderhub.x12.partners import PartnerProfile

DocumentKind = Literal["855", "856", "810"]
WRITING = Delimiters(element="*", component=">", segment="~", repetition="^")
_DECISIONS = TypeAdapter(list[LineDecision])
KINDS: tuple[control_numbers.Kind, ...] = ("interchange", "group", "set")
Numbers = dict[control_numbers.Kind, int]


def parse_record(kind: DocumentKind, data: bytes | None) -> Any:
    """What the order does not hold: 855 line decisions (optional), the 856 shipment, the 810 invoice."""
    if kind == "855":
        return _DECISIONS.validate_json(data) if data else []
    if data is None:
        raise ValueError(f"an {kind} needs its {'shipment' if kind == '856' else 'invoice'} record (a JSON file)")
    model: type[BaseModel] = Shipment if kind == "856" else Invoice
    return model.model_validate_json(data)


def _transaction_set(
    kind: DocumentKind, order: dict[str, Any], record: Any, number: int, version: str
) -> list[Segment]:
    if kind == "855":
        return build_855(order, record, control_number=number, ack_date=datetime.now(UTC).date(), version=version)
    if kind == "856":
        return build_856(order, record, control_number=number, version=version)
    return build_810(order, record, control_number=number, version=version)


def _render(kind: DocumentKind, order: dict[str, Any], record: Any, profile: PartnerProfile, numbers: Numbers) -> bytes:
    version = profile.version
    transaction_set = _transaction_set(kind, order, record, numbers["set"], version)
    return render_outbound(
        [transaction_set],
        version=version,
        parties=InterchangeParties(
            sender_qualifier=profile.us.qualifier,
            sender_id=profile.us.id,
            receiver_qualifier=profile.isa.qualifier,
            receiver_id=profile.isa.id,
            application_sender=profile.gs.our_id,
            application_receiver=profile.gs.partner_id,
        ),
        delimiters=profile.delimiters.for_writing(WRITING),
        interchange_control_number=numbers["interchange"],
        group_control_number=numbers["group"],
        when=datetime.now(UTC),
        usage_indicator=profile.usage_indicator,
        newline=profile.delimiters.segment_suffix,
    )


def preview(
    conn: sqlite3.Connection, kind: DocumentKind, order: dict[str, Any], record: Any, profile: PartnerProfile
) -> bytes:
    numbers = {
        k: control_numbers.peek(conn, profile.id, "outbound", k, start=profile.control_numbers.start(k)) for k in KINDS
    }
    return _render(kind, order, record, profile, numbers)


async def send(
    store: SqliteStore, kind: DocumentKind, order: dict[str, Any], record: Any, profile: PartnerProfile
) -> tuple[str, bytes]:
    """Take our control numbers and queue the interchange; returns its file name and bytes."""

    def write(conn: sqlite3.Connection, enqueue: Enqueue) -> tuple[str, bytes]:
        numbers = {
            k: control_numbers.allocate(conn, profile.id, "outbound", k, start=profile.control_numbers.start(k))[0]
            for k in KINDS
        }
        data = _render(kind, order, record, profile, numbers)
        name = f"{profile.id}-{kind}-{order['b2b']['po_number']}-{numbers['interchange']}.x12"
        headers = (
            ("connector", order["source"]["connector"].encode()),
            ("filename", name.encode()),
            ("document", kind.encode()),
            ("order_id", order["id"].encode()),
        )
        enqueue(conn, OutMessage(topic="outbound", key=profile.id, value=data, headers=headers))
        return name, data

    result: tuple[str, bytes] = await store.write_queued(write)
    return result
