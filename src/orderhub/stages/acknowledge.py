"""X12 acknowledgments, queued in the same unit of work that stores the interchange's orders.

For each interchange of a received file: register it (a repeat of one already processed is
acknowledged again and makes no orders; the same ISA13 with other content is processed and
reported), take our control numbers, and queue the 997/999 (and TA1 when asked) on `outbound`.
Runs inside the store's write transaction, so a crash leaves either all of it or none; the file
was read and validated by the mapping worker beforehand, so nothing here parses or validates and
a large file does not hold up the webhooks waiting for their own commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from orderhub.bus.base import OutMessage
from orderhub.store import control_numbers, interchanges
from orderhub.store.base import OrderWrite
from orderhub.x12 import Delimiters, X12Error
from orderhub.x12._acks import ReceivedInterchange
from orderhub.x12.partners import PartnerProfile

log = structlog.get_logger("orderhub.stages.acknowledge")

Enqueue = Callable[[sqlite3.Connection, OutMessage], None]


@dataclass(frozen=True, slots=True)
class X12Receipt:
    """A stored X12 file whose orders are being applied in this transaction, with its interchanges
    as the mapping worker read and validated them."""

    receipt: int
    connector: str
    filename: str
    interchanges: Sequence[ReceivedInterchange]
    profile: PartnerProfile


def _take(conn: sqlite3.Connection, profile: PartnerProfile, kind: control_numbers.Kind, count: int) -> int:
    start = profile.control_numbers.start(kind)
    return control_numbers.allocate(conn, profile.id, "outbound", kind, count, start=start)[0]


STANDARD = Delimiters(element="*", component=">", segment="~", repetition="^")


def _writable(received: Delimiters) -> Delimiters:
    """Answer in the partner's own delimiters, unless one is a space (a SPACE terminator is readable
    with care, but the blank-padded ISA fields cannot be written with it) or the ISA declared no
    component separator: then the standard ones."""
    if not received.component or " " in (
        received.element,
        received.component,
        received.segment,
        received.repetition or "",
    ):
        return STANDARD
    return received


def _acknowledgment(
    conn: sqlite3.Connection, interchange: ReceivedInterchange, profile: PartnerProfile
) -> tuple[int, bytes]:
    """Our ISA13 and the acknowledgment interchange."""
    delimiters = profile.delimiters.for_writing(_writable(interchange.delimiters))
    number = _take(conn, profile, "interchange", 1)
    return number, interchange.acknowledgment(
        interchange_control_number=number,
        group_control_number=_take(conn, profile, "group", 2),  # one FA group for 997s, one for 999s
        set_control_number=_take(conn, profile, "set", max(1, len(interchange.groups))),
        when=datetime.now(UTC),
        delimiters=delimiters,
        newline=profile.delimiters.segment_suffix,
        ta1=True if profile.acks.ta1 else None,  # the profile asks for one; otherwise ISA14 decides
    )


def acknowledge(conn: sqlite3.Connection, item: X12Receipt, enqueue: Enqueue) -> set[str]:
    """Register and acknowledge the file's interchanges; returns the ISA13s whose orders were already
    made (repeats), so that the caller applies none of them again."""
    repeats: set[str] = set()
    taken: set[str] = set()  # ISA13s of this file's interchanges that are new: their orders apply
    for interchange in item.interchanges:
        outcome = interchanges.record_interchange(
            conn,
            sender_qualifier=interchange.sender_qualifier,
            sender_id=interchange.sender_id,
            receiver_qualifier=interchange.receiver_qualifier,
            receiver_id=interchange.receiver_id,
            control_number=interchange.control_number,
            content_sha256=interchange.content_sha256,
            receipt=item.receipt,
        )
        if outcome == "repeat":
            repeats.add(interchange.control_number)
        else:
            taken.add(interchange.control_number)
        if outcome == "control_number_reused":
            log.warning(
                "interchange control number reused with other content; processed",
                partner=item.profile.id,
                control_number=interchange.control_number,
                file=item.filename,
            )
        if item.profile.functional_ack is None:
            continue
        try:
            number, ack = _acknowledgment(conn, interchange, item.profile)
        except (X12Error, ValueError) as exc:  # never hold the partner's orders back for our answer
            log.error(
                "acknowledgment could not be written; fix the partner profile's delimiters and send the file again",
                partner=item.profile.id,
                control_number=interchange.control_number,
                file=item.filename,
                error=str(exc),
            )
            continue
        name = f"{item.profile.id}-ack-{number:09d}.x12"  # our ISA13: never reused, so never overwritten
        headers = (("connector", item.connector.encode()), ("filename", name.encode()), ("document", b"ack"))
        enqueue(conn, OutMessage(topic="outbound", key=item.profile.id, value=ack, headers=headers))
    # the same interchange twice in one file: the first one's orders apply
    return repeats - taken


Prepare = Callable[[sqlite3.Connection, Enqueue, list[OrderWrite]], list[OrderWrite]]


def acknowledge_files(items: list[X12Receipt]) -> Prepare:
    """The step the store runs first in the batch's transaction: acknowledgments queued, and the
    orders of repeated interchanges held back."""

    def prepare(conn: sqlite3.Connection, enqueue: Enqueue, writes: list[OrderWrite]) -> list[OrderWrite]:
        for item in items:
            repeats = acknowledge(conn, item, enqueue)
            if repeats:
                writes = [w for w in writes if not (w.receipt == item.receipt and _interchange_of(w) in repeats)]
        return writes

    return prepare


def _interchange_of(write: OrderWrite) -> str | None:
    edi = (write.order().get("b2b") or {}).get("edi") or {}
    control: str | None = edi.get("interchange_control")
    return control
