"""Hand-written X12 snippets for the validation tests (written here, not taken from the corpus)."""

from __future__ import annotations

from orderhub.x12 import Delimiters, Segment

DELIMITERS = Delimiters(element="*", component=":", segment="~", repetition=None)


def segments(text: str, delimiters: Delimiters = DELIMITERS) -> list[Segment]:
    """Split a well-formed snippet on the terminator and element separator; line breaks are ignored."""
    result: list[Segment] = []
    for raw in text.split(delimiters.segment):
        raw = raw.strip()
        if not raw:
            continue
        tag, *elements = raw.split(delimiters.element)
        result.append(Segment(tag=tag, elements=elements, ordinal=len(result) + 1, line=len(result) + 1, offset=0))
    return result


def transaction_set(set_id: str, body: str, *, control: str = "0001", count: int | None = None) -> list[Segment]:
    """ST, the body segments, and an SE whose SE01 is right unless `count` says otherwise."""
    inner = segments(body)
    se01 = count if count is not None else len(inner) + 2
    return segments(f"ST*{set_id}*{control}~{body}~SE*{se01}*{control}~")


PO_HEADER = "BEG*00*SA*PO-1**20261120~"
PO_LINE = "PO1*1*2*EA*9.95**VP*SKU-1~"
PO_FOOTER = "CTT*1~"


def purchase_order(
    middle: str = "", *, header: str = PO_HEADER, lines: str = PO_LINE, footer: str = PO_FOOTER
) -> list[Segment]:
    """A small valid 850 with `middle` (header segments) placed after BEG."""
    return transaction_set("850", header + middle + lines + footer)
