"""Problems found while reading that do not stop the read: positioned, typed, with X12 codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from orderhub.x12._segments import Segment


class FindingKind(StrEnum):
    ISA_WRAPPED = "isa_wrapped"  # line breaks inside the ISA were removed from its elements
    ISA_COMPONENT_MISSING = "isa_component_missing"  # no ISA16: the component separator is unknown
    ELEMENT_COUNT = "element_count"  # an envelope segment with too few or too many elements
    SEGMENT_COUNT = "segment_count"  # SE01 differs from the number of segments ST..SE
    SET_CONTROL_NUMBER = "set_control_number"  # SE02 differs from ST02
    SET_CONTROL_NUMBER_REUSED = "set_control_number_reused"  # ST02 already used in the group
    SET_COUNT = "set_count"  # GE01 differs from the number of sets in the group
    GROUP_CONTROL_NUMBER = "group_control_number"  # GE02 differs from GS06
    GROUP_CONTROL_NUMBER_REUSED = "group_control_number_reused"  # GS06 already used in the interchange
    GROUP_COUNT = "group_count"  # IEA01 differs from the number of groups in the interchange
    INTERCHANGE_CONTROL_NUMBER = "interchange_control_number"  # IEA02 differs from ISA13


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one segment; `element` is the 1-based element position when it is about one.

    `code` is the X12 code where one exists, qualified by `code_source`: "TA1" (TA105 interchange
    note code), "AK9" (AK905 functional group syntax error code), "AK5" (AK502 / IK502 transaction
    set syntax error code).
    """

    kind: FindingKind
    message: str
    segment_tag: str
    segment_ordinal: int
    line: int
    offset: int
    element: int | None = None
    code: str | None = None
    code_source: str | None = None

    @classmethod
    def at(
        cls,
        segment: Segment,
        kind: FindingKind,
        message: str,
        *,
        element: int | None = None,
        code: str | None = None,
        code_source: str | None = None,
    ) -> Finding:
        return cls(
            kind=kind,
            message=message,
            segment_tag=segment.tag,
            segment_ordinal=segment.ordinal,
            line=segment.line,
            offset=segment.offset,
            element=element,
            code=code,
            code_source=code_source,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "segment": self.segment_tag,
            "ordinal": self.segment_ordinal,
            "line": self.line,
            "offset": self.offset,
            "element": self.element,
            "code": self.code,
            "code_source": self.code_source,
        }
