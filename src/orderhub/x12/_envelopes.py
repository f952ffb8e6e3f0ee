"""Interchanges, functional groups and transaction sets: the envelope structure of an X12 file.

Nesting (ISA..IEA holding GS..GE holding ST..SE) must hold or an `EnvelopeError` is raised; counts and
control numbers in the trailers are checked and reported as `Finding`s, since a file with a wrong
SE01 is still readable and its acknowledgment has to say exactly that.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from orderhub.x12._errors import EnvelopeError, MisplacedSegmentError, MissingTrailerError
from orderhub.x12._findings import Finding, FindingKind
from orderhub.x12._gc import collector_paused
from orderhub.x12._segments import Delimiters, Segment
from orderhub.x12._tokenizer import DEFAULT_CHUNK_SIZE, SegmentReader

GS_ELEMENTS = 8


@dataclass(slots=True)
class TransactionSet:
    """One ST..SE set; `segments` holds both, so `segments[1:-1]` is the body."""

    segments: list[Segment]

    @property
    def st(self) -> Segment:
        return self.segments[0]

    @property
    def se(self) -> Segment:
        return self.segments[-1]

    @property
    def id(self) -> str:
        """ST01, the transaction set identifier ("850")."""
        return self.st.element(1)

    @property
    def control_number(self) -> str:
        """ST02."""
        return self.st.element(2)

    @property
    def implementation_reference(self) -> str:
        """ST03 (005010 and later), "" when absent."""
        return self.st.element(3)

    @property
    def body(self) -> list[Segment]:
        return self.segments[1:-1]


@dataclass(slots=True)
class FunctionalGroup:
    """One GS..GE group. While streaming, `sets` stays empty and `ge` is None until GE is read."""

    gs: Segment
    sets: list[TransactionSet] = field(default_factory=list)
    ge: Segment | None = None

    @property
    def functional_id(self) -> str:
        """GS01 ("PO", "IN", "SH", "FA")."""
        return self.gs.element(1)

    @property
    def sender(self) -> str:
        """GS02, the application sender's code."""
        return self.gs.element(2)

    @property
    def receiver(self) -> str:
        """GS03, the application receiver's code."""
        return self.gs.element(3)

    @property
    def date(self) -> str:
        return self.gs.element(4)

    @property
    def time(self) -> str:
        return self.gs.element(5)

    @property
    def control_number(self) -> str:
        """GS06."""
        return self.gs.element(6)

    @property
    def agency(self) -> str:
        """GS07 ("X")."""
        return self.gs.element(7)

    @property
    def version(self) -> str:
        """GS08 ("004010", "005010X230")."""
        return self.gs.element(8)

    def segments(self) -> Iterator[Segment]:
        yield self.gs
        for transaction_set in self.sets:
            yield from transaction_set.segments
        if self.ge is not None:
            yield self.ge


@dataclass(slots=True)
class Interchange:
    """One ISA..IEA interchange with the delimiters its ISA declared (or the caller's override).

    `other` holds interchange-level segments that are not groups (TA1). While streaming, `groups`
    stays empty and `iea` is None until IEA is read.
    """

    isa: Segment
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)
    iea: Segment | None = None
    other: list[Segment] = field(default_factory=list)

    @property
    def sender_qualifier(self) -> str:
        return self.isa.element(5)

    @property
    def sender_id(self) -> str:
        """ISA06 without its padding."""
        return self.isa.element(6).strip()

    @property
    def receiver_qualifier(self) -> str:
        return self.isa.element(7)

    @property
    def receiver_id(self) -> str:
        """ISA08 without its padding."""
        return self.isa.element(8).strip()

    @property
    def date(self) -> str:
        return self.isa.element(9)

    @property
    def time(self) -> str:
        return self.isa.element(10)

    @property
    def version(self) -> str:
        """ISA12 ("00401")."""
        return self.isa.element(12)

    @property
    def control_number(self) -> str:
        """ISA13."""
        return self.isa.element(13)

    @property
    def ack_requested(self) -> bool:
        """ISA14 is "1": the sender wants a TA1."""
        return self.isa.element(14) == "1"

    @property
    def usage(self) -> str:
        """ISA15: "P" production, "T" test, "I" information."""
        return self.isa.element(15)

    def segments(self) -> Iterator[Segment]:
        """Every segment of the interchange in file order."""
        yield self.isa
        others = iter(self.other)
        pending = next(others, None)
        for group in self.groups:
            while pending is not None and pending.ordinal < group.gs.ordinal:
                yield pending
                pending = next(others, None)
            yield from group.segments()
        while pending is not None:
            yield pending
            pending = next(others, None)
        if self.iea is not None:
            yield self.iea


@dataclass(slots=True)
class X12Document:
    """A whole parsed file: its interchanges, findings, and the text after the last segment."""

    interchanges: list[Interchange]
    findings: list[Finding]
    trailer: str = ""

    def segments(self) -> Iterator[Segment]:
        for interchange in self.interchanges:
            yield from interchange.segments()

    def transaction_sets(self) -> Iterator[tuple[Interchange, FunctionalGroup, TransactionSet]]:
        for interchange in self.interchanges:
            for group in interchange.groups:
                for transaction_set in group.sets:
                    yield interchange, group, transaction_set


def _same_number(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    if a.isdigit() and b.isdigit():
        return int(a) == int(b)
    return a == b


def _count_finding(
    segment: Segment, kind: FindingKind, what: str, actual: int, *, code: str, source: str
) -> Finding | None:
    value = segment.element(1)
    if value.strip().isdigit() and int(value) == actual:
        return None
    return Finding.at(
        segment,
        kind,
        f"{segment.tag}01 must be the number of {what} ({actual}), found {value!r}",
        element=1,
        code=code,
        code_source=source,
    )


def _control_finding(
    trailer: Segment, header: Segment, header_element: int, kind: FindingKind, *, code: str, source: str
) -> Finding | None:
    expected, found = header.element(header_element), trailer.element(2)
    if _same_number(expected, found):
        return None
    return Finding.at(
        trailer,
        kind,
        f"{trailer.tag}02 must equal {header.tag}{header_element:02d} {expected!r} (line {header.line}), "
        f"found {found!r}",
        element=2,
        code=code,
        code_source=source,
    )


def _error(
    segment: Segment,
    message: str,
    *,
    code: str | None = None,
    source: str | None = None,
    kind: type[EnvelopeError] = MisplacedSegmentError,
) -> EnvelopeError:
    return kind(
        message,
        offset=segment.offset,
        line=segment.line,
        segment_ordinal=segment.ordinal,
        segment_tag=segment.tag,
        code=code,
        code_source=source if code else None,
    )


_NOT_IN_A_SET = frozenset({"SE", "ST", "GE", "GS", "IEA", "ISA"})


class EnvelopeReader:
    """Nest the segments of an X12 stream; iterate it for (interchange, group, set) triples.

    With `keep=False` (streaming) only the set being read is held (plus the control numbers seen in
    the current group, to report reuse): interchanges and groups are yielded as headers whose
    `groups`/`sets` stay empty. With `keep=True` every level is filled in
    and `interchanges` holds the whole file after iteration. `findings` lists the ISA repairs and
    the count and control number mismatches, in file order.
    """

    def __init__(
        self,
        source: BinaryIO | bytes,
        delimiters: Delimiters | None = None,
        *,
        keep: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self._reader = SegmentReader(source, delimiters, chunk_size=chunk_size)
        self._keep = keep
        self._findings: list[Finding] = []
        self.interchanges: list[Interchange] = []
        # Where the nesting stands: the open interchange, group and set, and what they hold so far.
        self._interchange: Interchange | None = None
        self._group: FunctionalGroup | None = None
        self._set: list[Segment] | None = None
        self._group_count = self._set_count = 0
        # Control numbers seen in the open interchange and group, to report reuse (AK905 19, AK502 23),
        # with the line of their first use: a number, not the segment, so a group of a million sets
        # streams without keeping a million ST segments.
        self._group_numbers: dict[str, int] = {}
        self._set_numbers: dict[str, int] = {}

    @property
    def findings(self) -> list[Finding]:
        return sorted([*self._reader.findings, *self._findings], key=lambda f: f.segment_ordinal)

    @property
    def trailer(self) -> str:
        return self._reader.trailer

    def _check_gs(self, gs: Segment) -> None:
        if len(gs.elements) != GS_ELEMENTS:
            position = GS_ELEMENTS + 1 if len(gs.elements) > GS_ELEMENTS else len(gs.elements) + 1
            self._findings.append(
                Finding.at(
                    gs,
                    FindingKind.ELEMENT_COUNT,
                    f"GS must have {GS_ELEMENTS} elements, found {len(gs.elements)}",
                    element=position,
                )
            )

    def _check_unique(
        self, segment: Segment, seen: dict[str, int], element: int, kind: FindingKind, *, code: str, source: str
    ) -> None:
        number = segment.element(element).strip()
        first_line = seen.get(number)
        if first_line is None:
            seen[number] = segment.line
        else:
            scope = "functional group" if segment.tag == "ST" else "interchange"
            self._findings.append(
                Finding.at(
                    segment,
                    kind,
                    f"{segment.tag}{element:02d} {number!r} is already used in this {scope} by the {segment.tag} "
                    f"at line {first_line}",
                    element=element,
                    code=code,
                    code_source=source,
                )
            )

    def _close_set(self, se: Segment, segments: list[Segment]) -> None:
        st = segments[0]
        for finding in (
            _count_finding(
                se, FindingKind.SEGMENT_COUNT, "segments from ST to SE", len(segments), code="4", source="AK5"
            ),
            _control_finding(se, st, 2, FindingKind.SET_CONTROL_NUMBER, code="3", source="AK5"),
        ):
            if finding is not None:
                self._findings.append(finding)

    def _close_group(self, ge: Segment, gs: Segment, sets: int) -> None:
        for finding in (
            _count_finding(ge, FindingKind.SET_COUNT, "transaction sets in the group", sets, code="5", source="AK9"),
            _control_finding(ge, gs, 6, FindingKind.GROUP_CONTROL_NUMBER, code="4", source="AK9"),
        ):
            if finding is not None:
                self._findings.append(finding)

    def _close_interchange(self, iea: Segment, isa: Segment, groups: int) -> None:
        for finding in (
            _count_finding(
                iea, FindingKind.GROUP_COUNT, "functional groups in the interchange", groups, code="021", source="TA1"
            ),
            _control_finding(iea, isa, 13, FindingKind.INTERCHANGE_CONTROL_NUMBER, code="001", source="TA1"),
        ):
            if finding is not None:
                self._findings.append(finding)

    def __iter__(self) -> Iterator[tuple[Interchange, FunctionalGroup, TransactionSet]]:
        last: Segment | None = None
        for segment in self._reader:
            last = segment
            current = self._set
            if current is not None and segment.tag not in _NOT_IN_A_SET:
                current.append(segment)  # the common case, kept inline
                continue
            done = self._step(segment)
            if done is not None:
                assert self._interchange is not None and self._group is not None
                yield self._interchange, self._group, done
        self._finish(last)

    def _step(self, segment: Segment) -> TransactionSet | None:
        """Handle an envelope segment (or any segment outside a set); a finished set is returned."""
        if self._set is not None:
            return self._end_set(segment, self._set)
        if self._group is not None:
            self._in_group(segment, self._group)
        elif self._interchange is not None:
            self._in_interchange(segment, self._interchange)
        elif segment.tag == "ISA":
            delimiters = self._reader.delimiters
            assert delimiters is not None
            self._interchange = Interchange(segment, delimiters)
            self._group_count = 0
            self._group_numbers = {}
            if self._keep:
                self.interchanges.append(self._interchange)
        else:
            raise _error(
                segment, f"{segment.tag} outside an interchange: expected ISA before it", code="022", source="TA1"
            )
        return None

    def _end_set(self, segment: Segment, current: list[Segment]) -> TransactionSet:
        if segment.tag != "SE":
            st = current[0]
            raise _error(
                segment,
                f"SE missing: the transaction set started by ST at line {st.line} "
                f"(segment {st.ordinal}) is followed by {segment.tag}",
                code="2",
                kind=MissingTrailerError,
                source="AK5",
            )
        current.append(segment)
        self._close_set(segment, current)
        transaction_set = TransactionSet(current)
        self._set = None
        self._set_count += 1
        if self._keep:
            assert self._group is not None
            self._group.sets.append(transaction_set)
        return transaction_set

    def _in_group(self, segment: Segment, group: FunctionalGroup) -> None:
        tag = segment.tag
        if tag == "ST":
            self._set = [segment]
            self._check_unique(
                segment, self._set_numbers, 2, FindingKind.SET_CONTROL_NUMBER_REUSED, code="23", source="AK5"
            )
        elif tag == "GE":
            self._close_group(segment, group.gs, self._set_count)
            group.ge = segment
            self._group = None
        elif tag in ("GS", "IEA", "ISA"):
            raise _error(
                segment,
                f"GE missing: the functional group started by GS at line {group.gs.line} "
                f"(segment {group.gs.ordinal}) is followed by {tag}",
                code="3",
                kind=MissingTrailerError,
                source="AK9",
            )
        else:
            raise _error(segment, f"{tag} outside a transaction set: expected ST or GE")

    def _in_interchange(self, segment: Segment, interchange: Interchange) -> None:
        tag = segment.tag
        if tag == "GS":
            self._check_gs(segment)
            self._check_unique(
                segment, self._group_numbers, 6, FindingKind.GROUP_CONTROL_NUMBER_REUSED, code="19", source="AK9"
            )
            self._group = FunctionalGroup(segment)
            self._group_count += 1
            self._set_count = 0
            self._set_numbers = {}
            if self._keep:
                interchange.groups.append(self._group)
        elif tag == "IEA":
            self._close_interchange(segment, interchange.isa, self._group_count)
            interchange.iea = segment
            self._interchange = None
        elif tag == "TA1":
            if self._keep:
                interchange.other.append(segment)
        elif tag == "ISA":
            raise _error(
                segment,
                f"IEA missing: the interchange started by ISA at line {interchange.isa.line} "
                "is followed by another ISA",
                code="023",
                kind=MissingTrailerError,
                source="TA1",
            )
        elif tag == "ST":
            raise _error(segment, "ST outside a functional group: expected GS before it", code="024", source="TA1")
        else:
            raise _error(segment, f"{tag} outside a functional group: expected GS, TA1 or IEA")

    def _finish(self, last: Segment | None) -> None:
        if last is None:
            raise EnvelopeError(
                "no ISA found: the file is empty or holds only whitespace",
                offset=0,
                line=1,
                code="023",
                code_source="TA1",
            )
        if self._set is not None:
            raise _error(
                last,
                f"SE missing at the end of the file: the set started by ST at line {self._set[0].line} has no SE",
                code="2",
                kind=MissingTrailerError,
                source="AK5",
            )
        if self._group is not None:
            raise _error(
                last,
                f"GE missing at the end of the file: the group started by GS at line {self._group.gs.line} has no GE",
                code="3",
                kind=MissingTrailerError,
                source="AK9",
            )
        if self._interchange is not None:
            raise _error(
                last,
                f"IEA missing at the end of the file: the interchange started by ISA at line "
                f"{self._interchange.isa.line} has no IEA",
                code="023",
                kind=MissingTrailerError,
                source="TA1",
            )


def iter_transaction_sets(
    stream: BinaryIO, delimiters: Delimiters | None = None, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[tuple[Interchange, FunctionalGroup, TransactionSet]]:
    """Stream the sets of a file of any size: only the set being read is held in memory."""
    return iter(EnvelopeReader(stream, delimiters, chunk_size=chunk_size))


def parse(data: bytes, delimiters: Delimiters | None = None) -> X12Document:
    """Tokenize and nest a whole file; raises `X12Error` when it does not tokenize or nest."""
    reader = EnvelopeReader(data, delimiters, keep=True)
    with collector_paused():
        for _ in reader:
            pass
    return X12Document(reader.interchanges, reader.findings, reader.trailer)
