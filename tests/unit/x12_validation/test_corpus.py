"""Every corpus X12 file through the validator: clean files give no finding, broken ones exactly theirs.

Each expected finding below was checked by hand against the file and the X12 004010 standard; the
comment says why it is an error. Files and sets not listed must validate without any finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orderhub.x12 import parse
from orderhub.x12._validator import ValidationFinding, validate_transaction_set

CORPUS_FILES = [
    "810/edifabric_invoice_bom.txt", "810/edinet_ariba_short_isa.edi", "810/moov_pipe_component_two_st.txt",
    "810/oop_004030_two_st.txt", "810/oop_adobe_cr_term.txt", "810/oop_california_iso.txt",
    "810/oop_ftp_capture.txt", "810/oop_walmart_cr_term.txt", "810/staedi_two_st.edi",
    "810/stupidedi_x348_aero_basic.edi",
    "850/ediengine_newline_term.edi", "850/ediengine_sln_composite.edi", "850/edifabric_two_po_bom.txt",
    "850/edinet_tab_indent_nbsp_isa.edi", "850/edinet_tilde_component_2st.edi", "850/gozer_walmart_vics.txt",
    "850/nodex12_newline_term_min.edi", "850/nodex12_two_interchanges.edi", "850/nodex12_vics.edi",
    "850/nodex12_vics_newline_term.edi", "850/oop_adobe_clp_star_term.txt",
    "850/oop_adobe_shrinkwrap_space_term.txt", "850/oop_adobe_tlp_tilde_elem.txt", "850/oop_aojuk.txt",
    "850/oop_pgw_glass_pipe.txt", "850/stedi_005010_dropship.edi", "850/stupidedi_003010_bang_term.edi",
    "850/stupidedi_003050_wrapped_isa.edi", "850/stupidedi_x357_aero_basic.edi",
    "850/stupidedi_x357_aero_taxexempt.edi",
    "855/edifabric_poack_bom.txt", "855/nodex12_855.edi", "855/oop_adobe_cr_term.txt",
    "855/oop_ssimmons_two_st.txt", "855/staedi_two_st_caret_component.edi", "855/stedi_005010_dropship_ack.edi",
    "855/stupidedi_brace_component.edi", "855/stupidedi_newline_term_wrapped_isa.edi",
    "855/stupidedi_x358_aero_rejected.edi", "855/stupidedi_x358_aero_ship_details.edi",
    "856/ediengine_crossdock.edi", "856/edifabric_shipnotice_bom.txt", "856/gozer_walmart_004060.txt",
    "856/nodex12_004060.edi", "856/oop_003060_group.txt", "856/oop_ellipsis_term.txt",
    "856/oop_pipe_component.txt", "856/oop_tilde_elem_star_term.txt", "856/oop_vics_gregarican.txt",
    "856/stupidedi_002001_two_st.edi", "856/stupidedi_dollar_term.edi",
    "997/edifabric_997_bom.txt", "997/pyx12_reject_ak3_ak4.edi", "997/pyx12_reject_with_ta1.edi",
    "997/staedi_005010.edi", "997/staedi_extra_delimiter.edi", "997/staedi_three_interchanges.edi",
    "997/stupidedi_newline_term_backtick.edi", "997/stupidedi_x230_005010_bom.edi",
    "other/846_oop_star_term.txt", "other/846_oop_tilde_elem_brace_term.txt", "other/860_oop_short_isa.txt",
    "other/860_stupidedi_003010.edi", "other/940_ediengine.edi", "other/940_ediengine_2isa_4gs.edi",
    "other/940_oop_simplot.txt", "other/945_edifabric.txt", "other/945_oop_005010_bad_gs.txt",
    "other/mixed_810_850_two_gs.edi", "other/ta1_gt_elem_005010.txt",
]  # fmt: skip

Expected = tuple[str, str, int | None, str, int | None, int | None]

# (file, index of the set in the file) -> (level, code, set position, segment id, element, component)
EXPECTED: dict[tuple[str, int], list[Expected]] = {
    # ISS comes before TDS; 004010 puts the ISS loop after TDS in the summary
    ("810/oop_004030_two_st.txt", 0): [
        ("segment", "3", 26, "TDS", None, None),  # 'mandatory segment TDS is missing before ISS (set position 26'
        ("segment", "7", 27, "TDS", None, None),  # 'TDS is out of sequence here; expected one of PID, ISS, CTT, '
    ],
    # the same ISS-before-TDS order in the second invoice
    ("810/oop_004030_two_st.txt", 1): [
        ("segment", "3", 14, "TDS", None, None),  # 'mandatory segment TDS is missing before ISS (set position 14'
        ("segment", "7", 15, "TDS", None, None),  # 'TDS is out of sequence here; expected one of PID, ISS, CTT, '
    ],
    # ISS before TDS, then CAD after TDS is also behind the cursor
    ("810/oop_walmart_cr_term.txt", 0): [
        ("segment", "3", 16, "TDS", None, None),  # 'mandatory segment TDS is missing before ISS (set position 16'
        ("segment", "7", 17, "TDS", None, None),  # 'TDS is out of sequence here; expected one of PID, ISS, CTT, '
        ("segment", "7", 18, "CAD", None, None),  # 'CAD is out of sequence here; expected one of PID, ISS, CTT, '
    ],
    # vendor demo data: PO103 unit of measure 'INVALID'
    ("850/edifabric_two_po_bom.txt", 1): [
        ("element", "5", 9, "PO1", 3, None),  # "PO103 'INVALID' is too long: exactly 2 characters"
    ],
    # N402 is a two-letter state code, the file has the word 'State'
    ("850/edinet_tab_indent_nbsp_isa.edi", 0): [
        ("element", "5", 22, "N4", 2, None),  # "N402 'State' is too long: exactly 2 characters"
    ],
    # line 23 of the file has no '~': DTM swallows the next PO1 (hence SE01 87 vs 86 and the out-of-order line segments)
    ("850/edinet_tilde_component_2st.edi", 0): [
        ("element", "3", 21, "DTM", 8, None),  # 'DTM has 6 elements, found data in element 8'
        ("element", "8", 21, "DTM", 2, None),  # "DTM02 '20190309\\nPO1' is not a valid date (CCYYMMDD)"
        ("element", "9", 21, "DTM", 3, None),  # "DTM03 '30' is not a valid time (HHMM, HHMMSS or HHMMSSd..d)"
        ("element", "5", 21, "DTM", 4, None),  # "DTM04 '13892' is too long: exactly 2 characters"
        ("element", "2", 21, "DTM", 6, None),  # 'DTM06 is required when DTM05 is present (P0506)'
        ("segment", "7", 22, "CUR", None, None),  # 'CUR is out of sequence here; expected one of DTM, TC2, TD1, '
        ("segment", "7", 23, "PID", None, None),  # 'PID is out of sequence here; expected one of DTM, TC2, TD1, '
        ("segment", "7", 24, "PO4", None, None),  # 'PO4 is out of sequence here; expected one of DTM, TC2, TD1, '
        ("segment", "7", 25, "REF", None, None),  # 'REF is out of sequence here; expected one of DTM, TC2, TD1, '
        ("segment", "7", 26, "REF", None, None),  # 'REF is out of sequence here; expected one of DTM, TC2, TD1, '
        ("set", "4", 86, "SE", None, None),  # "SE01 says '87' segments but the set has 86 (ST through SE)"
    ],
    # the sample was trimmed: SE01 33, the set has 21 segments
    ("850/gozer_walmart_vics.txt", 0): [
        ("set", "4", 21, "SE", None, None),  # "SE01 says '33' segments but the set has 21 (ST through SE)"
    ],
    # stupidedi fail fixture: SE01 off by one
    ("850/stupidedi_003010_bang_term.edi", 0): [
        ("set", "4", 27, "SE", None, None),  # "SE01 says '28' segments but the set has 27 (ST through SE)"
    ],
    # stupidedi fail fixture: BAK08 over 8 characters, 'DZN' is not an X12 unit (DZ is)
    ("855/stupidedi_newline_term_wrapped_isa.edi", 0): [
        ("element", "5", 2, "BAK", 8, None),  # "BAK08 '349037459001' is too long: 1 to 8 characters"
        ("element", "5", 5, "PO1", 3, None),  # "PO103 'DZN' is too long: exactly 2 characters"
        ("element", "5", 7, "SCH", 2, None),  # "SCH02 'DZN' is too long: exactly 2 characters"
    ],
    # vendor demo data: DTM02 '200' is not a date
    ("856/edifabric_shipnotice_bom.txt", 0): [
        ("element", "8", 10, "DTM", 2, None),  # "DTM02 '200' is not a valid date (CCYYMMDD)"
    ],
    # ISA11 '-' is the repetition separator from 00402 on, and data has hyphens (noted, not rejecting)
    ("856/nodex12_004060.edi", 0): [
        ("element", "12", 6, "REF", 2, None),  # "REF02 does not repeat but holds the repetition separator '-'"
        ("element", "12", 14, "N4", 3, None),  # "N403 does not repeat but holds the repetition separator '-'"
    ],
    # BSN02 (shipment id) is empty; ' BIN52' is six characters for a 3/5 packaging code
    ("856/oop_003060_group.txt", 0): [
        ("element", "1", 2, "BSN", 2, None),  # 'BSN02 is mandatory'
        ("element", "5", 8, "TD1", 1, None),  # "TD101 ' BIN52' is too long: 3 to 5 characters"
        ("element", "5", 21, "CLD", 3, None),  # "CLD03 ' BIN52' is too long: 3 to 5 characters"
        ("element", "5", 28, "CLD", 3, None),  # "CLD03 ' BIN52' is too long: 3 to 5 characters"
        ("element", "5", 30, "CLD", 3, None),  # "CLD03 ' BIN52' is too long: 3 to 5 characters"
    ],
    # placeholder state 'LOCSTATE' in N402
    ("856/oop_pipe_component.txt", 0): [
        ("element", "5", 14, "N4", 2, None),  # "N402 'LOCSTATE' is too long: exactly 2 characters"
    ],
    # stupidedi fail fixture: N1/N3/N4 merged into one N1 (lines end '~' not '$')
    ("856/stupidedi_dollar_term.edi", 0): [
        ("element", "3", 11, "N1", 7, None),  # 'N1 has 6 elements, found data in element 7'
        ("element", "6", 11, "N1", 4, None),  # "N104 holds the control character '\\n'"
        ("element", "6", 11, "N1", 5, None),  # "N105 holds the control character '\\n'"
        ("element", "5", 11, "N1", 6, None),  # "N106 'BEAUPORT' is too long: 2 to 3 characters"
        ("segment", "7", 12, "PRF", None, None),  # 'PRF is out of sequence here; expected one of N2, N3, N4, REF'
        ("set", "4", 22, "SE", None, None),  # "SE01 says '25' segments but the set has 22 (ST through SE)"
    ],
    # synthetic: repetition separators inside non-repeating AK3/AK4 elements (noted)
    ("997/staedi_extra_delimiter.edi", 0): [
        ("element", "12", 4, "AK3", 2, None),  # "AK302 does not repeat but holds the repetition separator '^'"
        ("element", "12", 4, "AK3", 4, None),  # "AK304 does not repeat but holds the repetition separator '^'"
        ("element", "12", 5, "AK4", 4, None),  # "AK404 does not repeat but holds the repetition separator '^'"
    ],
    # two missing terminators merge REF+QTY and QTY+CTT
    ("other/846_oop_star_term.txt", 0): [
        ("element", "3", 13, "REF", 5, None),  # 'REF has 4 elements, found data in element 5'
        ("element", "5", 13, "REF", 4, 1),  # "REF04-1 '403.32' is too long: 2 to 3 characters"
        ("element", "1", 13, "REF", 4, 2),  # 'REF04-2 is mandatory'
        ("element", "5", 23, "QTY", 3, 1),  # "QTY03-1 'FTCTT' is too long: exactly 2 characters"
        ("element", "10", 23, "QTY", 4, None),  # 'only one of QTY02, QTY04 may be present (E0204)'
    ],
    # BCH06 holds 'PO DATE'; N1 has no terminator and swallows N3 (hence SE01 off by one)
    ("other/860_oop_short_isa.txt", 0): [
        ("element", "8", 2, "BCH", 6, None),  # "BCH06 'PO DATE' is not a valid date (CCYYMMDD)"
        ("element", "6", 4, "N1", 4, None),  # "N104 holds the control character '\\r'"
        ("element", "5", 4, "N1", 5, None),  # "N105 '123 THISRD' is too long: exactly 2 characters"
        ("element", "5", 4, "N1", 6, None),  # "N106 'SUITE11' is too long: 2 to 3 characters"
        ("set", "4", 9, "SE", None, None),  # "SE01 says '10' segments but the set has 9 (ST through SE)"
    ],
    # vendor demo data: N902 is 35 characters, at most 30 in 004010
    ("other/945_edifabric.txt", 0): [
        ("element", "5", 6, "N9", 2, None),  # "N902 'Temperature Recording Device Number' is too long: 1 to"
    ],
    # ST02/SE02 '0003100001' is 10 characters, at most 9
    ("other/945_oop_005010_bad_gs.txt", 0): [
        ("element", "5", 1, "ST", 2, None),  # "ST02 '0003100001' is too long: 4 to 9 characters"
        ("element", "5", 17, "SE", 2, None),  # "SE02 '0003100001' is too long: 4 to 9 characters"
    ],
    # N1*ST*CARGO LIMITED #112*92 has a qualifier without its code (N1 P0304)
    ("other/mixed_810_850_two_gs.edi", 2): [
        ("element", "2", 9, "N1", 4, None),  # 'N104 is required when N103 is present (P0304)'
    ],
}


def summary(finding: ValidationFinding) -> Expected:
    return (finding.level, finding.code, finding.position, finding.segment_id, finding.element, finding.component)


def findings_by_set(path: Path) -> list[tuple[str, list[ValidationFinding]]]:
    document = parse(path.read_bytes())
    return [
        (transaction_set.id, validate_transaction_set(transaction_set.segments, interchange.delimiters, group.version))
        for interchange in document.interchanges
        for group in interchange.groups
        for transaction_set in group.sets
    ]


@pytest.mark.corpus
def test_the_list_names_every_corpus_file(corpus: Path) -> None:
    on_disk = sorted(f"{p.parent.name}/{p.name}" for p in (corpus / "x12").glob("*/*"))
    assert on_disk == sorted(CORPUS_FILES)
    assert {file for file, _ in EXPECTED} <= set(CORPUS_FILES)


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file_has_exactly_its_expected_findings(corpus: Path, name: str) -> None:
    results = findings_by_set(corpus / "x12" / name)
    for index, (set_id, findings) in enumerate(results):
        assert all(f.code != "1" or f.level != "set" for f in findings), f"no spec for {set_id}"
        assert [summary(f) for f in findings] == EXPECTED.get((name, index), []), (index, [f.message for f in findings])
    assert all(index < len(results) for file, index in EXPECTED if file == name)


@pytest.mark.corpus
def test_every_order_document_set_in_the_corpus_is_validated(corpus: Path) -> None:
    counts: dict[str, int] = {}
    for name in CORPUS_FILES:
        for set_id, _ in findings_by_set(corpus / "x12" / name):
            counts[set_id] = counts.get(set_id, 0) + 1
    assert counts == {
        "810": 15, "846": 2, "850": 24, "855": 12, "856": 12, "860": 2, "940": 8, "945": 2, "997": 10,
    }  # fmt: skip


@pytest.mark.corpus
def test_walmart_po_with_a_trimmed_body_reports_the_declared_and_actual_count(corpus: Path) -> None:
    [(set_id, findings)] = findings_by_set(corpus / "x12" / "850" / "gozer_walmart_vics.txt")
    assert set_id == "850"
    [finding] = findings
    assert (finding.level, finding.code, finding.position) == ("set", "4", 21)
    assert finding.message == "SE01 says '33' segments but the set has 21 (ST through SE)"
