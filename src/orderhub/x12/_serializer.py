"""Writing segments: back exactly as read (trivia kept), or fresh with chosen delimiters.

Exact writing replays each segment's trivia, text and terminator, so a file read by the tokenizer
comes back byte for byte. Fresh writing emits a fixed-width 106-byte ISA, drops trailing empty
elements, and refuses values that contain a delimiter (they would change the segment structure).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from orderhub.x12._envelopes import X12Document
from orderhub.x12._errors import WriteError
from orderhub.x12._segments import Delimiters, Segment

# ISA01..ISA16 fixed widths: together with "ISA", 16 separators and a terminator, 106 bytes.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


def iter_exact(segments: Iterable[Segment], delimiters: Sequence[Delimiters], trailer: str = "") -> Iterator[str]:
    """The text of `segments` as read; each ISA switches to the next entry of `delimiters`."""
    remaining = iter(delimiters)
    separator = ""
    for segment in segments:
        if segment.tag == "ISA" or not separator:
            current = next(remaining, None)
            if current is None:
                raise WriteError(
                    "no delimiters for this interchange",
                    segment_ordinal=segment.ordinal,
                    segment_tag=segment.tag,
                    line=segment.line,
                )
            separator = current.element
        yield segment.exact(separator)
    if trailer:
        yield trailer


def write_exact(segments: Iterable[Segment], delimiters: Sequence[Delimiters], trailer: str = "") -> bytes:
    """Bytes of `segments` as read (see `iter_exact`)."""
    return "".join(iter_exact(segments, delimiters, trailer)).encode("latin-1")


def iter_document(document: X12Document) -> Iterator[str]:
    """The text of a parsed document as read, interchange by interchange."""
    for interchange in document.interchanges:
        separator = interchange.delimiters.element
        for segment in interchange.segments():
            yield segment.exact(separator)
    if document.trailer:
        yield document.trailer


def serialize(document: X12Document) -> bytes:
    """The bytes of a parsed document: identical to the input for every file `parse` accepts."""
    return "".join(iter_document(document)).encode("latin-1")


def _check(segment: Segment, delimiters: Delimiters, values: Iterable[str], skip: int = 0) -> None:
    reserved = [d for d in (delimiters.element, delimiters.segment, delimiters.repetition) if d]
    for position, value in enumerate(values, 1):
        if position == skip:
            continue
        for delimiter in reserved:
            if delimiter in value:
                raise WriteError(
                    f"value {value!r} contains the delimiter {delimiter!r}",
                    segment_ordinal=segment.ordinal or None,
                    segment_tag=segment.tag,
                    element=position,
                )


def _isa_elements(segment: Segment, delimiters: Delimiters) -> list[str]:
    if len(segment.elements) < 15:
        raise WriteError(
            f"ISA must have 16 elements, found {len(segment.elements)}",
            segment_tag="ISA",
            element=len(segment.elements) + 1,
        )
    values = list(segment.elements[:16])
    if delimiters.repetition:
        values[10] = delimiters.repetition
    values[15:] = [delimiters.component or ""]
    for index, width in enumerate(ISA_WIDTHS[:15]):
        value = values[index]
        if len(value) > width:
            raise WriteError(
                f"ISA{index + 1:02d} is at most {width} characters, found {value!r}",
                segment_tag="ISA",
                element=index + 1,
            )
        # Numeric fields (control number, dates) are zero-padded; the rest space-padded.
        values[index] = value.rjust(width, "0") if index == 12 else value.ljust(width)
    return values


class X12Writer:
    """Emit fresh segments with `delimiters`, each followed by the terminator and `newline`."""

    def __init__(self, delimiters: Delimiters, newline: str = "") -> None:
        if not delimiters.element or not delimiters.segment:
            raise WriteError("an element separator and a segment terminator are required")
        if len(delimiters.component) != 1:
            raise WriteError(f"ISA16 needs a one-character component separator, found {delimiters.component!r}")
        self.delimiters = delimiters
        self.newline = newline

    def segment_text(self, segment: Segment) -> str:
        d = self.delimiters
        if segment.tag == "ISA":
            values = _isa_elements(segment, d)
            _check(segment, d, values[:15], skip=11 if d.repetition else 0)  # ISA11 holds the repetition
        else:
            values = list(segment.elements)
            while values and not values[-1]:
                values.pop()
            _check(segment, d, values)
        text = d.element.join([segment.tag, *values])
        return text + d.segment + self.newline

    def iter_text(self, segments: Iterable[Segment]) -> Iterator[str]:
        for segment in segments:
            yield self.segment_text(segment)

    def write(self, segments: Iterable[Segment]) -> bytes:
        return "".join(self.iter_text(segments)).encode("latin-1")

    def write_to(self, segments: Iterable[Segment], stream: BinaryIO) -> int:
        """Write segment by segment to `stream` (bounded memory); returns the number of bytes written."""
        written = 0
        for text in self.iter_text(segments):
            written += stream.write(text.encode("latin-1"))
        return written
