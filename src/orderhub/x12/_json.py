"""The parsed structure as plain JSON-ready data (what `orderhub x12 parse` prints).

Values are the latin-1 decoded bytes as read, so the output is faithful to the file byte for byte.
"""

from __future__ import annotations

from typing import Any

from orderhub.x12._envelopes import FunctionalGroup, Interchange, TransactionSet, X12Document
from orderhub.x12._segments import Delimiters, Segment


def delimiters_json(delimiters: Delimiters) -> dict[str, Any]:
    return {
        "element": delimiters.element,
        "component": delimiters.component,
        "segment": delimiters.segment,
        "repetition": delimiters.repetition,
    }


def segment_json(segment: Segment) -> dict[str, Any]:
    return {
        "tag": segment.tag,
        "elements": segment.elements,
        "ordinal": segment.ordinal,
        "line": segment.line,
        "offset": segment.offset,
    }


def set_json(transaction_set: TransactionSet) -> dict[str, Any]:
    return {
        "id": transaction_set.id,
        "control_number": transaction_set.control_number,
        "implementation_reference": transaction_set.implementation_reference or None,
        "segment_count": len(transaction_set.segments),
        "segments": [segment_json(s) for s in transaction_set.segments],
    }


def group_json(group: FunctionalGroup) -> dict[str, Any]:
    return {
        "functional_id": group.functional_id,
        "sender": group.sender,
        "receiver": group.receiver,
        "control_number": group.control_number,
        "version": group.version,
        "gs": segment_json(group.gs),
        "sets": [set_json(s) for s in group.sets],
        "ge": segment_json(group.ge) if group.ge else None,
    }


def interchange_json(interchange: Interchange) -> dict[str, Any]:
    return {
        "delimiters": delimiters_json(interchange.delimiters),
        "sender": {"qualifier": interchange.sender_qualifier, "id": interchange.sender_id},
        "receiver": {"qualifier": interchange.receiver_qualifier, "id": interchange.receiver_id},
        "control_number": interchange.control_number,
        "version": interchange.version,
        "usage": interchange.usage,
        "ack_requested": interchange.ack_requested,
        "isa": segment_json(interchange.isa),
        "groups": [group_json(g) for g in interchange.groups],
        "other": [segment_json(s) for s in interchange.other],
        "iea": segment_json(interchange.iea) if interchange.iea else None,
    }


def document_json(document: X12Document) -> dict[str, Any]:
    return {
        "interchanges": [interchange_json(i) for i in document.interchanges],
        "findings": [f.to_json() for f in document.findings],
    }
