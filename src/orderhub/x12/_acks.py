"""Acknowledgments: 997 (004010 and earlier groups), 999 (005010 and later), TA1, and their interchange.

The builders take a functional group's validation results and return plain `Segment`s; control
numbers are parameters (allocating them is the caller's job). `render_interchange` wraps sets in
ISA/GS..GE/IEA and writes them with the X12 writer (a fixed-width 106-byte ISA).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from orderhub.x12._envelopes import FunctionalGroup, Interchange
from orderhub.x12._findings import Finding
from orderhub.x12._segments import Delimiters, Segment
from orderhub.x12._serializer import X12Writer
from orderhub.x12._specs import SpecLibrary
from orderhub.x12._validator import SEGMENT_HAS_ELEMENT_ERRORS, ValidationFinding, validate_transaction_set

IMPLEMENTATION_999 = "005010X231A1"
# What orderhub writes unless a partner profile says otherwise.
DEFAULT_DELIMITERS = Delimiters(element="*", component=":", segment="~", repetition="^")
MAX_ELEMENT_NOTES = 99  # AK4 / IK4 per AK3 / IK3

# AK905.. functional group syntax error codes
GROUP_NOT_SUPPORTED = "1"
GROUP_VERSION_NOT_SUPPORTED = "2"
GROUP_TRAILER_MISSING = "3"
GROUP_CONTROL_NUMBER_MISMATCH = "4"
GROUP_SET_COUNT_MISMATCH = "5"
# AK502 / IK502: a set whose ST02 repeats one used earlier in the same group
SET_CONTROL_NUMBER_NOT_UNIQUE = "23"

_VERSION = re.compile(r"^\d{6}")  # GS08: a release ("004010") and an optional convention suffix


@dataclass(frozen=True, slots=True)
class SetResult:
    """One received transaction set and what its validation found."""

    set_id: str  # ST01
    control_number: str  # ST02
    implementation_reference: str = ""  # ST03 (005010 and later)
    findings: Sequence[ValidationFinding] = ()

    @property
    def acknowledgment_code(self) -> str:
        """AK501 / IK501: A accepted, E accepted with errors noted, R rejected."""
        if not self.findings:
            return "A"
        return "R" if any(f.rejects for f in self.findings) else "E"

    @property
    def accepted(self) -> bool:
        return self.acknowledgment_code in ("A", "E")


@dataclass(frozen=True, slots=True)
class GroupResult:
    """One received functional group: its GS values, its sets, and group-level error codes (AK905..)."""

    functional_id: str  # GS01
    control_number: str  # GS06
    version: str  # GS08
    sets: Sequence[SetResult]
    declared_set_count: str | None = None  # GE01 as received; None without a GE
    group_errors: Sequence[str] = field(default_factory=tuple)

    @property
    def rejected_as_a_whole(self) -> bool:
        """The group itself cannot be processed (unknown functional id or version): no set is accepted."""
        return GROUP_NOT_SUPPORTED in self.group_errors or GROUP_VERSION_NOT_SUPPORTED in self.group_errors

    @property
    def accepted_count(self) -> int:
        if self.rejected_as_a_whole:
            return 0
        return sum(1 for s in self.sets if s.accepted)

    @property
    def acknowledgment_code(self) -> str:
        """AK901: A all accepted, E all accepted with errors noted, P some rejected, R all rejected."""
        if self.rejected_as_a_whole:
            return "R"
        accepted = self.accepted_count
        if self.sets and accepted == 0:
            return "R"
        if accepted < len(self.sets):
            return "P"
        if self.group_errors or any(s.acknowledgment_code == "E" for s in self.sets):
            return "E"
        return "A"


def validate_group(
    group: FunctionalGroup, delimiters: Delimiters, *, library: SpecLibrary | None = None
) -> GroupResult:
    """Validate every set of a parsed group and check the GE trailer against the GS and the sets."""
    version = group.version
    sets: list[SetResult] = []
    seen_controls: set[str] = set()
    for ts in group.sets:
        findings = validate_transaction_set(ts.segments, delimiters, version, library=library)
        if ts.control_number in seen_controls:
            findings.append(
                ValidationFinding(
                    level="set",
                    code=SET_CONTROL_NUMBER_NOT_UNIQUE,
                    message=f"ST02 {ts.control_number!r} was already used by another set of this group",
                    segment_id="ST",
                    position=1,
                    line=ts.st.line,
                    ordinal=ts.st.ordinal,
                )
            )
        seen_controls.add(ts.control_number)
        sets.append(
            SetResult(
                set_id=ts.id,
                control_number=ts.control_number,
                implementation_reference=ts.implementation_reference,
                findings=tuple(findings),
            )
        )
    errors: list[str] = []
    if not _VERSION.match(version):
        errors.append(GROUP_VERSION_NOT_SUPPORTED)
    declared: str | None = None
    if group.ge is None:
        errors.append(GROUP_TRAILER_MISSING)
    else:
        declared = group.ge.element(1)
        if not (declared.isdigit() and int(declared) == len(sets)):
            errors.append(GROUP_SET_COUNT_MISMATCH)
        trailer_control = group.ge.element(2)
        if trailer_control != group.control_number and not (
            trailer_control.isdigit()
            and group.control_number.isdigit()
            and int(trailer_control) == int(group.control_number)
        ):
            errors.append(GROUP_CONTROL_NUMBER_MISMATCH)
    return GroupResult(
        functional_id=group.functional_id,
        control_number=group.control_number,
        version=version,
        sets=sets,
        declared_set_count=declared,
        group_errors=tuple(errors),
    )


def uses_999(version: str) -> bool:
    """True when a group of `version` (GS08) is acknowledged with a 999 (005010 and later)."""
    base = version[:6]
    return len(base) == 6 and base.isdigit() and base >= "005010"


def _segment(tag: str, *elements: str) -> Segment:
    values = list(elements)
    while values and not values[-1]:
        values.pop()
    return Segment(tag=tag, elements=values, ordinal=0, line=0, offset=0)


def _copy_of_bad_data(value: str, delimiters: Delimiters) -> str:
    """AK404 / IK404: the bad value without delimiter or control characters, at most 99 characters."""
    reserved = {
        c for d in (delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition) if d for c in d
    }
    cleaned = "".join(ch for ch in value if ch not in reserved and 0x20 <= ord(ch) != 0x7F)
    return cleaned.rstrip()[:99]  # leading spaces are data in an AN value, trailing ones are padding


def _position_in_segment(finding: ValidationFinding, with_repetition: bool) -> str:
    parts = [str(finding.element or 0)]
    if finding.component is not None or (with_repetition and finding.repetition is not None):
        parts.append(str(finding.component) if finding.component is not None else "")
    if with_repetition and finding.repetition is not None:
        parts.append(str(finding.repetition))
    return ":".join(parts)


def _set_notes(result: SetResult, kind: str, delimiters: Delimiters) -> list[Segment]:
    """AK3/AK4 (kind "AK") or IK3/IK4 (kind "IK") for one set's segment and element findings."""
    notes: list[Segment] = []
    by_position: dict[int, list[ValidationFinding]] = {}
    for finding in result.findings:
        if finding.level != "set":
            by_position.setdefault(finding.position or 0, []).append(finding)
    for position in sorted(by_position):
        findings = by_position[position]
        for finding in (f for f in findings if f.level == "segment"):
            notes.append(_segment(f"{kind}3", finding.segment_id, str(position), finding.loop_id, finding.code))
        element_findings = [f for f in findings if f.level == "element"]
        if not element_findings:
            continue
        first = element_findings[0]
        notes.append(_segment(f"{kind}3", first.segment_id, str(position), first.loop_id, SEGMENT_HAS_ELEMENT_ERRORS))
        for finding in element_findings[:MAX_ELEMENT_NOTES]:
            where = _position_in_segment(finding, with_repetition=kind == "IK").replace(":", delimiters.component)
            reference = finding.reference if finding.reference.isdigit() else ""
            notes.append(
                _segment(f"{kind}4", where, reference, finding.code, _copy_of_bad_data(finding.value, delimiters))
            )
    return notes


def _set_trailer(result: SetResult, tag: str) -> Segment:
    codes: list[str] = []
    for finding in result.findings:
        if finding.level == "set" and finding.code not in codes:
            codes.append(finding.code)
    if any(f.level != "set" for f in result.findings):
        codes.append("5")
    return _segment(tag, result.acknowledgment_code, *codes[:5])


def _group_trailer(group: GroupResult) -> Segment:
    declared = group.declared_set_count
    included = declared if declared is not None and declared.isdigit() else str(len(group.sets))
    return _segment(
        "AK9",
        group.acknowledgment_code,
        str(int(included)),
        str(len(group.sets)),
        str(group.accepted_count),
        *list(group.group_errors)[:5],
    )


def _wrap(tag: str, control_number: str, body: list[Segment], implementation: str = "") -> list[Segment]:
    header = _segment("ST", tag, control_number, implementation)
    trailer = _segment("SE", str(len(body) + 2), control_number)
    return [header, *body, trailer]


def build_997(group: GroupResult, control_number: str, delimiters: Delimiters = DEFAULT_DELIMITERS) -> list[Segment]:
    """The 997 for a received group: ST, AK1, per set AK2 [AK3 [AK4..]..] AK5, AK9, SE.

    A group rejected as a whole (AK905 1 or 2) gets no AK2 loops: its sets were not processed.
    """
    body = [_segment("AK1", group.functional_id, group.control_number)]
    for result in () if group.rejected_as_a_whole else group.sets:
        body.append(_segment("AK2", result.set_id, result.control_number))
        body.extend(_set_notes(result, "AK", delimiters))
        body.append(_set_trailer(result, "AK5"))
    body.append(_group_trailer(group))
    return _wrap("997", control_number, body)


def build_999(group: GroupResult, control_number: str, delimiters: Delimiters = DEFAULT_DELIMITERS) -> list[Segment]:
    """The 999 for a received group: ST (ST03 005010X231A1), AK1, per set AK2 [IK3 [IK4..]..] IK5, AK9, SE."""
    body = [_segment("AK1", group.functional_id, group.control_number, group.version)]
    for result in () if group.rejected_as_a_whole else group.sets:
        body.append(_segment("AK2", result.set_id, result.control_number, result.implementation_reference))
        body.extend(_set_notes(result, "IK", delimiters))
        body.append(_set_trailer(result, "IK5"))
    body.append(_group_trailer(group))
    return _wrap("999", control_number, body, IMPLEMENTATION_999)


def build_acknowledgment(
    group: GroupResult, control_number: str, delimiters: Delimiters = DEFAULT_DELIMITERS
) -> list[Segment]:
    """A 999 for 005010-and-later groups, else a 997."""
    builder = build_999 if uses_999(group.version) else build_997
    return builder(group, control_number, delimiters)


def build_ta1(isa: Segment, note_code: str = "000", acknowledgment_code: str | None = None) -> Segment:
    """TA1 for a received interchange: its ISA13, ISA09, ISA10, A/E/R and the TA105 note code.

    Without `acknowledgment_code`, note "000" (no error) gives A and any other code R.
    """
    code = acknowledgment_code or ("A" if note_code == "000" else "R")
    control = isa.element(13).strip()
    return _segment(
        "TA1", control.zfill(9) if control.isdigit() else control, isa.element(9), isa.element(10), code, note_code
    )


@dataclass(frozen=True, slots=True)
class InterchangeParties:
    """Who an interchange goes from and to: ISA05..ISA08 and GS02 / GS03."""

    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    application_sender: str  # GS02
    application_receiver: str  # GS03

    @classmethod
    def replying_to(cls, interchange: Interchange) -> InterchangeParties:
        """The received interchange's parties swapped: our answer goes back to its sender."""
        first = interchange.groups[0] if interchange.groups else None
        return cls(
            sender_qualifier=interchange.receiver_qualifier,
            sender_id=interchange.receiver_id,
            receiver_qualifier=interchange.sender_qualifier,
            receiver_id=interchange.sender_id,
            application_sender=(first.receiver.strip() if first else "") or interchange.receiver_id,
            application_receiver=(first.sender.strip() if first else "") or interchange.sender_id,
        )


@dataclass(frozen=True, slots=True)
class OutboundGroup:
    """One GS..GE group to write: its GS08, GS06, and its sets (each ST..SE, SE01 already right)."""

    version: str
    control_number: int
    transaction_sets: Sequence[Sequence[Segment]]
    functional_id: str = "FA"


def render_interchange(
    groups: Sequence[OutboundGroup],
    *,
    parties: InterchangeParties,
    delimiters: Delimiters,
    interchange_control_number: int,
    when: datetime,
    usage_indicator: str = "P",
    ta1: Segment | None = None,
    newline: str = "",
) -> bytes:
    """A complete interchange: a 106-byte ISA, [TA1], each group GS..GE, IEA.

    ISA12 is 00501 (ISA11 the repetition separator) when a group is 005010 or later, else 00401
    (ISA11 "U").
    """
    modern = any(uses_999(group.version) for group in groups)
    interchange_version = "00501" if modern else "00401"
    repetition = (delimiters.repetition or "^") if modern else None
    delimiters = Delimiters(delimiters.element, delimiters.component, delimiters.segment, repetition)
    control = f"{interchange_control_number:09d}"
    isa = _segment(
        "ISA",
        "00",
        "",
        "00",
        "",
        parties.sender_qualifier,
        parties.sender_id,
        parties.receiver_qualifier,
        parties.receiver_id,
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        repetition or "U",
        interchange_version,
        control,
        "0",
        usage_indicator,
        delimiters.component,
    )
    segments: list[Segment] = [isa]
    if ta1 is not None:
        segments.append(ta1)
    for group in groups:
        segments.append(
            _segment(
                "GS",
                group.functional_id,
                parties.application_sender,
                parties.application_receiver,
                when.strftime("%Y%m%d"),
                when.strftime("%H%M"),
                str(group.control_number),
                "X",
                group.version,
            )
        )
        for transaction_set in group.transaction_sets:
            segments.extend(transaction_set)
        segments.append(_segment("GE", str(len(group.transaction_sets)), str(group.control_number)))
    segments.append(_segment("IEA", str(len(groups)), control))
    return X12Writer(delimiters, newline).write(segments)


def interchange_note_code(interchange: Interchange, findings: Sequence[Finding]) -> str:
    """TA105 for a received interchange: the first interchange-level finding inside it, else "000"."""
    first = interchange.isa.ordinal
    last = interchange.iea.ordinal if interchange.iea is not None else None
    for finding in findings:
        inside = finding.segment_ordinal >= first and (last is None or finding.segment_ordinal <= last)
        if inside and finding.code_source == "TA1" and finding.code:
            return finding.code
    return "000"


@dataclass(frozen=True, slots=True)
class ReceivedInterchange:
    """A received interchange as its acknowledgment needs it, read and validated once: who sent it,
    its ISA13 and content hash (to recognise it when it comes again), and what the 997/999 (and
    TA1) will say. Control numbers are not part of it: they are taken when it is answered."""

    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    control_number: str  # ISA13
    content_sha256: str
    delimiters: Delimiters  # as received
    parties: InterchangeParties  # of the answer
    usage: str  # ISA15
    ack_requested: bool  # ISA14
    isa: Segment
    ta1_note: str  # TA105 when a TA1 is sent
    groups: tuple[GroupResult, ...]

    @classmethod
    def read(
        cls,
        interchange: Interchange,
        groups: Sequence[GroupResult] | None = None,
        *,
        findings: Sequence[Finding] = (),
        library: SpecLibrary | None = None,
    ) -> ReceivedInterchange:
        """`groups`: the validation of its groups, when the caller has done it already."""
        if groups is None:
            groups = [validate_group(group, interchange.delimiters, library=library) for group in interchange.groups]
        return cls(
            sender_qualifier=interchange.sender_qualifier,
            sender_id=interchange.sender_id,
            receiver_qualifier=interchange.receiver_qualifier,
            receiver_id=interchange.receiver_id,
            control_number=interchange.control_number,
            content_sha256=interchange_sha256(interchange),
            delimiters=interchange.delimiters,
            parties=InterchangeParties.replying_to(interchange),
            usage=interchange.usage or "P",
            ack_requested=interchange.ack_requested,
            isa=interchange.isa,
            ta1_note=interchange_note_code(interchange, findings),
            groups=tuple(groups),
        )

    def acknowledgment(
        self,
        *,
        interchange_control_number: int,
        group_control_number: int,
        set_control_number: int,
        when: datetime,
        delimiters: Delimiters = DEFAULT_DELIMITERS,
        newline: str = "",
        ta1: bool | None = None,
    ) -> bytes:
        """The acknowledgment interchange (see `acknowledge_interchange`)."""
        acks_997: list[list[Segment]] = []
        acks_999: list[list[Segment]] = []
        for next_set, result in enumerate(self.groups, set_control_number):
            ack = build_acknowledgment(result, f"{next_set:04d}", delimiters)
            (acks_999 if uses_999(result.version) else acks_997).append(ack)
        groups: list[OutboundGroup] = []
        for version, acks in (("004010", acks_997), (IMPLEMENTATION_999, acks_999)):
            if acks:
                groups.append(OutboundGroup(version, group_control_number + len(groups), acks))
        ta1_segment = None
        if self.ack_requested if ta1 is None else ta1:
            # The groups were read and are acknowledged, so an interchange error is "accepted with errors".
            ta1_segment = build_ta1(self.isa, self.ta1_note, "A" if self.ta1_note == "000" else "E")
        return render_interchange(
            groups,
            parties=self.parties,
            delimiters=delimiters,
            interchange_control_number=interchange_control_number,
            when=when,
            usage_indicator=self.usage,
            ta1=ta1_segment,
            newline=newline,
        )


def interchange_sha256(interchange: Interchange) -> str:
    """Hash of the interchange's segments and element values: the same content re-sent with other
    delimiters, line breaks or indentation hashes the same."""
    digest = hashlib.sha256()
    for segment in interchange.segments():
        digest.update(segment.tag.encode("latin-1"))
        for value in segment.elements:
            digest.update(b"\x1f" + value.encode("latin-1"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def acknowledge_interchange(
    interchange: Interchange,
    *,
    interchange_control_number: int,
    group_control_number: int,
    set_control_number: int,
    when: datetime,
    findings: Sequence[Finding] = (),
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    library: SpecLibrary | None = None,
    newline: str = "",
    ta1: bool | None = None,
) -> bytes:
    """The acknowledgment interchange for one received interchange.

    Every received group gets a 997 or a 999 (ST02 from `set_control_number` up, four digits at
    least); 997s travel in one 004010 FA group and 999s in one 005010X231A1 FA group (GS06 from
    `group_control_number` up). A TA1 comes first when ISA14 asks for one; its note code is the
    first interchange-level finding of the reader (`findings`) inside this interchange. `ta1` True
    or False overrides ISA14 (a partner profile that always or never wants one).
    """
    received = ReceivedInterchange.read(interchange, findings=findings, library=library)
    return received.acknowledgment(
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        set_control_number=set_control_number,
        when=when,
        delimiters=delimiters,
        newline=newline,
        ta1=ta1,
    )
