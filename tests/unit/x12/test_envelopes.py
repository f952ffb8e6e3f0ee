"""Envelope nesting: typed errors for structure that does not nest, findings for wrong trailers."""

from __future__ import annotations

import io

import pytest

from orderhub.x12 import (
    EnvelopeError,
    EnvelopeReader,
    FindingKind,
    MisplacedSegmentError,
    MissingTrailerError,
    TokenizeError,
    iter_transaction_sets,
    parse,
    serialize,
)
from tests.unit.x12.builders import interchange, isa

GS = "GS*PO*SENDER*RECEIVER*20260101*1200*7*X*004010"


def _doc(*segments: str) -> bytes:
    return "".join(s + "~\n" for s in segments).encode()


def test_structure_and_header_fields() -> None:
    document = parse(interchange(3).encode())
    (ic,) = document.interchanges
    assert (ic.sender_id, ic.receiver_id, ic.control_number, ic.version, ic.usage) == (
        "SENDER",
        "RECEIVER",
        "000000001",
        "00401",
        "P",
    )
    assert not ic.ack_requested
    (group,) = ic.groups
    assert (group.functional_id, group.control_number, group.version) == ("PO", "7", "004010")
    assert [s.control_number for s in group.sets] == ["0001", "0002", "0003"]
    first = group.sets[0]
    assert first.st.tag == "ST" and first.se.tag == "SE" and first.body[0].tag == "BEG"
    assert first.id == "850" and first.implementation_reference == ""
    assert document.findings == []


@pytest.mark.parametrize(
    ("segments", "message", "tag", "ordinal", "code"),
    [
        ((isa(), GS, "GE*0*7", "IEA*1*000000001", GS), "GS outside an interchange: expected ISA", "GS", 5, "022"),
        ((isa(), "ST*850*0001"), "ST outside a functional group: expected GS before it", "ST", 2, "024"),
        ((isa(), GS, "ST*850*1", "BEG*00", "GE*1*7"), "SE missing: the transaction set started by ST", "GE", 5, "2"),
        ((isa(), GS, "IEA*1*000000001"), "GE missing: the functional group started by GS at line 2", "IEA", 3, "3"),
        ((isa(), GS, "GE*0*7", isa()), "IEA missing: the interchange started by ISA at line 1", "ISA", 4, "023"),
        ((isa(), GS, "BEG*00"), "BEG outside a transaction set: expected ST or GE", "BEG", 3, None),
        ((isa(), "N1*BY"), "N1 outside a functional group: expected GS, TA1 or IEA", "N1", 2, None),
        ((isa(), GS, "GE*0*7"), "IEA missing at the end of the file", "GE", 3, "023"),
        ((isa(), GS), "GE missing at the end of the file", "GS", 2, "3"),
        ((isa(), GS, "ST*850*1"), "SE missing at the end of the file", "ST", 3, "2"),
    ],
)
def test_nesting_errors(segments: tuple[str, ...], message: str, tag: str, ordinal: int, code: str | None) -> None:
    with pytest.raises(EnvelopeError) as info:
        parse(_doc(*segments))
    error = info.value
    expected_type = MissingTrailerError if "missing" in message else MisplacedSegmentError
    assert type(error) is expected_type
    assert message in error.message
    assert (error.segment_tag, error.segment_ordinal, error.line, error.code) == (tag, ordinal, ordinal, code)


def test_file_not_starting_with_isa_is_a_tokenize_error() -> None:
    with pytest.raises(TokenizeError, match=r"expected an ISA segment, found 'GS\*PO") as info:
        parse(_doc(GS))
    assert (info.value.line, info.value.segment_ordinal, info.value.code) == (1, 1, "022")


def test_empty_file_is_an_error() -> None:
    with pytest.raises(EnvelopeError, match="no ISA found"):
        parse(b"\r\n")


def test_wrong_counts_and_control_numbers_are_findings() -> None:
    data = _doc(
        isa(control="000000009"),
        GS,
        "ST*850*0001",
        "BEG*00*SA*1",
        "SE*9*0002",
        "GE*2*8",
        "IEA*3*000000010",
    )
    document = parse(data)
    found = [(f.kind, f.segment_tag, f.segment_ordinal, f.element, f.code_source, f.code) for f in document.findings]
    assert found == [
        (FindingKind.SEGMENT_COUNT, "SE", 5, 1, "AK5", "4"),
        (FindingKind.SET_CONTROL_NUMBER, "SE", 5, 2, "AK5", "3"),
        (FindingKind.SET_COUNT, "GE", 6, 1, "AK9", "5"),
        (FindingKind.GROUP_CONTROL_NUMBER, "GE", 6, 2, "AK9", "4"),
        (FindingKind.GROUP_COUNT, "IEA", 7, 1, "TA1", "021"),
        (FindingKind.INTERCHANGE_CONTROL_NUMBER, "IEA", 7, 2, "TA1", "001"),
    ]
    messages = [f.message for f in document.findings]
    assert messages[0] == "SE01 must be the number of segments from ST to SE (3), found '9'"
    assert messages[1] == "SE02 must equal ST02 '0001' (line 3), found '0002'"
    assert messages[5] == "IEA02 must equal ISA13 '000000009' (line 1), found '000000010'"
    assert serialize(document) == data


def test_non_numeric_count_and_zero_padded_control_numbers() -> None:
    document = parse(_doc(isa(control="000000042"), GS.replace("*7*", "*0007*"), "GE*0*7", "IEA*one*42"))
    assert [(f.kind, f.element) for f in document.findings] == [(FindingKind.GROUP_COUNT, 1)]
    assert "found 'one'" in document.findings[0].message


def test_gs_element_count_is_a_finding() -> None:
    document = parse(_doc(isa(), GS + "*EXTRA", "GE*0*7", "IEA*1*000000001"))
    (finding,) = document.findings
    assert (finding.kind, finding.segment_tag, finding.element) == (FindingKind.ELEMENT_COUNT, "GS", 9)
    assert finding.message == "GS must have 8 elements, found 9"


def test_streaming_yields_headers_without_holding_sets() -> None:
    data = (interchange(3) + interchange(2, control="000000002")).encode()
    seen = []
    for ic, group, transaction_set in iter_transaction_sets(io.BytesIO(data), chunk_size=64):
        assert ic.groups == [] and group.sets == []
        seen.append((ic.control_number, group.control_number, transaction_set.control_number))
    assert seen == [
        ("000000001", "7", "0001"),
        ("000000001", "7", "0002"),
        ("000000001", "7", "0003"),
        ("000000002", "7", "0001"),
        ("000000002", "7", "0002"),
    ]


def test_streaming_reader_reports_findings_after_iteration() -> None:
    data = _doc(isa(), GS, "ST*850*0001", "SE*5*0001", "GE*1*7", "IEA*1*000000001")
    reader = EnvelopeReader(io.BytesIO(data))
    assert len(list(reader)) == 1
    assert [f.kind for f in reader.findings] == [FindingKind.SEGMENT_COUNT]
    assert reader.trailer == "\n"


def test_reused_control_numbers_are_findings() -> None:
    data = _doc(
        isa(),
        GS,
        "ST*850*0001",
        "SE*2*0001",
        "ST*850*0001",
        "SE*2*0001",
        "GE*2*7",
        GS,
        "ST*850*0001",
        "SE*2*0001",
        "GE*1*7",
        "IEA*2*000000001",
    )
    document = parse(data)
    found = [(f.kind, f.segment_tag, f.line, f.element, f.code_source, f.code) for f in document.findings]
    assert found == [
        (FindingKind.SET_CONTROL_NUMBER_REUSED, "ST", 5, 2, "AK5", "23"),
        (FindingKind.GROUP_CONTROL_NUMBER_REUSED, "GS", 8, 6, "AK9", "19"),
    ]
    assert document.findings[1].message == "GS06 '7' is already used in this interchange by the GS at line 2"
