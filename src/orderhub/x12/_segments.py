"""The X12 values every part of `orderhub.x12` shares: delimiters and segments.

Element values are `str` decoded from the file's bytes as latin-1, so every byte maps to exactly one
character and a round trip is byte-identical; text meant for people (names, notes) is re-decoded as
UTF-8 where it is turned into canonical data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str  # ISA04 position: usually "*"
    component: str  # ISA16: usually ">" or ":"; "" when the ISA has none
    segment: str  # the terminator, one or more characters ("~", "\n", "~\r\n" is "~" plus a suffix)
    repetition: str | None = None  # ISA11 from 00402 on, when it is not a letter/digit/space


@dataclass(slots=True)
class Segment:
    """One segment as read: `elements[0]` is XX01, components are split on demand."""

    tag: str  # "ISA", "BEG", "PO1"
    elements: list[str]
    ordinal: int  # 1-based position in the file
    line: int  # 1-based line where the segment starts
    offset: int  # byte offset of the segment's first character in the file
    # What the serializer needs to give back the bytes as read; all empty for segments built in code.
    trivia: str = ""  # non-data text before the segment: BOM, line breaks, indentation, empty segments
    terminator: str = ""  # the terminator as read after it ("" for an unterminated last segment)
    raw: str | None = None  # the original text when the elements were repaired (a wrapped ISA)

    def element(self, position: int) -> str:
        """XXnn by its 1-based X12 position; "" when absent."""
        return self.elements[position - 1] if 0 < position <= len(self.elements) else ""

    def text(self, element_separator: str) -> str:
        """The segment as written, without terminator: `raw` when the elements were repaired."""
        if self.raw is not None:
            return self.raw
        if not self.elements:
            return self.tag
        return self.tag + element_separator + element_separator.join(self.elements)

    def components(self, position: int, delimiters: Delimiters) -> list[str]:
        value = self.element(position)
        if not delimiters.component:
            return [value]
        return value.split(delimiters.component)

    def repetitions(self, position: int, delimiters: Delimiters) -> list[str]:
        """XXnn split on the repetition separator (005010: "^"); one value when there is none."""
        value = self.element(position)
        if not delimiters.repetition:
            return [value]
        return value.split(delimiters.repetition)
