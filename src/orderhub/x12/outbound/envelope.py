"""Outbound sets in a complete interchange, written with the partner's delimiters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from orderhub.x12._acks import InterchangeParties, OutboundGroup, render_interchange, uses_999
from orderhub.x12._segments import Delimiters, Segment
from orderhub.x12.outbound._common import OrderData, OutboundError, functional_id, order_dict


def parties_replying_to(order: OrderData) -> InterchangeParties:
    """Our interchange back to the partner whose 850 made the order: its ISA sender is our receiver.

    The order keeps the ISA ids only, so they stand in for GS02 / GS03; a partner whose
    application ids differ needs its profile's `InterchangeParties` instead.
    """
    data = order_dict(order)
    edi: Mapping[str, str | None] = (data.get("b2b") or {}).get("edi") or {}
    sender_qualifier, sender_id = edi.get("receiver_qualifier"), edi.get("receiver_id")
    receiver_qualifier, receiver_id = edi.get("sender_qualifier"), edi.get("sender_id")
    if not (sender_qualifier and sender_id and receiver_qualifier and receiver_id):
        raise OutboundError(f"order {data.get('id')!r} has no b2b.edi interchange ids to reply to")
    return InterchangeParties(
        sender_qualifier=sender_qualifier,
        sender_id=sender_id.strip(),
        receiver_qualifier=receiver_qualifier,
        receiver_id=receiver_id.strip(),
        application_sender=sender_id.strip(),
        application_receiver=receiver_id.strip(),
    )


def _scrubbed(segments: Sequence[Segment], reserved: str) -> list[Segment]:
    # X12 has no escape character: a delimiter inside a value (a "*" in a street name) would split
    # it, so it is written as a space.
    table = str.maketrans({ch: " " for ch in reserved})
    return [
        Segment(tag=s.tag, elements=[value.translate(table) for value in s.elements], ordinal=0, line=0, offset=0)
        for s in segments
    ]


def render_outbound(
    transaction_sets: Sequence[Sequence[Segment]],
    *,
    version: str,
    parties: InterchangeParties,
    delimiters: Delimiters,
    interchange_control_number: int,
    group_control_number: int,
    when: datetime,
    usage_indicator: str = "P",
    newline: str = "",
) -> bytes:
    """One interchange holding `transaction_sets` (each ST..SE from a builder).

    Sets go into one functional group per GS01 (855 PR, 856 SH, 810 IN), in the order each kind
    first appears; GS06 counts up from `group_control_number`. The envelope is `render_interchange`'s.
    """
    if not transaction_sets:
        raise OutboundError("an interchange needs at least one transaction set")
    modern = uses_999(version)
    reserved = delimiters.element + delimiters.segment + delimiters.component
    if modern:
        reserved += delimiters.repetition or "^"
    by_group: dict[str, list[list[Segment]]] = {}
    for transaction_set in transaction_sets:
        if not transaction_set or transaction_set[0].tag != "ST":
            raise OutboundError("a transaction set starts with ST")
        gs01 = functional_id(transaction_set[0].element(1), version)
        by_group.setdefault(gs01, []).append(_scrubbed(transaction_set, reserved))
    groups = [
        OutboundGroup(version, group_control_number + index, sets, functional_id=gs01)
        for index, (gs01, sets) in enumerate(by_group.items())
    ]
    return render_interchange(
        groups,
        parties=parties,
        delimiters=delimiters,
        interchange_control_number=interchange_control_number,
        when=when,
        usage_indicator=usage_indicator,
        newline=newline,
    )
