"""Tokenizer behaviour on synthetic input: whitespace, delimiters, chunk boundaries, errors."""

from __future__ import annotations

import gc
import io
from pathlib import Path

import pytest

from orderhub.x12 import (
    Delimiters,
    IsaError,
    Segment,
    SegmentReader,
    TokenizeError,
    X12Error,
    _tokenizer,
    iter_segments,
    read_segments,
    write_exact,
)
from tests.unit.x12.builders import interchange, isa


def _key(segment: Segment) -> tuple[object, ...]:
    return (
        segment.tag,
        segment.elements,
        segment.ordinal,
        segment.line,
        segment.offset,
        segment.trivia,
        segment.terminator,
        segment.raw,
    )


def _round_trip(data: bytes) -> bytes:
    reader = SegmentReader(data)
    return write_exact(list(reader), reader.delimiters_seen, reader.trailer)


def test_plain_interchange() -> None:
    segments = read_segments(interchange(2).encode())
    assert [s.tag for s in segments][:3] == ["ISA", "GS", "ST"]
    assert segments[0].elements[15] == ">"
    assert len(segments[0].elements) == 16
    beg = segments[3]
    assert (beg.tag, beg.element(3), beg.element(9)) == ("BEG", "PO-0001", "")
    assert beg.offset == len(isa()) + 1 + len("GS*PO*SENDER*RECEIVER*20260101*1200*7*X*004010~ST*850*0001~")


def test_bom_crlf_and_indentation_are_trivia_with_positions() -> None:
    text = "\xef\xbb\xbf  " + isa() + "~\r\n  GS*PO*A*B*20260101*1200*1*X*004010~\r\n\tST*850*0001~\r\n"
    reader = SegmentReader(text.encode("latin-1"))
    segments = list(reader)
    assert [s.trivia for s in segments] == ["\xef\xbb\xbf  ", "\r\n  ", "\r\n\t"]
    assert [s.line for s in segments] == [1, 2, 3]
    assert segments[1].offset == text.index("GS")
    assert segments[2].offset == text.index("ST*")
    assert reader.trailer == "\r\n"
    assert write_exact(segments, reader.delimiters_seen, reader.trailer) == text.encode("latin-1")


def test_lf_terminator_and_unterminated_last_segment() -> None:
    text = interchange(1, terminator="\n").rstrip("\n")
    reader = SegmentReader(text.encode())
    segments = list(reader)
    assert reader.delimiters == Delimiters("*", ">", "\n")
    assert segments[-1].tag == "IEA" and segments[-1].terminator == ""
    assert [s.line for s in segments[:3]] == [1, 2, 3]
    assert _round_trip(text.encode()) == text.encode()


def test_cr_terminator_with_crlf_counts_lines_once() -> None:
    text = interchange(1, terminator="\r", newline="\n")
    segments = read_segments(text.encode())
    assert segments[0].terminator == "\r"
    assert [s.line for s in segments[:4]] == [1, 2, 3, 4]
    assert segments[1].trivia == "\n"


def test_multi_character_terminator_and_unusual_delimiters() -> None:
    text = interchange(1, element="~", component="`", terminator="\xe2\x80\xa6", newline="\r\n")
    reader = SegmentReader(text.encode("latin-1"))
    segments = list(reader)
    assert reader.delimiters == Delimiters("~", "`", "\xe2\x80\xa6")
    assert segments[2].elements == ["850", "0001"]
    assert _round_trip(text.encode("latin-1")) == text.encode("latin-1")


def test_repetition_separator_from_00402_on_only() -> None:
    for version, isa11, expected in [("00401", "^", None), ("00501", "^", "^"), ("00501", "U", None)]:
        text = isa(version=version, isa11=isa11) + "~IEA*0*000000001~"
        reader = SegmentReader(text.encode())
        list(reader)
        assert reader.delimiters is not None and reader.delimiters.repetition == expected, version


def test_short_and_long_isa_are_read_by_counting_separators() -> None:
    short = "ISA*00**00**ZZ*S*ZZ*R*260101*1200*U*00401*1*0*P*:!GS*PO*S*R*20260101*1200*1*X*004010!"
    segments = read_segments(short.encode())
    assert segments[0].elements[12] == "1"
    assert segments[1].elements[-1] == "004010"
    padded = isa().replace("SENDER ", "SENDER\xc2\xa0") + "~GS*PO~"
    segments = read_segments(padded.encode("latin-1"))
    assert segments[0].element(6) == "SENDER\xc2\xa0" + " " * 8
    assert segments[0].element(16) == ">"


def test_several_interchanges_with_different_delimiters() -> None:
    first = interchange(1)
    second = interchange(1, element="|", component="^", terminator="!\n", control="000000002")
    data = (first + "\n" + second).encode()
    reader = SegmentReader(data)
    segments = list(reader)
    assert reader.delimiters_seen == [Delimiters("*", ">", "~"), Delimiters("|", "^", "!")]
    isas = [s for s in segments if s.tag == "ISA"]
    assert [s.element(13) for s in isas] == ["000000001", "000000002"]
    assert isas[1].trivia == "\n"
    assert segments[-1].elements == ["1", "000000002"]
    assert _round_trip(data) == data


def test_override_delimiters_win_over_the_isa() -> None:
    # A partner whose ISA16 says "~" though "~" is the terminator: only the override reads it right.
    text = isa(component="~") + "\nGS*PO*A*B*20260101*1200*1*X*004010~\nIEA*1*000000001~\n"
    override = Delimiters("*", "", "~")
    reader = SegmentReader(text.encode(), override)
    segments = list(reader)
    assert reader.delimiters is override
    assert [s.tag for s in segments] == ["ISA", "GS", "IEA"]
    assert segments[0].element(16) == ""
    assert reader.findings == []
    assert write_exact(segments, reader.delimiters_seen, reader.trailer) == text.encode()


def test_override_reads_a_fragment_without_isa() -> None:
    segments = read_segments(b"ST|850|1\nBEG|00\nSE|3|1\n", Delimiters("|", ":", "\n"))
    assert [(s.tag, s.elements) for s in segments] == [("ST", ["850", "1"]), ("BEG", ["00"]), ("SE", ["3", "1"])]


def test_empty_segments_between_terminators_are_trivia() -> None:
    text = interchange(1).replace("~GS", "~~\n~GS", 1)
    reader = SegmentReader(text.encode())
    segments = list(reader)
    assert segments[1].tag == "GS" and segments[1].trivia == "~\n~"
    assert _round_trip(text.encode()) == text.encode()


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 64, 1000])
def test_chunk_boundaries_do_not_change_the_result(chunk_size: int) -> None:
    samples = [
        interchange(3, terminator="\r", newline="\n"),
        interchange(2, terminator="\xe2\x80\xa6", newline="\r\n"),
        interchange(1) + "\n" + interchange(1, element="|", component="^", terminator="!\n"),
        interchange(2, terminator=" ", newline="\r\n"),
    ]
    for text in samples:
        data = text.encode("latin-1")
        whole = SegmentReader(data)
        expected = [_key(s) for s in whole]
        streamed = SegmentReader(io.BytesIO(data), chunk_size=chunk_size)
        assert [_key(s) for s in streamed] == expected
        assert streamed.trailer == whole.trailer


@pytest.mark.corpus
@pytest.mark.parametrize("chunk_size", [1, 7, 100])
def test_corpus_reads_the_same_in_small_chunks(corpus: Path, chunk_size: int) -> None:
    for path in sorted((corpus / "x12").glob("*/*")):
        if path.suffix == ".md":
            continue
        data = path.read_bytes()
        whole = SegmentReader(data)
        expected = [_key(s) for s in whole]
        streamed = SegmentReader(io.BytesIO(data), chunk_size=chunk_size)
        assert [_key(s) for s in streamed] == expected, path.name
        assert streamed.trailer == whole.trailer, path.name
        assert streamed.findings == whole.findings, path.name


def test_isa_with_too_few_elements_says_so() -> None:
    with pytest.raises(IsaError) as info:
        read_segments(b"ISA*00*          *00*          *ZZ*SENDER~")
    error = info.value
    assert "ISA must have 16 elements, found 6" in str(error)
    assert (error.line, error.segment_ordinal, error.segment_tag, error.code) == (1, 1, "ISA", "024")
    assert "line 1" in str(error)


def test_bad_element_separator() -> None:
    with pytest.raises(IsaError, match="must not be a letter, digit or space") as info:
        read_segments(b"ISA 00 x")
    assert info.value.code == "026"


def test_garbage_before_isa() -> None:
    with pytest.raises(TokenizeError, match="expected an ISA segment, found 'hello") as info:
        read_segments(b"\n\nhello world")
    assert info.value.line == 3 and info.value.offset == 2


def test_no_terminator_within_the_limit() -> None:
    data = (isa() + "~GS*" + "x" * 5000).encode()
    with pytest.raises(TokenizeError, match="no segment terminator '~' within 1000 bytes") as info:
        list(iter_segments(io.BytesIO(data), chunk_size=256, max_segment_length=1000))
    assert info.value.segment_ordinal == 2


def test_errors_are_x12_errors_with_positions() -> None:
    with pytest.raises(X12Error) as info:
        read_segments(b"  ISA*00*short")
    assert info.value.offset == 2 and info.value.segment_tag == "ISA"


def test_whitespace_only_input_gives_no_segments() -> None:
    reader = SegmentReader(b" \r\n\t")
    assert list(reader) == []
    assert reader.trailer == " \r\n\t"


@pytest.mark.parametrize("override", [Delimiters("*", ":", ""), Delimiters("", ":", "~"), Delimiters("~", ":", "~")])
def test_unusable_override_is_refused(override: Delimiters) -> None:
    with pytest.raises(TokenizeError, match="override delimiters need"):
        read_segments(b"ST*850*1~", override)


def test_isa_wrapped_before_isa16_is_repaired() -> None:
    text = isa()[:-1] + "\n>~GS*PO*A*B*20260101*1200*1*X*004010~"
    reader = SegmentReader(text.encode())
    segments = list(reader)
    assert reader.delimiters == Delimiters("*", ">", "~")
    assert segments[0].element(16) == ">" and segments[0].raw == isa()[:-1] + "\n>"
    assert [(f.kind.value, f.element) for f in reader.findings] == [("isa_wrapped", 16)]
    assert _round_trip(text.encode()) == text.encode()


@pytest.mark.parametrize("padding", ["\x1a", "\r\n\x1a", "\x00\x00\x00"])
def test_end_of_file_padding_is_trailer(padding: str) -> None:
    text = interchange(1) + padding
    reader = SegmentReader(text.encode())
    segments = list(reader)
    assert segments[-1].tag == "IEA"
    assert reader.trailer == padding
    assert _round_trip(text.encode()) == text.encode()
    unterminated = interchange(1).rstrip("~") + padding
    reader = SegmentReader(unterminated.encode())
    last = list(reader)[-1]
    assert (last.elements, last.terminator, reader.trailer) == (["1", "000000001"], "", padding)
    assert _round_trip(unterminated.encode()) == unterminated.encode()


def test_space_terminator_followed_by_line_breaks() -> None:
    text = interchange(1, terminator=" ", newline="\r\n")
    reader = SegmentReader(text.encode())
    segments = list(reader)
    assert reader.delimiters == Delimiters("*", ">", " ")
    pid = next(s for s in segments if s.tag == "PID")
    assert pid.elements == ["F", "", "", "", "Item 1 description"]
    assert (pid.terminator, pid.trivia) == (" ", "\r\n")
    assert segments[-1].tag == "IEA" and reader.trailer == "\r\n"
    assert _round_trip(text.encode()) == text.encode()


def _segment_by_segment(cursor: object, *args: object) -> bool:
    return False


@pytest.mark.corpus
@pytest.mark.parametrize("batch_chars", [1, 40, 1 << 16])
def test_batches_read_like_segment_by_segment(corpus: Path, monkeypatch: pytest.MonkeyPatch, batch_chars: int) -> None:
    samples = [path.read_bytes() for path in sorted((corpus / "x12").glob("*/*")) if path.suffix != ".md"]
    samples += [
        interchange(40).encode(),
        interchange(40, newline="\n").encode(),
        interchange(40, newline="\r\n").replace("~\r\nPO1", "~\r\n  PO1").encode(),
        interchange(40, terminator="\r", newline="\n").encode(),
        interchange(9, newline="\n").replace("~\nGS", "~\n\nGS").replace("~\nCTT", "~\n~\nCTT").encode(),
        interchange(5, terminator="\n").encode(),
        interchange(5, terminator=" ", newline="\n").encode(),
        (interchange(3) + interchange(2, element="|", terminator="!")).encode(),
        interchange(3).replace("~PO1", "~\r\nPO1").replace("~CTT", "~~CTT").replace("SKU-", "\nSKU-").encode(),
    ]
    monkeypatch.setattr(_tokenizer, "BATCH_CHARS", batch_chars)
    batched = [[_key(s) for s in SegmentReader(data)] for data in samples]
    monkeypatch.setattr(_tokenizer, "_cut_plain", _segment_by_segment)
    assert batched == [[_key(s) for s in SegmentReader(data)] for data in samples]


@pytest.mark.parametrize("newline", ["", "\r\n"])
def test_positions_computed_later_are_those_as_read(monkeypatch: pytest.MonkeyPatch, newline: str) -> None:
    data = interchange(60, newline=newline).encode()
    segments = read_segments(data)
    for segment in segments:  # edits after reading move nothing
        segment.elements.append("EDITED")
        segment.elements[0] = "X" * 50
    places = [(s.ordinal, s.line, s.offset, s.trivia, s.terminator) for s in reversed(segments)][::-1]
    monkeypatch.setattr(_tokenizer, "_cut_plain", _segment_by_segment)
    eager = [(s.ordinal, s.line, s.offset, s.trivia, s.terminator) for s in read_segments(data)]
    assert places == eager
    tags = [data[offset:].split(b"*", 1)[0] for _, _, offset, _, _ in places]
    assert tags == [s.tag.encode() for s in segments]


def test_reading_a_whole_file_leaves_the_collector_as_it_was() -> None:
    data = interchange(3).encode()
    assert gc.isenabled()
    read_segments(data)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        read_segments(data)
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()  # what an application may do before forking workers
    try:
        frozen = gc.get_freeze_count()
        read_segments(data)
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()
