"""Every file of the shared X12 corpus: structure, delimiters, findings, byte-identical round trip.

The expected values come from the corpus notes (SOURCES.md: delimiters, versions, which files are
broken and how) and from counting each file by hand; a segment count that differs from a naive
split of the file is explained where it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from orderhub.x12 import Delimiters, FindingKind, X12Document, parse, serialize

D = Delimiters
K = FindingKind
CR, LF, SPACE = "\r", "\n", " "
ELLIPSIS = "\u2026".encode().decode("latin-1")  # U+2026 as its three UTF-8 bytes


@dataclass(frozen=True)
class F:
    kind: FindingKind
    tag: str
    ordinal: int
    element: int | None
    code_source: str | None
    code: str | None


@dataclass(frozen=True)
class Case:
    path: str
    interchanges: int
    groups: int
    segments: int
    sets: tuple[str, ...]
    delimiters: Delimiters
    isa_version: str
    gs_version: str  # GS08 of the first group ("" when the interchange has none)
    bom: bool
    findings: tuple[F, ...]


# Notes on counts that differ from a naive reading:
# - edinet_tilde_component_2st: 186 lines but 185 segments, because line 23 lacks its "~" and merges
#   with the next line; hence its first SE01 (87) is one too many for the 86 segments read.
# - stupidedi_dollar_term: N1, N3, N4 and the next HL end in "~", not "$", and merge into one
#   segment: 22 segments in the set where SE01 says 25.
# - 860_oop_short_isa: N1 lacks its "~" and merges with N3, so the set has 9 segments, SE01 says 10.
# - stupidedi_newline_term_wrapped_isa: the LF inside ISA10 is part of the ISA, not a terminator.
CASES = [
    Case("810/edifabric_invoice_bom.txt", 1, 1, 14, ("810",), D("*", ">", "~", None), "00204", "004010", True, ()),
    Case("810/edinet_ariba_short_isa.edi", 1, 1, 68, ("810",), D("*", ">", "~", None), "00401", "004010", True, ()),
    Case(
        "810/moov_pipe_component_two_st.txt",
        1,
        1,
        115,
        ("810", "810"),
        D("*", "|", "~", None),
        "00401",
        "004010",
        False,
        (),
    ),
    Case("810/oop_004030_two_st.txt", 1, 1, 50, ("810", "810"), D("*", ":", "~", "^"), "00403", "004030", True, ()),
    Case("810/oop_adobe_cr_term.txt", 1, 1, 49, ("810",), D("*", ">", CR, None), "00040", "004010", True, ()),
    Case("810/oop_california_iso.txt", 1, 1, 52, ("810",), D("*", ">", "~", None), "00401", "004010", True, ()),
    Case("810/oop_ftp_capture.txt", 1, 1, 26, ("810",), D("*", ":", "~", None), "00401", "004010", False, ()),
    Case("810/oop_walmart_cr_term.txt", 1, 1, 24, ("810",), D("*", ">", CR, None), "00040", "004010", True, ()),
    Case("810/staedi_two_st.edi", 1, 1, 58, ("810", "810"), D("*", ">", "~", None), "00401", "004010", False, ()),
    Case(
        "810/stupidedi_x348_aero_basic.edi",
        1,
        1,
        12,
        ("810",),
        D("*", ":", "~", None),
        "00401",
        "004010X348",
        False,
        (),
    ),
    Case("850/ediengine_newline_term.edi", 1, 1, 37, ("850",), D("*", ">", LF, None), "00400", "004010", False, ()),
    Case("850/ediengine_sln_composite.edi", 1, 1, 15, ("850",), D("*", ">", LF, None), "00400", "004010", False, ()),
    Case("850/edifabric_two_po_bom.txt", 1, 1, 34, ("850", "850"), D("*", ">", "~", None), "00204", "004010", True, ()),
    Case(
        "850/edinet_tab_indent_nbsp_isa.edi",
        1,
        1,
        54,
        ("850",),
        D("*", ">", "~", None),
        "00401",
        "004010",
        True,
        (F(K.INTERCHANGE_CONTROL_NUMBER, "IEA", 54, 2, "TA1", "001"),),
    ),
    Case(
        "850/edinet_tilde_component_2st.edi",
        1,
        1,
        185,
        ("850", "850"),
        D("*", "", "~", None),
        "00401",
        "004010",
        False,
        (
            F(K.ISA_COMPONENT_MISSING, "ISA", 1, 16, "TA1", "027"),
            F(K.SEGMENT_COUNT, "SE", 88, 1, "AK5", "4"),
            F(K.SET_CONTROL_NUMBER_REUSED, "ST", 89, 2, "AK5", "23"),  # both sets are ST*850*0001
        ),
    ),
    Case(
        "850/gozer_walmart_vics.txt",
        1,
        1,
        25,
        ("850",),
        D("*", ">", LF, None),
        "00400",
        "004010VICS",
        False,
        (F(K.SEGMENT_COUNT, "SE", 23, 1, "AK5", "4"),),
    ),
    Case("850/nodex12_newline_term_min.edi", 1, 1, 18, ("850",), D("*", ">", LF, None), "00401", "004010", False, ()),
    Case(
        "850/nodex12_two_interchanges.edi",
        2,
        2,
        74,
        ("850", "850"),
        D("*", ">", "~", None),
        "00400",
        "004010VICS",
        False,
        (),
    ),
    Case("850/nodex12_vics.edi", 1, 1, 37, ("850",), D("*", ">", "~", None), "00400", "004010VICS", False, ()),
    Case(
        "850/nodex12_vics_newline_term.edi", 1, 1, 37, ("850",), D("*", ">", LF, None), "00400", "004010VICS", False, ()
    ),
    Case("850/oop_adobe_clp_star_term.txt", 1, 1, 79, ("850",), D("~", ">", "*", None), "00300", "004010", True, ()),
    Case(
        "850/oop_adobe_shrinkwrap_space_term.txt",
        1,
        1,
        22,
        ("850",),
        D("*", ">", SPACE, None),
        "00400",
        "004010",
        True,
        (),
    ),
    Case("850/oop_adobe_tlp_tilde_elem.txt", 1, 1, 44, ("850",), D("~", ">", CR, None), "00401", "004010", True, ()),
    Case("850/oop_aojuk.txt", 1, 1, 23, ("850",), D("*", ">", "~", None), "00401", "004010", True, ()),
    Case("850/oop_pgw_glass_pipe.txt", 1, 1, 40, ("850",), D("*", "~", "|", None), "00400", "004010", True, ()),
    Case("850/stedi_005010_dropship.edi", 1, 1, 20, ("850",), D("*", ">", "~", None), "00501", "005010", False, ()),
    Case(
        "850/stupidedi_003010_bang_term.edi",
        1,
        1,
        31,
        ("850",),
        D("*", "@", "!", None),
        "00200",
        "003010",
        False,
        (F(K.SEGMENT_COUNT, "SE", 29, 1, "AK5", "4"),),
    ),
    Case(
        "850/stupidedi_003050_wrapped_isa.edi",
        1,
        1,
        15,
        ("850",),
        D("*", "@", "!", None),
        "00300",
        "003050",
        False,
        (F(K.ISA_WRAPPED, "ISA", 1, 8, None, None),),
    ),
    Case(
        "850/stupidedi_x357_aero_basic.edi",
        1,
        1,
        14,
        ("850",),
        D("*", ":", "~", None),
        "00401",
        "004010X357",
        False,
        (),
    ),
    Case(
        "850/stupidedi_x357_aero_taxexempt.edi",
        1,
        1,
        19,
        ("850",),
        D("*", ":", "~", None),
        "00401",
        "004010X357",
        False,
        (),
    ),
    Case(
        "855/edifabric_poack_bom.txt",
        1,
        1,
        14,
        ("855",),
        D("*", ">", "~", None),
        "00204",
        "004010",
        True,
        (F(K.SET_COUNT, "GE", 13, 1, "AK9", "5"),),
    ),
    Case("855/nodex12_855.edi", 1, 1, 30, ("855",), D("*", ">", "~", None), "00401", "004010", False, ()),
    Case("855/oop_adobe_cr_term.txt", 1, 1, 47, ("855",), D("*", ">", CR, None), "00400", "004010", True, ()),
    Case("855/oop_ssimmons_two_st.txt", 1, 1, 24, ("855", "855"), D("*", ">", "~", None), "00401", "004010", False, ()),
    Case(
        "855/staedi_two_st_caret_component.edi",
        1,
        1,
        10,
        ("855", "855"),
        D("*", "^", "~", None),
        "00401",
        "004010",
        False,
        (),
    ),
    Case("855/stedi_005010_dropship_ack.edi", 1, 1, 21, ("855",), D("*", ">", "~", "^"), "00501", "005010", False, ()),
    Case("855/stupidedi_brace_component.edi", 1, 1, 11, ("855",), D("*", "{", "~", None), "00400", "004010", False, ()),
    Case(
        "855/stupidedi_newline_term_wrapped_isa.edi",
        1,
        1,
        16,
        ("855",),
        D("*", ">", LF, None),
        "00401",
        "004010",
        False,
        (F(K.ISA_WRAPPED, "ISA", 1, 10, None, None),),
    ),
    Case(
        "855/stupidedi_x358_aero_rejected.edi",
        1,
        1,
        9,
        ("855",),
        D("*", ":", "~", None),
        "00401",
        "004010X358",
        False,
        (),
    ),
    Case(
        "855/stupidedi_x358_aero_ship_details.edi",
        1,
        1,
        20,
        ("855",),
        D("*", ":", "~", None),
        "00401",
        "004010X358",
        False,
        (),
    ),
    Case("856/ediengine_crossdock.edi", 1, 1, 61, ("856",), D("*", ">", LF, None), "00401", "004010", False, ()),
    Case(
        "856/edifabric_shipnotice_bom.txt",
        1,
        1,
        48,
        ("856",),
        D("*", ">", "~", None),
        "00204",
        "004010",
        True,
        (F(K.SET_COUNT, "GE", 47, 1, "AK9", "5"),),
    ),
    Case(
        "856/gozer_walmart_004060.txt",
        1,
        1,
        35,
        ("856",),
        D("*", ">", LF, None),
        "00400",
        "004060",
        False,
        (F(K.INTERCHANGE_CONTROL_NUMBER, "IEA", 35, 2, "TA1", "001"),),
    ),
    Case("856/nodex12_004060.edi", 1, 1, 35, ("856",), D("*", ">", "~", "-"), "00406", "004060", False, ()),
    Case("856/oop_003060_group.txt", 1, 1, 38, ("856",), D("*", ":", "~", None), "00401", "003060", True, ()),
    Case("856/oop_ellipsis_term.txt", 1, 1, 36, ("856",), D("*", ":", ELLIPSIS, None), "00401", "004010", True, ()),
    Case("856/oop_pipe_component.txt", 1, 1, 44, ("856",), D("*", "|", "~", None), "00401", "004010", True, ()),
    Case("856/oop_tilde_elem_star_term.txt", 1, 1, 29, ("856",), D("~", "`", "*", None), "00401", "004010", True, ()),
    Case("856/oop_vics_gregarican.txt", 1, 1, 29, ("856",), D("*", ">", "~", None), "00401", "004010VICS", True, ()),
    Case(
        "856/stupidedi_002001_two_st.edi",
        1,
        1,
        70,
        ("856", "856"),
        D("*", "@", "!", None),
        "00200",
        "002001",
        False,
        (),
    ),
    Case(
        "856/stupidedi_dollar_term.edi",
        1,
        1,
        26,
        ("856",),
        D("*", "{", "$", None),
        "00400",
        "004010",
        False,
        (F(K.SEGMENT_COUNT, "SE", 24, 1, "AK5", "4"),),
    ),
    Case("997/edifabric_997_bom.txt", 1, 1, 14, ("997",), D("*", ">", "~", None), "00401", "004010", True, ()),
    Case("997/pyx12_reject_ak3_ak4.edi", 1, 1, 24, ("997",), D("*", ":", "~", None), "00401", "004010", False, ()),
    Case("997/pyx12_reject_with_ta1.edi", 1, 1, 11, ("997",), D("*", ":", "~", None), "00401", "004010", False, ()),
    Case("997/staedi_005010.edi", 1, 1, 12, ("997",), D("*", ":", "~", "^"), "00501", "005010X230", False, ()),
    Case("997/staedi_extra_delimiter.edi", 1, 1, 12, ("997",), D("*", ":", "~", "^"), "00501", "005010X230", False, ()),
    Case(
        "997/staedi_three_interchanges.edi",
        3,
        3,
        36,
        ("997", "997", "997"),
        D("*", ":", "~", "^"),
        "00501",
        "005010X230",
        False,
        (),
    ),
    Case(
        "997/stupidedi_newline_term_backtick.edi",
        1,
        1,
        10,
        ("997",),
        D("*", "`", LF, None),
        "00400",
        "004010",
        False,
        (),
    ),
    Case(
        "997/stupidedi_x230_005010_bom.edi", 1, 1, 14, ("997",), D("*", ":", "~", ">"), "00501", "005010X230", True, ()
    ),
    Case("other/846_oop_star_term.txt", 1, 1, 28, ("846",), D("~", ">", "*", None), "00401", "004010", True, ()),
    Case(
        "other/846_oop_tilde_elem_brace_term.txt",
        1,
        1,
        20,
        ("846",),
        D("~", ">", "}", None),
        "00401",
        "004010",
        True,
        (),
    ),
    Case(
        "other/860_oop_short_isa.txt",
        1,
        1,
        13,
        ("860",),
        D("*", ">", "~", None),
        "00401",
        "004010",
        True,
        (F(K.SEGMENT_COUNT, "SE", 11, 1, "AK5", "4"),),
    ),
    Case("other/860_stupidedi_003010.edi", 1, 1, 21, ("860",), D("*", "@", "!", None), "00200", "003010", False, ()),
    Case("other/940_ediengine.edi", 1, 1, 33, ("940",), D("*", ">", LF, None), "00400", "004010", False, ()),
    Case(
        "other/940_ediengine_2isa_4gs.edi",
        2,
        4,
        42,
        ("940", "940", "940", "940", "940", "940"),
        D("*", ">", LF, None),
        "00400",
        "004010",
        False,
        (),
    ),
    Case(
        "other/940_oop_simplot.txt",
        1,
        1,
        31,
        ("940",),
        D("*", ">", CR, None),
        "00200",
        "004010",
        True,
        (
            F(K.GROUP_CONTROL_NUMBER, "GE", 30, 2, "AK9", "4"),
            F(K.INTERCHANGE_CONTROL_NUMBER, "IEA", 31, 2, "TA1", "001"),
        ),
    ),
    Case(
        "other/945_edifabric.txt",
        1,
        1,
        26,
        ("945",),
        D("*", ">", "~", None),
        "00204",
        "004010",
        True,
        (F(K.SET_COUNT, "GE", 25, 1, "AK9", "5"),),
    ),
    Case(
        "other/945_oop_005010_bad_gs.txt",
        1,
        1,
        21,
        ("945",),
        D("*", ">", "~", None),
        "00501",
        "21",
        True,
        (
            F(K.ELEMENT_COUNT, "GS", 2, 9, None, None),
            F(K.GROUP_CONTROL_NUMBER, "GE", 20, 2, "AK9", "4"),
        ),
    ),
    Case(
        "other/mixed_810_850_two_gs.edi",
        1,
        2,
        77,
        ("810", "810", "850"),
        D("*", ">", "~", None),
        "00401",
        "004010",
        False,
        (),
    ),
    Case("other/ta1_gt_elem_005010.txt", 1, 0, 3, (), D(">", "+", CR, "^"), "00501", "", True, ()),
]

BY_PATH = {case.path: case for case in CASES}


def _x12(corpus: Path) -> Path:
    return corpus / "x12"


@pytest.mark.corpus
def test_the_table_covers_every_corpus_file(corpus: Path) -> None:
    files = sorted(str(p.relative_to(_x12(corpus))) for p in _x12(corpus).glob("*/*") if p.is_file())
    assert files == sorted(BY_PATH)
    assert len(files) == 70
    assert sum(case.bom for case in CASES) == 30  # SOURCES.md: 30 of the 70 files start with a BOM


@pytest.mark.corpus
@pytest.mark.parametrize("case", CASES, ids=[case.path for case in CASES])
def test_corpus_file_structure(corpus: Path, case: Case) -> None:
    data = (_x12(corpus) / case.path).read_bytes()
    document = parse(data)
    assert len(document.interchanges) == case.interchanges
    assert sum(len(i.groups) for i in document.interchanges) == case.groups
    assert sum(1 for _ in document.segments()) == case.segments
    assert tuple(s.id for _, _, s in document.transaction_sets()) == case.sets
    first = document.interchanges[0]
    assert first.delimiters == case.delimiters
    assert first.version == case.isa_version
    assert (first.groups[0].version if first.groups else "") == case.gs_version
    assert first.isa.trivia.startswith("\xef\xbb\xbf") == case.bom
    found = tuple(
        F(f.kind, f.segment_tag, f.segment_ordinal, f.element, f.code_source, f.code) for f in document.findings
    )
    assert found == case.findings
    for interchange in document.interchanges:
        assert interchange.iea is not None
        for group in interchange.groups:
            assert group.ge is not None
            for transaction_set in group.sets:
                assert transaction_set.st.tag == "ST" and transaction_set.se.tag == "SE"


@pytest.mark.corpus
@pytest.mark.parametrize("case", CASES, ids=[case.path for case in CASES])
def test_corpus_round_trip_is_byte_identical(corpus: Path, case: Case) -> None:
    data = (_x12(corpus) / case.path).read_bytes()
    assert serialize(parse(data)) == data


def _doc(corpus: Path, path: str) -> X12Document:
    return parse((_x12(corpus) / path).read_bytes())


@pytest.mark.corpus
def test_wrapped_isa_is_repaired_and_reported(corpus: Path) -> None:
    document = _doc(corpus, "855/stupidedi_newline_term_wrapped_isa.edi")
    isa = document.interchanges[0].isa
    assert isa.element(10) == "2135"
    assert isa.raw is not None and "213\n5" in isa.raw
    (finding,) = document.findings
    assert finding.kind is FindingKind.ISA_WRAPPED and finding.element == 10 and finding.line == 1
    assert "ISA10" in finding.message
    gs = document.interchanges[0].groups[0].gs
    assert (gs.line, gs.ordinal) == (3, 2)

    document = _doc(corpus, "850/stupidedi_003050_wrapped_isa.edi")
    assert document.interchanges[0].isa.element(8) == "123456789NPPT"
    assert document.interchanges[0].isa.element(9) == "010614"
    assert [f.element for f in document.findings] == [8]


@pytest.mark.corpus
def test_missing_isa16_makes_the_tilde_the_terminator(corpus: Path) -> None:
    document = _doc(corpus, "850/edinet_tilde_component_2st.edi")
    interchange = document.interchanges[0]
    assert interchange.isa.element(16) == ""
    assert interchange.groups[0].gs.elements[-1] == "004010"  # not "004010~" as a positional reading says
    isa_finding, se_finding, reused = document.findings
    assert isa_finding.code == "027" and "ISA16" in isa_finding.message
    assert (se_finding.segment_tag, se_finding.line, se_finding.element) == ("SE", 89, 1)
    assert "(86)" in se_finding.message and "'87'" in se_finding.message
    assert (reused.line, reused.message) == (
        90,
        "ST02 '0001' is already used in this functional group by the ST at line 3",
    )


@pytest.mark.corpus
def test_space_terminator_keeps_spaces_inside_data(corpus: Path) -> None:
    document = _doc(corpus, "850/oop_adobe_shrinkwrap_space_term.txt")
    n1 = next(s for s in document.segments() if s.tag == "N1")
    assert n1.elements == ["BY", "SOLD TO Org Name", "ZZ", "038181483"]
    assert n1.trivia == "\r\n      "


@pytest.mark.corpus
def test_multi_byte_terminator_and_nbsp_padding(corpus: Path) -> None:
    document = _doc(corpus, "856/oop_ellipsis_term.txt")
    assert document.interchanges[0].delimiters.segment.encode("latin-1") == b"\xe2\x80\xa6"
    assert document.interchanges[0].groups[0].control_number == "25"
    document = _doc(corpus, "850/edinet_tab_indent_nbsp_isa.edi")
    isa = document.interchanges[0].isa
    assert "\xc2\xa0" in isa.element(2)  # U+00A0 padding is data, kept as its UTF-8 bytes
    assert isa.element(13) == "000000055"
    assert document.interchanges[0].groups[0].gs.trivia == "\n\t"


@pytest.mark.corpus
def test_components_and_repetition(corpus: Path) -> None:
    document = _doc(corpus, "850/ediengine_sln_composite.edi")
    delimiters = document.interchanges[0].delimiters
    sln = next(s for s in document.segments() if s.tag == "SLN")
    assert sln.components(5, delimiters) == ["PC", "11.1", "12.2", "EA", "13.3", "14.4"]
    document = _doc(corpus, "810/moov_pipe_component_two_st.txt")
    delimiters = document.interchanges[0].delimiters
    qty = next(s for s in document.segments() if s.tag == "QTY" and s.element(1) == "39")
    assert qty.components(3, delimiters) == ["ZZ", "", "1"]
    trailing = next(s for s in document.segments() if s.tag == "QTY" and s.element(2) == "10")
    assert trailing.elements == ["T5", "10", ""]  # the trailing separator is kept as an empty element
    document = _doc(corpus, "997/staedi_extra_delimiter.edi")
    delimiters = document.interchanges[0].delimiters
    ak3 = next(s for s in document.segments() if s.tag == "AK3")
    repeats = ak3.repetitions(2, delimiters)
    assert repeats == ["AK302-R1", "AK302-R2", "AK302-R3-COMP1:AK302-R3-COMP2"]
    assert repeats[2].split(delimiters.component) == ["AK302-R3-COMP1", "AK302-R3-COMP2"]


@pytest.mark.corpus
def test_ta1_inside_interchanges_is_kept_in_order(corpus: Path) -> None:
    document = _doc(corpus, "997/pyx12_reject_with_ta1.edi")
    interchange = document.interchanges[0]
    assert [s.tag for s in interchange.other] == ["TA1"]
    tags = [s.tag for s in interchange.segments()]
    assert tags[-3:] == ["GE", "TA1", "IEA"]
    document = _doc(corpus, "other/ta1_gt_elem_005010.txt")
    assert [s.tag for s in document.segments()] == ["ISA", "TA1", "IEA"]
    assert document.interchanges[0].iea is not None and document.interchanges[0].iea.terminator == ""


@pytest.mark.corpus
def test_several_interchanges_keep_their_own_headers(corpus: Path) -> None:
    document = _doc(corpus, "other/940_ediengine_2isa_4gs.edi")
    per_interchange = [[len(g.sets) for g in i.groups] for i in document.interchanges]
    assert sum(map(sum, per_interchange)) == 6
    assert [len(groups) for groups in per_interchange] == [2, 2]
    document = _doc(corpus, "997/staedi_three_interchanges.edi")
    assert len({i.control_number for i in document.interchanges}) == 3


# What each finding says: the expected value, the value found, and where the other side is.
MESSAGES = [
    ("850/edinet_tab_indent_nbsp_isa.edi", 54, "IEA02 must equal ISA13 '000000055' (line 1), found '000000001'"),
    ("850/gozer_walmart_vics.txt", 23, "SE01 must be the number of segments from ST to SE (21), found '33'"),
    ("850/stupidedi_003010_bang_term.edi", 29, "SE01 must be the number of segments from ST to SE (27), found '28'"),
    ("850/stupidedi_003050_wrapped_isa.edi", 1, "ISA is wrapped across lines: the line break inside ISA08 was removed"),
    ("855/edifabric_poack_bom.txt", 13, "GE01 must be the number of transaction sets in the group (1), found '2'"),
    ("856/gozer_walmart_004060.txt", 35, "IEA02 must equal ISA13 '000003438' (line 1), found '000000049'"),
    ("856/stupidedi_dollar_term.edi", 24, "SE01 must be the number of segments from ST to SE (22), found '25'"),
    ("other/860_oop_short_isa.txt", 11, "SE01 must be the number of segments from ST to SE (9), found '10'"),
    ("other/940_oop_simplot.txt", 30, "GE02 must equal GS06 '177818711' (line 2), found '940001777'"),
    ("other/945_oop_005010_bad_gs.txt", 2, "GS must have 8 elements, found 10"),
    ("other/945_oop_005010_bad_gs.txt", 20, "GE02 must equal GS06 '20021104' (line 2), found '31'"),
]


@pytest.mark.corpus
@pytest.mark.parametrize(("path", "ordinal", "message"), MESSAGES, ids=[f"{p}:{o}" for p, o, _ in MESSAGES])
def test_broken_files_say_what_was_expected(corpus: Path, path: str, ordinal: int, message: str) -> None:
    document = _doc(corpus, path)
    assert [f.message for f in document.findings if f.segment_ordinal == ordinal] == [message]
    segment = next(s for s in document.segments() if s.ordinal == ordinal)
    finding = next(f for f in document.findings if f.segment_ordinal == ordinal)
    assert (finding.segment_tag, finding.line, finding.offset) == (segment.tag, segment.line, segment.offset)


_SOURCES_TERMINATORS = {"CR": CR, "LF": LF, "SPACE": SPACE, "… (U+2026)": ELLIPSIS, "~ + LF": "~"}
# Where our reading differs from the positional one SOURCES.md records, and why.
_SOURCES_EXCEPTIONS = {"850/edinet_tilde_component_2st.edi": "GS08 is 004010; '~' is the terminator, not data"}


def _sources_rows(text: str) -> dict[str, tuple[str, str, str, str, str]]:
    """file -> (element, component, terminator, ISA12, GS08) from the SOURCES.md tables."""
    rows: dict[str, tuple[str, str, str, str, str]] = {}
    folder = ""
    for line in text.splitlines():
        if line.startswith("## ") and line.endswith("/"):
            folder = line[3:-1]
        if not folder or not line.startswith("| ") or line.startswith(("| file", "|---")):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        # "```" stands for a backtick; "\\|" is an escaped pipe.
        separators = [
            "`" if m.group(0) == "```" else m.group(1).replace("\\|", "|")
            for m in re.finditer(r"```|`([^`]+)`", cells[3])
        ]
        isa12, gs08 = (v.strip() for v in cells[4].split("/"))
        rows[f"{folder}/{cells[0]}"] = (separators[0], separators[1], separators[2], isa12, gs08)
    return rows


@pytest.mark.corpus
def test_the_table_agrees_with_sources_md(corpus: Path) -> None:
    rows = _sources_rows((_x12(corpus) / "SOURCES.md").read_text(encoding="utf-8"))
    assert sorted(rows) == sorted(BY_PATH)
    for path, (element, component, terminator, isa12, gs08) in rows.items():
        case = BY_PATH[path]
        documented = D(
            element, "" if component == "(none)" else component, _SOURCES_TERMINATORS.get(terminator, terminator)
        )
        assert (case.delimiters.element, case.delimiters.component, case.delimiters.segment) == (
            documented.element,
            documented.component,
            documented.segment,
        ), path
        assert case.isa_version == isa12, path
        if path not in _SOURCES_EXCEPTIONS:
            assert case.gs_version == ("" if gs08 == "-" else gs08), path
