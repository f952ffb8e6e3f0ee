"""997 / 999 / TA1 content: exact segments for corpus purchase orders and for hand-built results."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from orderhub.x12 import Segment, parse
from orderhub.x12._acks import (
    DEFAULT_DELIMITERS,
    GroupResult,
    InterchangeParties,
    OutboundGroup,
    SetResult,
    acknowledge_interchange,
    build_997,
    build_999,
    build_acknowledgment,
    build_ta1,
    interchange_note_code,
    render_interchange,
    uses_999,
    validate_group,
)
from orderhub.x12._validator import ValidationFinding, validate_transaction_set

WHEN = datetime(2026, 11, 23, 8, 5)
PARTIES = InterchangeParties("ZZ", "ORDERHUB", "ZZ", "PARTNER", "ORDERHUB", "PARTNER")


def texts(segments: list[Segment]) -> list[str]:
    return ["*".join([s.tag, *s.elements]) for s in segments]


def corpus_acks(path: Path) -> list[list[str]]:
    """The acknowledgment of every group of a corpus file, control number 0001."""
    document = parse(path.read_bytes())
    return [
        texts(build_acknowledgment(validate_group(group, interchange.delimiters), "0001"))
        for interchange in document.interchanges
        for group in interchange.groups
    ]


# --- corpus purchase orders ----------------------------------------------------------------------


@pytest.mark.corpus
def test_clean_vics_po_is_accepted(corpus: Path) -> None:
    assert corpus_acks(corpus / "x12" / "850" / "nodex12_vics.edi") == [
        ["ST*997*0001", "AK1*PO*1421", "AK2*850*000000010", "AK5*A", "AK9*A*1*1*1", "SE*6*0001"]
    ]


@pytest.mark.corpus
def test_po_with_a_wrong_segment_count_is_rejected_with_ak502_4(corpus: Path) -> None:
    assert corpus_acks(corpus / "x12" / "850" / "gozer_walmart_vics.txt") == [
        ["ST*997*0001", "AK1*PO*1421", "AK2*850*000000010", "AK5*R*4", "AK9*R*1*1*0", "SE*6*0001"]
    ]


@pytest.mark.corpus
def test_group_with_one_bad_po_of_two_is_partially_accepted(corpus: Path) -> None:
    assert corpus_acks(corpus / "x12" / "850" / "edifabric_two_po_bom.txt") == [
        [
            "ST*997*0001",
            "AK1*IN*000000001",
            "AK2*850*0001",
            "AK5*A",
            "AK2*850*0002",
            "AK3*PO1*9*PO1*8",
            "AK4*3*355*5*INVALID",
            "AK5*R*5",
            "AK9*P*2*2*1",
            "SE*10*0001",
        ]
    ]


@pytest.mark.corpus
def test_element_error_inside_a_loop_names_the_loop(corpus: Path) -> None:
    assert corpus_acks(corpus / "x12" / "850" / "edinet_tab_indent_nbsp_isa.edi") == [
        [
            "ST*997*0001",
            "AK1*PO*2",
            "AK2*850*0001",
            "AK3*N4*22*N1*8",
            "AK4*2*156*5*State",
            "AK5*R*5",
            "AK9*R*1*1*0",
            "SE*8*0001",
        ]
    ]


@pytest.mark.corpus
def test_003010_po_gets_a_997(corpus: Path) -> None:
    assert corpus_acks(corpus / "x12" / "850" / "stupidedi_003010_bang_term.edi") == [
        ["ST*997*0001", "AK1*PO*1", "AK2*850*0001", "AK5*R*4", "AK9*R*1*1*0", "SE*6*0001"]
    ]


@pytest.mark.corpus
def test_005010_po_gets_a_999(corpus: Path) -> None:
    assert corpus_acks(corpus / "x12" / "850" / "stedi_005010_dropship.edi") == [
        [
            "ST*999*0001*005010X231A1",
            "AK1*OW*000000057*005010",
            "AK2*850*000000057",
            "IK5*A",
            "AK9*A*1*1*1",
            "SE*6*0001",
        ]
    ]


@pytest.mark.corpus
def test_each_interchange_of_a_file_gets_its_own_acknowledgment(corpus: Path) -> None:
    acks = corpus_acks(corpus / "x12" / "850" / "nodex12_two_interchanges.edi")
    assert len(acks) == 2
    assert all(ack[3:5] == ["AK5*A", "AK9*A*1*1*1"] for ack in acks)


@pytest.mark.corpus
def test_rendered_acknowledgment_reads_back_and_validates_as_a_997(corpus: Path) -> None:
    document = parse((corpus / "x12" / "850" / "edifabric_two_po_bom.txt").read_bytes())
    interchange = document.interchanges[0]
    [group] = interchange.groups
    ack = build_997(validate_group(group, interchange.delimiters), "0001")
    data = render_interchange(
        [OutboundGroup("004010", 7, [ack])],
        parties=PARTIES,
        delimiters=DEFAULT_DELIMITERS,
        interchange_control_number=42,
        when=WHEN,
        newline="\n",
    )
    assert data.decode("latin-1").splitlines() == [
        "ISA*00*          *00*          *ZZ*ORDERHUB       *ZZ*PARTNER        *261123*0805*U*00401*000000042*0*P*:~",
        "GS*FA*ORDERHUB*PARTNER*20261123*0805*7*X*004010~",
        "ST*997*0001~",
        "AK1*IN*000000001~",
        "AK2*850*0001~",
        "AK5*A~",
        "AK2*850*0002~",
        "AK3*PO1*9*PO1*8~",
        "AK4*3*355*5*INVALID~",
        "AK5*R*5~",
        "AK9*P*2*2*1~",
        "SE*10*0001~",
        "GE*1*7~",
        "IEA*1*000000042~",
    ]
    reread = parse(data)
    assert reread.findings == []
    [[ack_group]] = [i.groups for i in reread.interchanges]
    [ack_set] = ack_group.sets
    assert validate_transaction_set(ack_set.segments, reread.interchanges[0].delimiters, ack_group.version) == []


# --- hand-built results --------------------------------------------------------------------------


def element_error(position: int, element: int, code: str, **extra: object) -> ValidationFinding:
    values: dict[str, object] = {"segment_id": "N4", "loop_id": "N1", "reference": "156", "value": "TEXAS"}
    values.update(extra)
    return ValidationFinding(level="element", code=code, message="", position=position, element=element, **values)  # type: ignore[arg-type]


def test_segment_and_element_errors_become_ak3_and_ak4() -> None:
    missing = ValidationFinding(level="segment", code="3", message="", segment_id="BEG", position=2)
    bad_state = element_error(7, 2, "5")
    composite = element_error(9, 5, "6", segment_id="SLN", loop_id="SLN", reference="1018", value="X1", component=2)
    group = GroupResult("PO", "17", "004010", [SetResult("850", "0001", findings=(missing, bad_state, composite))])
    assert texts(build_997(group, "0009")) == [
        "ST*997*0009",
        "AK1*PO*17",
        "AK2*850*0001",
        "AK3*BEG*2**3",
        "AK3*N4*7*N1*8",
        "AK4*2*156*5*TEXAS",
        "AK3*SLN*9*SLN*8",
        "AK4*5:2*1018*6*X1",
        "AK5*R*5",
        "AK9*R*1*1*0",
        "SE*11*0009",
    ]


def test_999_uses_ik_segments_and_names_the_implementation_guide() -> None:
    repeated = element_error(
        4, 2, "12", segment_id="REF", loop_id="", reference="127", value="A^B", repetition=2, rejects=False
    )
    group = GroupResult(
        "PO", "17", "005010", [SetResult("850", "0001", "005010X000", findings=(repeated,)), SetResult("850", "0002")]
    )
    assert texts(build_999(group, "0009")) == [
        "ST*999*0009*005010X231A1",
        "AK1*PO*17*005010",
        "AK2*850*0001*005010X000",
        "IK3*REF*4**8",
        "IK4*2::2*127*12*AB",
        "IK5*E*5",
        "AK2*850*0002",
        "IK5*A",
        "AK9*E*2*2*2",
        "SE*10*0009",
    ]


def test_set_level_codes_come_first_in_ak5() -> None:
    count = ValidationFinding(level="set", code="4", message="", segment_id="SE", position=5)
    control = ValidationFinding(level="set", code="3", message="", segment_id="SE", position=5)
    group = GroupResult(
        "PO", "17", "004010", [SetResult("850", "0001", findings=(count, control, element_error(3, 2, "5")))]
    )
    assert texts(build_997(group, "1"))[-3:-1] == ["AK5*R*4*3*5", "AK9*R*1*1*0"]


def test_group_level_count_mismatch_is_reported_in_ak905() -> None:
    group = GroupResult("PO", "17", "004010", [SetResult("850", "0001")], declared_set_count="2", group_errors=("5",))
    assert texts(build_997(group, "1"))[-2] == "AK9*E*2*1*1*5"


def test_unsupported_group_is_rejected() -> None:
    group = GroupResult("ZZ", "17", "004010", [SetResult("850", "0001")], group_errors=("1",))
    assert group.acknowledgment_code == "R"


def test_copy_of_bad_data_drops_delimiters_and_is_at_most_99_characters() -> None:
    long_value = "A*B~C:D" + "x" * 200
    group = GroupResult(
        "PO", "1", "004010", [SetResult("850", "0001", findings=(element_error(3, 2, "5", value=long_value),))]
    )
    ak4 = next(s for s in build_997(group, "1") if s.tag == "AK4")
    assert ak4.elements[3] == ("ABCD" + "x" * 200)[:99]


def test_version_decides_between_997_and_999() -> None:
    assert [uses_999(v) for v in ("003010", "004010", "004010VICS", "004060", "005010", "005010X222A1", "21")] == [
        False, False, False, False, True, True, False,
    ]  # fmt: skip


def test_ta1_echoes_the_interchange_header() -> None:
    isa = Segment(
        "ISA",
        ["00", "", "00", "", "ZZ", "A", "ZZ", "B", "261120", "1215", "U", "00401", "000000091", "1", "P", ">"],
        1,
        1,
        0,
    )
    assert texts([build_ta1(isa)]) == ["TA1*000000091*261120*1215*A*000"]
    assert texts([build_ta1(isa, "023")]) == ["TA1*000000091*261120*1215*R*023"]
    assert texts([build_ta1(isa, "006", "E")]) == ["TA1*000000091*261120*1215*E*006"]


def test_interchange_with_only_a_ta1_has_no_group() -> None:
    isa = Segment(
        "ISA",
        ["00", "", "00", "", "ZZ", "A", "ZZ", "B", "261120", "1215", "U", "00401", "000000091", "1", "P", ">"],
        1,
        1,
        0,
    )
    data = render_interchange(
        [],
        parties=PARTIES,
        delimiters=DEFAULT_DELIMITERS,
        interchange_control_number=5,
        when=WHEN,
        ta1=build_ta1(isa, "023"),
    )
    text = data.decode("latin-1")
    assert text.index("TA1") == 106
    assert text[106:] == "TA1*000000091*261120*1215*R*023~IEA*0*000000005~"


def test_999_interchange_is_00501_with_the_repetition_separator() -> None:
    group = GroupResult("PO", "17", "005010", [SetResult("850", "0001")])
    data = render_interchange(
        [OutboundGroup("005010X231A1", 1, [build_999(group, "0001")])],
        parties=PARTIES,
        delimiters=DEFAULT_DELIMITERS,
        interchange_control_number=1,
        when=WHEN,
    ).decode("latin-1")
    isa = data[:106]
    assert isa.endswith("*^*00501*000000001*0*P*:~")
    assert data[106:].startswith("GS*FA*ORDERHUB*PARTNER*20261123*0805*1*X*005010X231A1~ST*999*0001*005010X231A1~")


# --- a whole received interchange ---------------------------------------------------------------


def acknowledge(data: bytes) -> list[str]:
    document = parse(data)
    [interchange] = document.interchanges
    return (
        acknowledge_interchange(
            interchange,
            interchange_control_number=100,
            group_control_number=200,
            set_control_number=1,
            when=WHEN,
            findings=document.findings,
            newline="\n",
        )
        .decode("latin-1")
        .splitlines()
    )


@pytest.mark.corpus
def test_two_groups_of_one_interchange_get_two_997s_in_one_fa_group(corpus: Path) -> None:
    assert acknowledge((corpus / "x12" / "other" / "mixed_810_850_two_gs.edi").read_bytes()) == [
        "ISA*00*          *00*          *ZZ*RECEIVERISA    *ZZ*SENDERISA      *261123*0805*U*00401*000000100*0*T*:~",
        "GS*FA*007326879*SENDERDEPT*20261123*0805*200*X*004010~",
        "ST*997*0001~",
        "AK1*IN*1~",
        "AK2*810*000000001~",
        "AK5*A~",
        "AK2*810*000000002~",
        "AK5*A~",
        "AK9*A*2*2*2~",
        "SE*8*0001~",
        "ST*997*0002~",
        "AK1*PO*165~",
        "AK2*850*000191240~",
        "AK3*N1*9*N1*8~",
        "AK4*4*67*2~",
        "AK5*R*5~",
        "AK9*R*1*1*0~",
        "SE*8*0002~",
        "GE*2*200~",
        "IEA*1*000000100~",
    ]


@pytest.mark.corpus
def test_interchange_asking_for_a_ta1_gets_one_before_its_997(corpus: Path) -> None:
    lines = acknowledge((corpus / "x12" / "856" / "oop_003060_group.txt").read_bytes())
    assert lines[1] == "TA1*000000001*010420*1312*A*000~"
    assert lines[2] == "GS*FA*987654321*123456789*20261123*0805*200*X*004010~"
    assert lines[6:10] == ["AK3*BSN*2**8~", "AK4*2*396*1~", "AK3*TD1*8*HL*8~", "AK4*1*103*5* BIN52~"]
    assert lines[-5:-3] == ["AK5*R*5~", "AK9*R*1*1*0~"]


@pytest.mark.corpus
def test_005010_interchange_gets_a_999_in_an_00501_envelope(corpus: Path) -> None:
    lines = acknowledge((corpus / "x12" / "855" / "stedi_005010_dropship_ack.edi").read_bytes())
    assert lines[0].endswith("*^*00501*000000100*0*T*:~")
    assert lines[1:] == [
        "GS*FA*MYAPPID*ANOTAPPID*20261123*0805*200*X*005010X231A1~",
        "ST*999*0001*005010X231A1~",
        "AK1*PR*000001746*005010~",
        "AK2*855*0001~",
        "IK5*A~",
        "AK9*A*1*1*1~",
        "SE*6*0001~",
        "GE*1*200~",
        "IEA*1*000000100~",
    ]


def test_interchange_error_goes_into_the_ta1_note_code() -> None:
    received = (
        "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *261120*1200*U*00401*000000051*1*T*>~"
        "GS*PO*BUYER*SELLER*20261120*1200*51*X*004010~ST*850*0001~BEG*00*SA*PO-1**20261120~"
        "PO1*1*2*EA*9.95**VP*SKU-1~CTT*1~SE*5*0001~GE*1*51~IEA*1*000000052~"
    )
    lines = acknowledge(received.encode("latin-1"))
    assert lines[1] == "TA1*000000051*261120*1200*E*001~"  # 001: ISA13 and IEA02 differ
    assert lines[2:] == [
        "GS*FA*SELLER*BUYER*20261123*0805*200*X*004010~",
        "ST*997*0001~",
        "AK1*PO*51~",
        "AK2*850*0001~",
        "AK5*A~",
        "AK9*A*1*1*1~",
        "SE*6*0001~",
        "GE*1*200~",
        "IEA*1*000000100~",
    ]


@pytest.mark.corpus
def test_group_with_a_malformed_version_is_rejected_as_a_whole(corpus: Path) -> None:
    # The GS has an extra element, so GS08 reads "21" and GS06 / GE02 disagree: AK905 2 and 4.
    lines = acknowledge((corpus / "x12" / "other" / "945_oop_005010_bad_gs.txt").read_bytes())
    assert lines[1:] == [
        "GS*FA*9393939394*513*20261123*0805*200*X*004010~",
        "ST*997*0001~",
        "AK1*SW*20021104~",
        "AK9*R*1*1*0*2*4~",
        "SE*4*0001~",
        "GE*1*200~",
        "IEA*1*000000100~",
    ]


def test_group_rejected_as_a_whole_lists_no_sets() -> None:
    group = GroupResult("PO", "17", "4010", [SetResult("850", "0001")], group_errors=("2",))
    assert texts(build_997(group, "1")) == ["ST*997*1", "AK1*PO*17", "AK9*R*1*1*0*2", "SE*4*1"]


def test_ta1_note_code_only_counts_findings_inside_its_own_interchange() -> None:
    def interchange(control: str, trailer_control: str) -> str:
        return (
            "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         "
            f"*261120*1200*U*00401*{control}*1*P*>~"
            "GS*PO*BUYER*SELLER*20261120*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO-1**20261120~"
            f"PO1*1*2*EA*9.95**VP*SKU-1~CTT*1~SE*5*0001~GE*1*1~IEA*1*{trailer_control}~"
        )

    document = parse((interchange("000000001", "000000001") + interchange("000000002", "000000009")).encode())
    first, second = document.interchanges
    assert interchange_note_code(first, document.findings) == "000"
    assert interchange_note_code(second, document.findings) == "001"


@pytest.mark.corpus
def test_repeated_set_control_number_in_a_group_rejects_the_later_set(corpus: Path) -> None:
    # Both POs of this partner file carry ST02 0001; the first also lost a terminator (see test_corpus).
    [ack] = corpus_acks(corpus / "x12" / "850" / "edinet_tilde_component_2st.edi")
    trailers = [line for line in ack if line.startswith(("AK2", "AK5", "AK9"))]
    assert trailers == ["AK2*850*0001", "AK5*R*4*5", "AK2*850*0001", "AK5*R*23", "AK9*R*2*2*0"]


@pytest.mark.corpus
def test_wrong_ge01_is_reported_in_ak905(corpus: Path) -> None:
    # GE*2 closes a group holding one 855: the set is fine, the group is accepted with errors.
    [ack] = corpus_acks(corpus / "x12" / "855" / "edifabric_poack_bom.txt")
    assert ack[-3:] == ["AK5*A", "AK9*E*2*1*1*5", "SE*6*0001"]
