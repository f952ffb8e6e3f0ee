"""The X12 values every part of `orderhub.x12` shares: delimiters and segments.

Element values are `str` decoded from the file's bytes as latin-1, so every byte maps to exactly one
character and a round trip is byte-identical; text meant for people (names, notes) is re-decoded as
UTF-8 where it is turned into canonical data.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from itertools import accumulate, repeat


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str  # ISA04 position: usually "*"
    component: str  # ISA16: usually ">" or ":"; "" when the ISA has none
    segment: str  # the terminator, one or more characters ("~", "\n", "~\r\n" is "~" plus a suffix)
    repetition: str | None = None  # ISA11 from 00402 on, when it is not a letter/digit/space


class Place:
    """Where a segment was read, with the text around it that the serializer gives back.

    Each segment holds a place and its index in it: 0 for a place of its own; a `Run` places many.
    """

    __slots__ = ("first", "line", "raw", "start", "terminator", "trivia")
    lines_each = 0  # a run's segments after the first
    next_trivia = ""

    def __init__(
        self,
        ordinal: int,
        line: int,
        offset: int,
        trivia: str = "",
        terminator: str = "",
        raw: str | None = None,
    ) -> None:
        self.first = ordinal  # these three of the first segment
        self.line = line
        self.start = offset
        self.trivia = trivia  # before the first segment
        self.terminator = terminator
        self.raw = raw

    def offset(self, index: int) -> int:
        return self.start


class Run(Place):
    """Where consecutive segments were read.

    The tokenizer cuts a batch of plain segments (the same trivia before each, no line break inside
    one) with one split and gives them one run: their ordinals, lines and trivia follow from it and
    the index, their offsets from the batch's text, counted for the whole run when first asked for
    (so a segment kept alive keeps its batch's text, 64 KiB or one segment, alive too).
    """

    __slots__ = ("_key", "_offsets", "_text", "lines_each", "next_trivia")

    def __init__(
        self,
        ordinal: int,
        line: int,
        offset: int,
        trivia: str,
        terminator: str,
        *,
        lines_each: int,  # line breaks from one segment's start to the next one's
        next_trivia: str,  # before each segment but the first
        text: str,  # the run's segments joined by `key` (terminator + trivia)
        key: str,
    ) -> None:
        super().__init__(ordinal, line, offset, trivia, terminator)
        self.lines_each, self.next_trivia = lines_each, next_trivia
        self._text, self._key = text, key
        self._offsets: array[int] | None = None

    def offset(self, index: int) -> int:
        if index == 0:
            return self.start
        offsets = self._offsets
        if offsets is None:
            lengths = map(len(self._key).__add__, map(len, self._text.split(self._key)))
            offsets = self._offsets = array("q", accumulate(lengths, initial=self.start))
        return offsets[index]


class Segment:
    """One segment as read: `elements[0]` is XX01, components are split on demand.

    Its position, trivia, terminator and `raw` come from its `Place`: its own, or the `Run` shared by
    the segments of the batch the tokenizer cut it from (so cutting makes one small object per segment
    besides its elements). They are read-only; `tag` and `elements` are not.
    """

    __slots__ = ("_index", "_place", "elements", "tag")
    __match_args__ = ("tag", "elements", "ordinal", "line", "offset", "trivia", "terminator", "raw")

    def __init__(
        self,
        tag: str,  # "ISA", "BEG", "PO1"
        elements: list[str],
        ordinal: int,  # 1-based position in the file
        line: int,  # 1-based line where the segment starts
        offset: int,  # byte offset of the segment's first character in the file
        # What the serializer needs to give back the bytes as read; all empty for segments built in code.
        trivia: str = "",  # non-data text before the segment: BOM, line breaks, indentation, empty segments
        terminator: str = "",  # the terminator as read after it ("" for an unterminated last segment)
        raw: str | None = None,  # the original text when the elements were repaired (a wrapped ISA)
    ) -> None:
        self.tag = tag
        self.elements = elements
        self._place: Place = Place(ordinal, line, offset, trivia, terminator, raw)
        self._index = 0

    @staticmethod
    def cut(pieces: list[str], separator: str, run: Run, out: list[Segment]) -> None:
        """Append to `out` a segment per piece (a segment's text), the `run`'s segments in order."""
        # the tokenizer's hot loop: segments made without running Python code, indices made once
        append = out.append
        for elements, index in zip(map(str.split, pieces, repeat(separator)), _indices(len(pieces)), strict=False):
            segment = _CutSegment()
            segment.tag = elements[0]
            del elements[0]
            segment.elements = elements
            segment._place = run
            segment._index = index
            append(segment)

    @property
    def ordinal(self) -> int:
        return self._place.first + self._index

    @property
    def line(self) -> int:
        return self._place.line + self._index * self._place.lines_each

    @property
    def offset(self) -> int:
        return self._place.offset(self._index)

    @property
    def trivia(self) -> str:
        return self._place.next_trivia if self._index else self._place.trivia

    @property
    def terminator(self) -> str:
        return self._place.terminator

    @property
    def raw(self) -> str | None:
        return self._place.raw

    def _fields(self) -> tuple[object, ...]:
        return (self.tag, self.elements, self.ordinal, self.line, self.offset, self.trivia, self.terminator, self.raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return self._fields() == other._fields()

    def __repr__(self) -> str:
        fields = zip(self.__match_args__, self._fields(), strict=True)
        return "Segment(" + ", ".join(f"{name}={value!r}" for name, value in fields) + ")"

    def element(self, position: int) -> str:
        """XXnn by its 1-based X12 position; "" when absent."""
        return self.elements[position - 1] if 0 < position <= len(self.elements) else ""

    def text(self, element_separator: str) -> str:
        """The segment as written, without terminator: `raw` when the elements were repaired."""
        raw = self._place.raw
        if raw is not None:
            return raw
        if not self.elements:
            return self.tag
        return self.tag + element_separator + element_separator.join(self.elements)

    def exact(self, element_separator: str) -> str:
        """The segment as read: its trivia, its text and its terminator."""
        place = self._place
        return (place.next_trivia if self._index else place.trivia) + self.text(element_separator) + place.terminator

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


class _CutSegment(Segment):
    """A segment as `Segment.cut` makes it: the same, but made without running `Segment.__init__`."""

    __slots__ = ()
    __init__ = object.__init__  # C-level: quicker than object.__new__(Segment)


_INDEX: tuple[int, ...] = ()


def _indices(count: int) -> tuple[int, ...]:
    """At least `count` ints from 0, made once: a segment's index is one of these, not a new int.

    As many as the largest batch had segments (a few thousand in 64 KiB of text) and 1024 more;
    replaced, not extended, so a thread reading meanwhile keeps the tuple it has.
    """
    global _INDEX
    indices = _INDEX
    if len(indices) < count:
        indices = _INDEX = tuple(range(count + 1024))
    return indices
