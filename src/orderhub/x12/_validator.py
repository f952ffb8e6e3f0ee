"""Check one transaction set (ST..SE) against its spec: segment order, loops, use counts, elements.

Every finding carries what a 997 AK3/AK4 or a 999 IK3/IK4 needs: the segment's position in the set
(ST is 1), its id, the loop it is in, the element / component position, the element's reference
number, the X12 code, and a copy of the bad value. Set-level findings (`level == "set"`) carry the
AK502 / IK502 code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from orderhub.x12._segments import Delimiters, Segment
from orderhub.x12._specs import (
    ElementDef,
    ElementUse,
    LoopDef,
    SegmentDef,
    SegmentUse,
    SpecLibrary,
    TransactionSetSpec,
    default_library,
)

# AK304 / IK304 segment syntax error codes
UNRECOGNIZED_SEGMENT = "1"
UNEXPECTED_SEGMENT = "2"
MANDATORY_SEGMENT_MISSING = "3"
LOOP_OVER_MAX = "4"
SEGMENT_OVER_MAX_USE = "5"
SEGMENT_NOT_IN_SET = "6"
SEGMENT_OUT_OF_SEQUENCE = "7"
SEGMENT_HAS_ELEMENT_ERRORS = "8"

# AK403 / IK403 data element syntax error codes
MANDATORY_ELEMENT_MISSING = "1"
CONDITIONAL_ELEMENT_MISSING = "2"
TOO_MANY_ELEMENTS = "3"
ELEMENT_TOO_SHORT = "4"
ELEMENT_TOO_LONG = "5"
INVALID_CHARACTER = "6"
INVALID_CODE_VALUE = "7"
INVALID_DATE = "8"
INVALID_TIME = "9"
EXCLUSION_VIOLATED = "10"
TOO_MANY_REPETITIONS = "12"
TOO_MANY_COMPONENTS = "13"

# AK502 / IK502 transaction set syntax error codes
SET_NOT_SUPPORTED = "1"
SET_TRAILER_MISSING = "2"
SET_CONTROL_NUMBER_MISMATCH = "3"
SET_SEGMENT_COUNT_MISMATCH = "4"
SET_IDENTIFIER_INVALID = "6"
SET_CONTROL_NUMBER_INVALID = "7"

_SEGMENT_TAG = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_NUMERIC = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?(\d+\.?\d*|\.\d+)([Ee]-?\d+)?$")
_TIME = re.compile(r"^(\d\d)(\d\d)(?:(\d\d)(\d{1,2})?)?$")


@dataclass(frozen=True, slots=True)
class ValidationFinding:
    """One problem in a transaction set.

    level "set": `code` is an AK502/IK502 code; "segment": an AK304/IK304 code; "element": an
    AK403/IK403 code. `position` is the segment's position in the set (ST = 1; for a missing segment,
    the position of the segment read where it was expected). `rejects` is False for findings that
    are noted but do not reject the set (a code outside a code list that is known to be partial).
    """

    level: Literal["set", "segment", "element"]
    code: str
    message: str
    segment_id: str
    position: int | None = None
    loop_id: str = ""
    element: int | None = None
    component: int | None = None
    repetition: int | None = None
    reference: str = ""  # the data element reference number (AK402 / IK402)
    value: str = ""  # a copy of the bad data element (AK404 / IK404)
    line: int | None = None
    ordinal: int | None = None  # the segment's position in the file
    rejects: bool = True

    @property
    def code_source(self) -> str:
        """Which X12 code list `code` is from: AK5 (AK502/IK502), AK3 (AK304/IK304) or AK4 (AK403/IK403)."""
        return {"set": "AK5", "segment": "AK3", "element": "AK4"}[self.level]

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "code_source": self.code_source,
            "message": self.message,
            "segment": self.segment_id,
            "position": self.position,
            "loop": self.loop_id or None,
            "element": self.element,
            "component": self.component,
            "repetition": self.repetition,
            "reference": self.reference or None,
            "value": self.value or None,
            "line": self.line,
            "ordinal": self.ordinal,
            "rejects": self.rejects,
        }


@dataclass(slots=True)
class _Frame:
    loop: LoopDef
    pos: int  # index of the last child matched in the current iteration
    counts: dict[int, int] = field(default_factory=dict)  # uses per child in this iteration


@dataclass(slots=True)
class _Placement:
    depth: int
    index: int


class _SetValidator:
    def __init__(self, spec: TransactionSetSpec, delimiters: Delimiters) -> None:
        self.spec = spec
        self.delimiters = delimiters
        self.findings: list[ValidationFinding] = []
        self.stack: list[_Frame] = [_Frame(spec.root, -1)]
        self.uses = self._uses_in_table_order(spec.root)
        self.table_order = {id(use): index for index, use in enumerate(self.uses)}
        self.set_tags = {use.tag for use in self.uses}
        self.last_table_index = 0

    @staticmethod
    def _uses_in_table_order(root: LoopDef) -> list[SegmentUse]:
        uses: list[SegmentUse] = []

        def walk(loop: LoopDef) -> None:
            for child in loop.children:
                if isinstance(child, LoopDef):
                    walk(child)
                else:
                    uses.append(child)

        walk(root)
        return uses

    # --- segment placement --------------------------------------------------------------------

    def _find(self, tag: str) -> _Placement | None:
        for depth in range(len(self.stack) - 1, -1, -1):
            frame = self.stack[depth]
            children = frame.loop.children
            first = 1 if depth > 0 else 0  # a loop's own trigger starts a new iteration, found in the parent
            start = first if not frame.loop.ordered else max(frame.pos, first)
            for index in range(start, len(children)):
                child = children[index]
                if isinstance(child, SegmentUse) and child.tag == tag:
                    return _Placement(depth, index)
                if isinstance(child, LoopDef) and child.trigger.tag == tag:
                    return _Placement(depth, index)
        return None

    def _missing(self, frame: _Frame, indexes: range | list[int], at: Segment, position: int) -> None:
        for index in indexes:
            child = frame.loop.children[index]
            if child.usage != "M" or frame.counts.get(index, 0):
                continue
            tag = child.trigger.tag if isinstance(child, LoopDef) else child.tag
            what = f"loop {child.id}" if isinstance(child, LoopDef) else f"segment {tag}"
            self.findings.append(
                ValidationFinding(
                    level="segment",
                    code=MANDATORY_SEGMENT_MISSING,
                    message=f"mandatory {what} is missing before {at.tag} (set position {position})",
                    segment_id=tag,
                    position=position,
                    loop_id=child.id if isinstance(child, LoopDef) else frame.loop.id,
                    line=at.line,
                    ordinal=at.ordinal,
                )
            )

    def _close(self, frame: _Frame, at: Segment, position: int) -> None:
        """Report what the finished loop iteration still lacked."""
        children = range(len(frame.loop.children))
        self._missing(frame, children[frame.pos + 1 :] if frame.loop.ordered else list(children), at, position)

    def place(self, segment: Segment, position: int) -> SegmentUse | None:
        placement = self._find(segment.tag)
        if placement is None:
            self._unplaced(segment, position)
            return None
        while len(self.stack) - 1 > placement.depth:
            self._close(self.stack.pop(), segment, position)
        frame = self.stack[placement.depth]
        if frame.loop.ordered and placement.index > frame.pos + 1:
            self._missing(frame, range(frame.pos + 1, placement.index), segment, position)
        frame.pos = placement.index if frame.loop.ordered else frame.pos
        child = frame.loop.children[placement.index]
        count = frame.counts.get(placement.index, 0) + 1
        frame.counts[placement.index] = count
        if isinstance(child, LoopDef):
            if child.max_repeat is not None and count > child.max_repeat:
                self._segment_finding(
                    segment,
                    position,
                    LOOP_OVER_MAX,
                    f"loop {child.id} occurs {count} times, at most {child.max_repeat} allowed",
                    child.id,
                )
            self.stack.append(_Frame(child, 0, {0: 1}))
            use = child.trigger
        else:
            use = child
            if child.max_use is not None and count > child.max_use:
                self._segment_finding(
                    segment,
                    position,
                    SEGMENT_OVER_MAX_USE,
                    f"{child.tag} used {count} times here, at most {child.max_use} allowed",
                    frame.loop.id,
                )
        self.last_table_index = self.table_order[id(use)]
        return use

    def _unplaced(self, segment: Segment, position: int) -> None:
        tag = segment.tag
        loop_id = self.stack[-1].loop.id
        if not _SEGMENT_TAG.match(tag) or tag not in self.spec.known_segments:
            code, message = UNRECOGNIZED_SEGMENT, f"{tag!r} is not a recognised segment id"
        elif tag not in self.set_tags:
            code, message = SEGMENT_NOT_IN_SET, f"{tag} is not a segment of transaction set {self.spec.id}"
        else:
            first = next(index for index, use in enumerate(self.uses) if use.tag == tag)
            if first <= self.last_table_index:
                code, message = SEGMENT_OUT_OF_SEQUENCE, f"{tag} is out of sequence here; {self._expected_here()}"
            else:
                code, message = UNEXPECTED_SEGMENT, f"{tag} cannot occur here; {self._expected_here()}"
        self._segment_finding(segment, position, code, message, loop_id)

    def _expected_here(self, limit: int = 8) -> str:
        """The segment ids that could come next, as words for a message."""
        tags: list[str] = []
        for depth in range(len(self.stack) - 1, -1, -1):
            frame = self.stack[depth]
            first = 1 if depth > 0 else 0
            start = first if not frame.loop.ordered else max(frame.pos, first)
            for child in frame.loop.children[start:]:
                tag = child.trigger.tag if isinstance(child, LoopDef) else child.tag
                if tag not in tags:
                    tags.append(tag)
            if depth > 0 and frame.loop.trigger.tag not in tags:
                tags.append(frame.loop.trigger.tag)  # a new iteration of the loop
        shown = ", ".join(tags[:limit]) + (", ..." if len(tags) > limit else "")
        return f"expected one of {shown}"

    def _segment_finding(self, segment: Segment, position: int, code: str, message: str, loop_id: str) -> None:
        self.findings.append(
            ValidationFinding(
                level="segment",
                code=code,
                message=message,
                segment_id=segment.tag,
                position=position,
                loop_id=loop_id,
                line=segment.line,
                ordinal=segment.ordinal,
            )
        )

    def finish(self, last: Segment, position: int) -> None:
        while self.stack:
            self._close(self.stack.pop(), last, position)

    # --- elements ------------------------------------------------------------------------------

    def check_elements(self, segment: Segment, definition: SegmentDef, position: int) -> None:
        checker = _ElementChecker(self.spec, self.delimiters, segment, position, self.stack[-1].loop.id)
        checker.check(definition)
        self.findings.extend(checker.findings)


class _ElementChecker:
    def __init__(
        self, spec: TransactionSetSpec, delimiters: Delimiters, segment: Segment, position: int, loop_id: str
    ) -> None:
        self.spec = spec
        self.delimiters = delimiters
        self.segment = segment
        self.position = position
        self.loop_id = loop_id
        self.findings: list[ValidationFinding] = []

    def add(
        self,
        code: str,
        message: str,
        element: int,
        reference: str,
        value: str = "",
        component: int | None = None,
        repetition: int | None = None,
        rejects: bool = True,
    ) -> None:
        self.findings.append(
            ValidationFinding(
                level="element",
                code=code,
                message=message,
                segment_id=self.segment.tag,
                position=self.position,
                loop_id=self.loop_id,
                element=element,
                component=component,
                repetition=repetition,
                reference=reference,
                value=value,
                line=self.segment.line,
                ordinal=self.segment.ordinal,
                rejects=rejects,
            )
        )

    def check(self, definition: SegmentDef) -> None:
        values = self.segment.elements
        uses = definition.elements
        if len(values) > len(uses) and not definition.open and not self.spec.allow_extra_elements:
            extra = next((i for i in range(len(uses), len(values)) if values[i]), None)
            if extra is not None:
                self.add(
                    TOO_MANY_ELEMENTS,
                    f"{definition.tag} has {len(uses)} elements, found data in element {extra + 1}",
                    extra + 1,
                    "",
                    values[extra],
                )
        count = len(values)
        for index, use in enumerate(uses):
            raw = values[index] if index < count else ""
            if raw:
                self._check_use(use, raw, index + 1, definition.tag)
            elif use.usage == "M":
                label = self._label(definition.tag, index + 1)
                self.add(MANDATORY_ELEMENT_MISSING, f"{label} is mandatory", index + 1, use.reference)
        if definition.syntax:
            present = {index + 1: value != "" for index, value in enumerate(values)}
            self._check_syntax(definition, present)

    def _label(self, tag: str, element: int, component: int | None = None) -> str:
        return f"{tag}{element:02d}" + (f"-{component}" if component is not None else "")

    def _check_use(self, use: ElementUse, raw: str, element: int, tag: str) -> None:
        """Check one present element value against its use."""
        label = f"{tag}{element:02d}"
        repetition_separator = self.delimiters.repetition
        if repetition_separator and repetition_separator in raw:
            # The value is still readable as one value (senders pick ISA11 characters such as "-"
            # that occur in their data), so this is noted rather than a reason to reject.
            self.add(
                TOO_MANY_REPETITIONS,
                f"{label} does not repeat but holds the repetition separator {repetition_separator!r}",
                element,
                use.reference,
                raw,
                repetition=2,
                rejects=False,
            )
            return
        components = raw.split(self.delimiters.component) if self.delimiters.component else [raw]
        if use.composite is not None:
            defined = use.composite.components
            if len(components) > len(defined):
                self.add(
                    TOO_MANY_COMPONENTS,
                    f"{label} ({use.composite.id}) has {len(defined)} components, found {len(components)}",
                    element,
                    use.reference,
                    raw,
                    component=len(defined) + 1,
                )
                return
            for number, component_use in enumerate(defined, start=1):
                value = components[number - 1] if number <= len(components) else ""
                component_label = f"{label}-{number}"
                if value == "":
                    if component_use.usage == "M":
                        self.add(
                            MANDATORY_ELEMENT_MISSING,
                            f"{component_label} is mandatory",
                            element,
                            component_use.reference,
                            component=number,
                        )
                    continue
                assert component_use.element is not None
                self._check_value(component_use.element, value, element, number, component_label)
            return
        if len(components) > 1:
            self.add(
                TOO_MANY_COMPONENTS,
                f"{label} is a simple element but holds the component separator {self.delimiters.component!r}",
                element,
                use.reference,
                raw,
                component=2,
            )
            return
        assert use.element is not None
        self._check_value(use.element, raw, element, None, label)

    def _check_value(self, definition: ElementDef, value: str, element: int, component: int | None, label: str) -> None:
        def report(code: str, message: str, rejects: bool = True) -> None:
            self.add(code, f"{label} {message}", element, definition.number, value, component, rejects=rejects)

        kind = definition.type
        if kind == "DT":
            allowed = self.spec.date_lengths
            expected = " or ".join({6: "YYMMDD", 8: "CCYYMMDD"}[n] for n in allowed)
            if not value.isdigit() or len(value) not in allowed or not _is_date(value):
                report(INVALID_DATE, f"{value!r} is not a valid date ({expected})")
            return
        if kind == "TM":
            if not _is_time(value):
                report(INVALID_TIME, f"{value!r} is not a valid time (HHMM, HHMMSS or HHMMSSd..d)")
            return
        if kind == "N":
            if not _NUMERIC.match(value):
                report(INVALID_CHARACTER, f"{value!r} is not a whole number (implied decimals: {definition.decimals})")
                return
            length = len(value.lstrip("-"))
        elif kind == "R":
            if not _DECIMAL.match(value):
                report(INVALID_CHARACTER, f"{value!r} is not a decimal number")
                return
            mantissa = re.split(r"[Ee]", value)[0]
            length = sum(ch.isdigit() for ch in mantissa)
        else:
            bad = next((ch for ch in value if ord(ch) < 0x20 or ord(ch) == 0x7F), None)
            if bad is not None:
                report(INVALID_CHARACTER, f"holds the control character {bad!r}")
                return
            length = len(value)
        if length < definition.min_length:
            report(ELEMENT_TOO_SHORT, f"{value!r} is too short: {_length_range(definition)}")
            return
        if length > definition.max_length:
            report(ELEMENT_TOO_LONG, f"{value!r} is too long: {_length_range(definition)}")
            return
        if definition.codes is not None and value not in definition.codes:
            report(
                INVALID_CODE_VALUE,
                f"{value!r} is not a valid code for {definition.name}; expected {_code_sample(definition.codes)}",
                rejects=not definition.codes_partial,
            )

    def _check_syntax(self, definition: SegmentDef, present: dict[int, bool]) -> None:
        tag = definition.tag

        def reference(position: int) -> str:
            return definition.elements[position - 1].reference

        for note in definition.syntax:
            first, *rest = note.positions
            there = [p for p in note.positions if present.get(p)]
            missing = [p for p in note.positions if not present.get(p)]
            if note.kind == "P" and there and missing:
                for p in missing:
                    self.add(
                        CONDITIONAL_ELEMENT_MISSING,
                        f"{self._label(tag, p)} is required when {self._label(tag, there[0])} is present ({note})",
                        p,
                        reference(p),
                    )
            elif note.kind == "R" and not there:
                self.add(
                    CONDITIONAL_ELEMENT_MISSING,
                    f"at least one of {', '.join(self._label(tag, p) for p in note.positions)} is required ({note})",
                    first,
                    reference(first),
                )
            elif note.kind == "E" and len(there) > 1:
                self.add(
                    EXCLUSION_VIOLATED,
                    f"only one of {', '.join(self._label(tag, p) for p in note.positions)} may be present ({note})",
                    there[1],
                    reference(there[1]),
                    self.segment.element(there[1]),
                )
            elif note.kind == "C" and present.get(first):
                for p in rest:
                    if not present.get(p):
                        self.add(
                            CONDITIONAL_ELEMENT_MISSING,
                            f"{self._label(tag, p)} is required when {self._label(tag, first)} is present ({note})",
                            p,
                            reference(p),
                        )
            elif note.kind == "L" and present.get(first) and not any(present.get(p) for p in rest):
                self.add(
                    CONDITIONAL_ELEMENT_MISSING,
                    f"one of {', '.join(self._label(tag, p) for p in rest)} is required when "
                    f"{self._label(tag, first)} is present ({note})",
                    rest[0],
                    reference(rest[0]),
                )


def _length_range(definition: ElementDef) -> str:
    if definition.min_length == definition.max_length:
        return f"exactly {definition.min_length} characters"
    return f"{definition.min_length} to {definition.max_length} characters"


def _code_sample(codes: frozenset[str] | None, limit: int = 12) -> str:
    ordered = sorted(codes or ())
    return ", ".join(ordered[:limit]) + (f" ... ({len(ordered)} codes)" if len(ordered) > limit else "")


def _is_date(value: str) -> bool:
    try:
        if len(value) == 8:
            date(int(value[:4]), int(value[4:6]), int(value[6:]))
        else:
            date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
    except ValueError:
        return False
    return True


def _is_time(value: str) -> bool:
    match = _TIME.match(value)
    if not match:
        return False
    hours, minutes, seconds = int(match.group(1)), int(match.group(2)), match.group(3)
    return hours < 24 and minutes < 60 and (seconds is None or int(seconds) < 60)


def _set_finding(code: str, message: str, segment: Segment, position: int | None) -> ValidationFinding:
    return ValidationFinding(
        level="set",
        code=code,
        message=message,
        segment_id=segment.tag,
        position=position,
        line=segment.line,
        ordinal=segment.ordinal,
    )


def validate_transaction_set(
    segments: Sequence[Segment],
    delimiters: Delimiters,
    version: str,
    *,
    library: SpecLibrary | None = None,
) -> list[ValidationFinding]:
    """Check one ST..SE set of a group whose GS08 is `version`; [] when it is clean.

    A set orderhub has no spec for gets one set-level finding (AK502 code 1, not supported).
    """
    if not segments:
        raise ValueError("a transaction set has at least its ST segment")
    st = segments[0]
    if st.tag != "ST":
        raise ValueError(f"a transaction set starts with ST, not {st.tag}")
    findings: list[ValidationFinding] = []
    set_id = st.element(1)
    spec = (library or default_library()).spec_for(set_id, version)
    if spec is None:
        code = SET_IDENTIFIER_INVALID if not re.fullmatch(r"\d{3}", set_id) else SET_NOT_SUPPORTED
        return [_set_finding(code, f"no spec for transaction set {set_id!r} (version {version!r})", st, 1)]

    has_trailer = segments[-1].tag == "SE"
    body_end = len(segments) - 1 if has_trailer else len(segments)
    checker = _SetValidator(spec, delimiters)
    for position, segment in enumerate(segments[:body_end], start=1):
        use = checker.place(segment, position)
        if use is not None:
            checker.check_elements(segment, use.segment, position)
    if has_trailer:
        se = segments[-1]
        position = len(segments)
        use = checker.place(se, position)
        if use is not None:
            checker.check_elements(se, use.segment, position)
        checker.finish(se, position)
    findings.extend(checker.findings)

    control = st.element(2)
    if not control.strip():
        findings.append(
            _set_finding(SET_CONTROL_NUMBER_INVALID, "ST02 (transaction set control number) is missing", st, 1)
        )
    if not has_trailer:
        last = segments[-1]
        findings.append(
            _set_finding(SET_TRAILER_MISSING, f"the set has no SE trailer (last segment is {last.tag})", last, None)
        )
        return findings
    se = segments[-1]
    declared = se.element(1)
    if declared != str(len(segments)) and not (declared.isdigit() and int(declared) == len(segments)):
        findings.append(
            _set_finding(
                SET_SEGMENT_COUNT_MISMATCH,
                f"SE01 says {declared!r} segments but the set has {len(segments)} (ST through SE)",
                se,
                len(segments),
            )
        )
    if se.element(2) != control:
        findings.append(
            _set_finding(
                SET_CONTROL_NUMBER_MISMATCH,
                f"SE02 {se.element(2)!r} does not match ST02 {control!r}",
                se,
                len(segments),
            )
        )
    return findings
