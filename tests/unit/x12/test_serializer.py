"""Fresh writing: fixed-width ISA, chosen delimiters, refusal of values that hold a delimiter."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderhub.x12 import Delimiters, Segment, WriteError, X12Writer, parse, read_segments, serialize
from tests.unit.x12.builders import interchange


def _seg(tag: str, *elements: str) -> Segment:
    return Segment(tag, list(elements), 0, 0, 0)


ISA = _seg("ISA", "00", "", "00", "", "ZZ", "ME", "ZZ", "YOU", "260101", "1200", "U", "00501", "17", "0", "P", ":")


def test_writer_emits_a_106_byte_isa_and_the_chosen_delimiters() -> None:
    writer = X12Writer(Delimiters("*", ":", "~", "^"), newline="\n")
    out = writer.write(
        [
            ISA,
            _seg("GS", "FA", "ME", "YOU", "20260101", "1200", "1", "X", "005010X231"),
            _seg("GE", "0", "1"),
            _seg("IEA", "1", "17"),
        ]
    )
    isa_line = out.split(b"\n")[0]
    assert len(isa_line) == 106
    assert isa_line.endswith(b"*^*00501*000000017*0*P*:~")
    assert isa_line[3:4] == b"*" and isa_line[104:105] == b":"
    assert out.endswith(b"IEA*1*17~\n")
    document = parse(out)
    assert document.interchanges[0].delimiters == Delimiters("*", ":", "~", "^")
    assert document.interchanges[0].control_number == "000000017"


def test_writer_output_reads_back() -> None:
    segments = read_segments(interchange(2).encode())
    for delimiters, newline in [(Delimiters("|", "^", "!"), ""), (Delimiters("*", ">", "~"), "\r\n")]:
        out = X12Writer(delimiters, newline).write(segments)
        document = parse(out)
        assert document.interchanges[0].delimiters.element == delimiters.element
        assert [s.elements for s in document.segments()][1:] == [s.elements for s in segments][1:]
        assert document.findings == []
        assert serialize(document) == out


def test_writer_streams_to_a_file(tmp_path: Path) -> None:
    segments = read_segments(interchange(3).encode())
    writer = X12Writer(Delimiters("*", ">", "~"), "\n")
    path = tmp_path / "out.edi"
    with path.open("wb") as stream:
        written = writer.write_to(iter(segments), stream)
    assert written == path.stat().st_size
    assert path.read_bytes() == writer.write(segments)


def test_writer_drops_trailing_empty_elements() -> None:
    writer = X12Writer(Delimiters("*", ":", "~"))
    assert writer.segment_text(_seg("N1", "BY", "", "", "")) == "N1*BY~"
    assert writer.segment_text(_seg("PO1", "1", "", "EA")) == "PO1*1**EA~"


@pytest.mark.parametrize("value", ["A*B", "A~B"])
def test_writer_refuses_values_holding_a_delimiter(value: str) -> None:
    writer = X12Writer(Delimiters("*", ":", "~"))
    with pytest.raises(WriteError, match="contains the delimiter") as info:
        writer.segment_text(_seg("N1", "BY", value))
    assert (info.value.segment_tag, info.value.element) == ("N1", 2)


def test_writer_refuses_overlong_isa_fields_and_missing_component() -> None:
    writer = X12Writer(Delimiters("*", ":", "~"))
    long_sender = _seg("ISA", *[*ISA.elements[:5], "X" * 16, *ISA.elements[6:]])
    with pytest.raises(WriteError, match="ISA06 is at most 15 characters"):
        writer.segment_text(long_sender)
    with pytest.raises(WriteError, match="one-character component separator"):
        X12Writer(Delimiters("*", "", "~"))


_ALPHABET = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_DELIMITER_SETS = [
    Delimiters("*", ">", "~", "^"),
    Delimiters("|", ":", "!", None),
    Delimiters("~", "`", "*", None),
    Delimiters("*", ":", "\n", "^"),
]


@st.composite
def _document(draw: st.DrawFn) -> tuple[Delimiters, str, list[Segment]]:
    delimiters = draw(st.sampled_from(_DELIMITER_SETS))
    newline = draw(st.sampled_from(["", "\n", "\r\n"])) if delimiters.segment != "\n" else ""
    reserved = {delimiters.element, delimiters.segment, delimiters.repetition or "", delimiters.component, "\r", "\n"}
    value = st.text(_ALPHABET, max_size=12).filter(lambda v: not set(v) & reserved)
    body = draw(
        st.lists(
            st.builds(
                lambda tag, values: _seg(tag, *values),
                st.sampled_from(["BEG", "PO1", "N1", "MSG"]),
                st.lists(value, min_size=1, max_size=8),
            ),
            max_size=12,
        )
    )
    body = [b for b in body if any(b.elements)]
    sets = [_seg("ST", "850", "0001"), *body, _seg("SE", str(len(body) + 2), "0001")]
    version = "00501" if delimiters.repetition else "00401"
    isa = _seg("ISA", *[*ISA.elements[:10], "U", version, "17", "0", "P", ":"])
    gs = _seg("GS", "PO", "ME", "YOU", "20260101", "1200", "1", "X", "004010")
    return delimiters, newline, [isa, gs, *sets, _seg("GE", "1", "1"), _seg("IEA", "1", "17")]


@settings(max_examples=200, deadline=None)
@given(_document())
def test_written_documents_read_back(doc: tuple[Delimiters, str, list[Segment]]) -> None:
    delimiters, newline, segments = doc
    out = X12Writer(delimiters, newline).write(segments)
    document = parse(out)
    assert document.findings == []
    assert document.interchanges[0].delimiters == delimiters
    read = [s.elements for s in document.segments()][1:]
    written = []
    for segment in segments[1:]:
        values = list(segment.elements)
        while values and not values[-1]:
            values.pop()
        written.append(values)
    assert read == written
    assert serialize(document) == out
