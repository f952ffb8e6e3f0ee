"""A transaction set as a JSON-like document, so declarative mappings read X12 like any other source.

Every segment occurrence becomes a dict keyed by reference designator (`BEG03`, `N104`; components
of a composite also as `SLN05-01`), listed under its tag; a loop instance is a dict of the same
shape, listed under its loop id (the trigger's tag), so `N1[N101='ST'].N102` is the ship-to name.
The first occurrence of each segment is also flattened into its loop instance (`BEG03` next to
`BEG`). Product id qualifier pairs become a map (`PO1_ID.UP`), and a few values that need the
envelope or a partner setting are computed once: `sent_at`, `po_date`, `test`, `lines_total`,
`terms_text`.

Values are stripped and decoded as UTF-8 where they are valid UTF-8 (they are read as latin-1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.x12._envelopes import FunctionalGroup, Interchange, TransactionSet
from orderhub.x12._segments import Delimiters, Segment
from orderhub.x12._specs import LoopDef, SegmentDef, SegmentUse, TransactionSetSpec, spec_for

# segments whose trailing elements are (qualifier, id) pairs, and where the pairs start
ID_PAIRS = {"PO1": 6, "IT1": 6, "LIN": 2, "ACK": 7}


@dataclass(frozen=True, slots=True)
class SetContext:
    """What a document needs beyond its own segments."""

    interchange: Interchange
    group: FunctionalGroup
    timezone: str = "UTC"  # the partner's zone for GS04/GS05
    currency: str | None = None  # the partner's currency, for sets without CUR
    sku_xref: Mapping[str, str] = field(default_factory=dict)  # their part number -> our SKU
    uom_xref: Mapping[str, str] = field(default_factory=dict)  # their unit of measure -> ours


def _text(value: str) -> str:
    try:
        value = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return value.strip()


def _implied(value: str, decimals: int) -> str:
    """An Nn value with its implied decimal point placed: N2 "1500" -> "15.00"."""
    try:
        return format(Decimal(value).scaleb(-decimals), "f")
    except InvalidOperation:
        return value  # the validator reports it; the document keeps what was sent


def _decimals(definition: SegmentDef | None) -> dict[int, int]:
    if definition is None:
        return {}
    return {
        position: use.element.decimals
        for position, use in enumerate(definition.elements, 1)
        if use.element is not None and use.element.type == "N" and use.element.decimals
    }


def _occurrence(segment: Segment, delimiters: Delimiters, definition: SegmentDef | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    component = delimiters.component
    implied = _decimals(definition)
    for position, raw in enumerate(segment.elements, 1):
        if not raw:
            continue
        key = f"{segment.tag}{position:02d}"
        value = _text(raw)
        if value and position in implied:
            value = _implied(value, implied[position])
        if value:
            found[key] = value
        if component and component in raw:
            for index, part in enumerate(raw.split(component), 1):
                if part.strip():
                    found[f"{key}-{index:02d}"] = _text(part)
    start = ID_PAIRS.get(segment.tag)
    if start is not None:
        ids: dict[str, str] = {}
        for position in range(start, len(segment.elements), 2):
            qualifier, value = _text(segment.element(position)), _text(segment.element(position + 1))
            if qualifier and value and qualifier not in ids:
                ids[qualifier] = value
        found[f"{segment.tag}_ID"] = ids
    return found


def _add(
    instance: dict[str, Any], segment: Segment, delimiters: Delimiters, definition: SegmentDef | None = None
) -> None:
    occurrence = _occurrence(segment, delimiters, definition)
    occurrences = instance.setdefault(segment.tag, [])
    if not occurrences:
        for key, value in occurrence.items():
            instance.setdefault(key, value)
    occurrences.append(occurrence)


@dataclass(slots=True)
class _Frame:
    loop: LoopDef
    instance: dict[str, Any]
    members: dict[str, SegmentDef]  # segments placed in this loop other than its trigger
    triggers: dict[str, LoopDef]  # child loops by trigger tag


def _frame(loop: LoopDef, instance: dict[str, Any], is_root: bool) -> _Frame:
    segments = [child for child in loop.children if isinstance(child, SegmentUse)]
    members = {use.tag: use.segment for use in (segments if is_root else segments[1:])}
    triggers = {child.trigger.tag: child for child in loop.children if isinstance(child, LoopDef)}
    return _Frame(loop, instance, members, triggers)


def _place(body: list[Segment], spec: TransactionSetSpec | None, delimiters: Delimiters, root: dict[str, Any]) -> None:
    if spec is None:  # no spec for this set: segments in order, no loops
        for segment in body:
            _add(root, segment, delimiters)
        return
    stack = [_frame(spec.root, root, is_root=True)]
    for segment in body:
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            child = frame.triggers.get(segment.tag)
            if child is not None:
                instance: dict[str, Any] = {}
                frame.instance.setdefault(child.id, []).append(instance)
                del stack[depth + 1 :]
                stack.append(_frame(child, instance, is_root=False))
                _add(instance, segment, delimiters, child.trigger.segment)
                break
            definition = frame.members.get(segment.tag)
            if definition is not None:
                del stack[depth + 1 :]
                _add(frame.instance, segment, delimiters, definition)
                break
        else:  # not in the spec: kept where the reading is, so nothing is lost
            _add(stack[-1].instance, segment, delimiters)


def _date(text: str) -> date | None:
    """CCYYMMDD, or YYMMDD in releases before 004010 (00-49 read as 20xx)."""
    text = text.strip()
    try:
        if len(text) == 8:
            return datetime.strptime(text, "%Y%m%d").date()
        if len(text) == 6:
            century = "20" if int(text[:2]) < 50 else "19"
            return datetime.strptime(century + text, "%Y%m%d").date()
    except ValueError:
        return None
    return None


def _sent_at(group: FunctionalGroup, timezone: str) -> str | None:
    day = _date(group.date)
    hhmm = group.time.strip()[:6]
    if day is None or len(hhmm) < 4 or not hhmm.isdigit():
        return None
    moment = datetime(
        day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[2:4]), int(hhmm[4:6] or 0), tzinfo=ZoneInfo(timezone)
    )
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _cross_reference(document: dict[str, Any], context: SetContext) -> None:
    """Our SKU and unit for each line, from the partner's tables (`xref_sku`, `xref_uom`)."""
    for line in document.get("PO1", []):
        ids = line.get("PO1_ID", {})
        for qualifier in ("BP", "IN", "CB", "VN", "VP", "SK", "UP", "EN"):
            sku = context.sku_xref.get(ids.get(qualifier, ""))
            if sku is not None:
                line["xref_sku"] = sku
                break
        unit = line.get("PO103")
        if unit is not None and unit in context.uom_xref:
            line["xref_uom"] = context.uom_xref[unit]


def _lines_total(document: dict[str, Any]) -> str | None:
    """Sum of quantity x unit price over the PO1 loops (X12 850 declares no money total of its own)."""
    total = Decimal(0)
    for line in document.get("PO1", []):
        try:
            total += Decimal(line.get("PO102", "0")) * Decimal(line.get("PO104", "0"))
        except InvalidOperation:
            return None
    return format(total, "f") if document.get("PO1") else None


def _terms_text(document: dict[str, Any]) -> str | None:
    """ITD12 as written, else the usual reading of its codes: "2% 10 days, net 30 days"."""
    if "ITD12" in document:
        return str(document["ITD12"])
    parts = []
    if "ITD03" in document:
        parts.append(f"{document['ITD03']}%" + (f" {document['ITD05']} days" if "ITD05" in document else ""))
    if "ITD07" in document:
        parts.append(f"net {document['ITD07']} days")
    return ", ".join(parts) or None


def set_document(transaction_set: TransactionSet, context: SetContext) -> dict[str, Any]:
    interchange, group = context.interchange, context.group
    delimiters = interchange.delimiters
    document: dict[str, Any] = {}
    for segment in (interchange.isa, group.gs, transaction_set.st):
        _add(document, segment, delimiters)
    spec = spec_for(transaction_set.id, group.version)
    _place(transaction_set.body, spec, delimiters, document)
    _cross_reference(document, context)
    document["default_currency"] = context.currency
    document["lines_total"] = _lines_total(document)
    document["terms_text"] = _terms_text(document)
    po_date = _date(document.get("BEG05", ""))
    document["po_date"] = po_date.isoformat() if po_date else None
    document["sent_at"] = _sent_at(group, context.timezone)
    document["test"] = interchange.usage.strip() == "T"
    return document
