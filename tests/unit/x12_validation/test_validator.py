"""The validator on small hand-written sets: each broken set yields exactly one, exactly placed finding."""

from __future__ import annotations

import pytest

from orderhub.x12 import Delimiters
from orderhub.x12._validator import ValidationFinding, validate_transaction_set

from .helpers import DELIMITERS, PO_FOOTER, PO_HEADER, PO_LINE, purchase_order, segments, transaction_set

Summary = tuple[str, str, int | None, str, str, int | None, int | None]


def summary(finding: ValidationFinding) -> Summary:
    return (
        finding.level,
        finding.code,
        finding.position,
        finding.segment_id,
        finding.loop_id,
        finding.element,
        finding.component,
    )


def only(findings: list[ValidationFinding]) -> Summary:
    assert len(findings) == 1, [f.message for f in findings]
    return summary(findings[0])


def test_a_clean_purchase_order_has_no_findings() -> None:
    po = purchase_order(
        "CUR*BY*USD~REF*DP*038~PER*BD*JANE*TE*5551234~DTM*002*20261201~"
        "N1*ST*STORE 1*92*0001~N3*1 MAIN ST~N4*AUSTIN*TX*78759*US~"
    )
    assert validate_transaction_set(po, DELIMITERS, "004010") == []


def test_a_clean_ship_notice_with_its_hierarchy_has_no_findings() -> None:
    asn = transaction_set(
        "856",
        "BSN*00*SHIP-1*20261120*1200~HL*1**S~TD5*B*2*UPSN~N1*ST*STORE*92*01~HL*2*1*O~PRF*PO-1~"
        "HL*3*2*P~MAN*GM*00012345678901234567~HL*4*3*I~LIN**UP*012345678905~SN1**2*EA~CTT*4~",
    )
    assert validate_transaction_set(asn, DELIMITERS, "004010") == []


# --- segment-level codes (AK304 / IK304) ----------------------------------------------------------


def test_unrecognized_segment_id_is_code_1() -> None:
    po = purchase_order("ZZZ*1~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("segment", "1", 3, "ZZZ", "", None, None)


def test_segment_only_reachable_through_an_unstarted_loop_is_code_2() -> None:
    ack = transaction_set("997", "AK1*PO*17~AK3*BEG*2**8~AK9*A*1*1*1~")
    assert only(validate_transaction_set(ack, DELIMITERS, "004010")) == ("segment", "2", 3, "AK3", "", None, None)


def test_missing_mandatory_segment_is_code_3_at_the_position_where_it_was_expected() -> None:
    po = transaction_set("850", PO_LINE + PO_FOOTER)
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("segment", "3", 2, "BEG", "", None, None)


def test_missing_mandatory_loop_is_code_3_naming_its_trigger() -> None:
    po = transaction_set("850", PO_HEADER + PO_FOOTER)
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("segment", "3", 3, "PO1", "PO1", None, None)


def test_loop_over_its_maximum_is_code_4() -> None:
    po = purchase_order(footer="CTT*1~CTT*1~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("segment", "4", 5, "CTT", "CTT", None, None)


def test_segment_over_its_maximum_use_is_code_5() -> None:
    po = purchase_order("CUR*BY*USD~CUR*BY*CAD~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("segment", "5", 4, "CUR", "", None, None)


def test_segment_of_another_transaction_set_is_code_6() -> None:
    po = purchase_order("BSN*00*SHIP-1*20261120*1200~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("segment", "6", 3, "BSN", "", None, None)


def test_heading_segment_after_the_detail_is_code_7() -> None:
    po = purchase_order(lines=PO_LINE + "BEG*00*SA*PO-2**20261120~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("segment", "7", 4, "BEG", "PO1", None, None)


def test_segment_inside_a_loop_reports_that_loop() -> None:
    po = purchase_order("N1*ST*STORE*92*01~N4*A~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "4", 4, "N4", "N1", 1, None)


# --- element-level codes (AK403 / IK403) ----------------------------------------------------------


def test_mandatory_element_missing_is_code_1() -> None:
    po = purchase_order(header="BEG*00**PO-1**20261120~")
    finding = validate_transaction_set(po, DELIMITERS, "004010")
    assert only(finding) == ("element", "1", 2, "BEG", "", 2, None)
    assert finding[0].reference == "92"


def test_paired_element_missing_is_code_2_on_the_missing_one() -> None:
    po = purchase_order("PER*BD*JANE*TE~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "2", 3, "PER", "", 4, None)


def test_required_one_of_missing_is_code_2_on_the_first_position() -> None:
    po = purchase_order("REF*DP~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "2", 3, "REF", "", 2, None)


def test_too_many_elements_is_code_3_at_the_first_extra_one() -> None:
    po = purchase_order("N1*ST*STORE~N3*1 MAIN ST*SUITE 2*EXTRA~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "3", 4, "N3", "N1", 3, None)


def test_too_short_is_code_4() -> None:
    po = transaction_set("850", PO_HEADER + PO_LINE + PO_FOOTER, control="001")  # ST02 / SE02 are 4 to 9 characters
    findings = validate_transaction_set(po, DELIMITERS, "004010")
    assert [summary(f) for f in findings] == [
        ("element", "4", 1, "ST", "", 2, None),
        ("element", "4", 5, "SE", "", 2, None),
    ]


def test_too_long_is_code_5() -> None:
    po = purchase_order("N1*ST*STORE~N4*AUSTIN*TEXAS~")
    finding = validate_transaction_set(po, DELIMITERS, "004010")
    assert only(finding) == ("element", "5", 4, "N4", "N1", 2, None)
    assert finding[0].value == "TEXAS"


def test_letter_in_a_decimal_is_code_6() -> None:
    po = purchase_order(lines="PO1*1*2O*EA*9.95**VP*SKU-1~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "6", 3, "PO1", "PO1", 2, None)


def test_control_character_in_text_is_code_6() -> None:
    po = purchase_order("N1*ST*STO\x07RE~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "6", 3, "N1", "N1", 2, None)


def test_code_outside_the_list_is_code_7() -> None:
    po = purchase_order(header="BEG*99*SA*PO-1**20261120~")
    finding = validate_transaction_set(po, DELIMITERS, "004010")
    assert only(finding) == ("element", "7", 2, "BEG", "", 1, None)
    assert finding[0].rejects


def test_unit_of_measure_outside_the_partial_list_is_noted_without_rejecting() -> None:
    po = purchase_order(lines="PO1*1*2*QQ*9.95**VP*SKU-1~")
    finding = validate_transaction_set(po, DELIMITERS, "004010")
    assert only(finding) == ("element", "7", 3, "PO1", "PO1", 3, None)
    assert not finding[0].rejects


def test_impossible_date_is_code_8() -> None:
    po = purchase_order(header="BEG*00*SA*PO-1**20261301~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "8", 2, "BEG", "", 5, None)


def test_six_digit_date_is_code_8_in_004010_but_valid_in_003010() -> None:
    po = purchase_order(header="BEG*00*SA*PO-1**261120~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "8", 2, "BEG", "", 5, None)
    assert validate_transaction_set(po, DELIMITERS, "003010") == []


def test_impossible_time_is_code_9() -> None:
    po = purchase_order("DTM*002*20261201*2561~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "9", 3, "DTM", "", 3, None)


def test_both_of_an_exclusive_pair_is_code_10() -> None:
    po = purchase_order(lines=PO_LINE + "QTY*01*5**LOOSE~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "10", 4, "QTY", "QTY", 4, None)


def test_repetition_separator_in_a_simple_element_is_code_12_and_only_noted() -> None:
    delimiters = Delimiters(element="*", component=":", segment="~", repetition="^")
    po = purchase_order("REF*DP*038^039~")
    finding = validate_transaction_set(po, delimiters, "005010")
    assert only(finding) == ("element", "12", 3, "REF", "", 2, None)
    assert finding[0].repetition == 2
    assert not finding[0].rejects


def test_component_separator_in_a_simple_element_is_code_13() -> None:
    po = purchase_order(lines="PO1*1*2*EA:X*9.95**VP*SKU-1~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "13", 3, "PO1", "PO1", 3, 2)


def test_composite_with_too_many_components_is_code_13() -> None:
    measure = ":".join(["EA"] + ["1"] * 15)
    po = purchase_order(lines=PO_LINE + f"MEA*PD*G**{measure}~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("element", "13", 4, "MEA", "PO1", 4, 16)


def test_bad_component_is_placed_by_element_and_component() -> None:
    po = purchase_order(lines=PO_LINE + "SLN*1**I*2*PC:X1*9.95~")
    finding = validate_transaction_set(po, DELIMITERS, "004010")
    assert only(finding) == ("element", "6", 4, "SLN", "SLN", 5, 2)
    assert finding[0].reference == "1018"


# --- set-level codes (AK502 / IK502) ----------------------------------------------------------------


def test_wrong_segment_count_is_set_code_4() -> None:
    po = transaction_set("850", PO_HEADER + PO_LINE + PO_FOOTER, count=7)
    finding = validate_transaction_set(po, DELIMITERS, "004010")
    assert only(finding) == ("set", "4", 5, "SE", "", None, None)
    assert "SE01 says '7'" in finding[0].message


def test_mismatched_control_number_is_set_code_3() -> None:
    po = segments(f"ST*850*0001~{PO_HEADER}{PO_LINE}{PO_FOOTER}SE*5*0002~")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("set", "3", 5, "SE", "", None, None)


def test_missing_trailer_is_set_code_2() -> None:
    po = segments(f"ST*850*0001~{PO_HEADER}{PO_LINE}{PO_FOOTER}")
    assert only(validate_transaction_set(po, DELIMITERS, "004010")) == ("set", "2", None, "CTT", "", None, None)


def test_set_without_a_spec_is_set_code_1() -> None:
    unknown = transaction_set("830", "BFR*00*1~")
    assert only(validate_transaction_set(unknown, DELIMITERS, "004010")) == ("set", "1", 1, "ST", "", None, None)


def test_a_set_must_start_with_st() -> None:
    with pytest.raises(ValueError, match="starts with ST"):
        validate_transaction_set(segments("BEG*00*SA*1**20261120~"), DELIMITERS, "004010")


# --- versions -----------------------------------------------------------------------------------


def test_later_releases_accept_elements_appended_after_004010() -> None:
    po = purchase_order("N1*ST*STORE~N3*1 MAIN ST*SUITE 2*EXTRA~")
    assert validate_transaction_set(po, DELIMITERS, "005010") == []


def test_earlier_releases_know_the_century_element_of_dtm() -> None:
    po = purchase_order("DTM*002*261201***20~")
    assert validate_transaction_set(po, DELIMITERS, "003050") == []
    # read as 004010, DTM05 is a period format qualifier without its period, and the date lacks a century
    findings = validate_transaction_set(po, DELIMITERS, "004010")
    assert [(f.code, f.element) for f in findings] == [("8", 2), ("2", 6)]


def test_a_variant_of_004010_uses_the_base_spec() -> None:
    po = purchase_order()
    assert validate_transaction_set(po, DELIMITERS, "004010VICS") == []
    assert validate_transaction_set(po, DELIMITERS, "004010X357") == []


def test_acknowledgment_sets_are_validated_too() -> None:
    ack997 = transaction_set("997", "AK1*PO*17~AK2*850*0001~AK3*N4*7*N1*8~AK4*2*156*5*TEXAS~AK5*R*5~AK9*R*1*1*0~")
    assert validate_transaction_set(ack997, DELIMITERS, "004010") == []
    ack999 = transaction_set("999", "AK1*PO*17*005010~AK2*850*0001~IK3*N4*7*N1*8~IK4*2*156*5~IK5*R*5~AK9*R*1*1*0~")
    assert validate_transaction_set(ack999, DELIMITERS, "005010X231A1") == []
    bad = transaction_set("997", "AK1*PO*17~AK2*850*0001~AK5*Q~AK9*A*1*1*1~")
    assert only(validate_transaction_set(bad, DELIMITERS, "004010")) == ("element", "7", 4, "AK5", "AK2", 1, None)


# --- messages say what was expected ------------------------------------------------------------


def test_messages_say_what_was_expected() -> None:
    po = purchase_order(
        "N1*ST*STORE~N4*AUSTIN*TEXAS~",
        header="BEG*99*SA*PO-1**20261120~",
        lines=PO_LINE + "BEG*00*SA*PO-2**20261120~",
    )
    messages = [f.message for f in validate_transaction_set(po, DELIMITERS, "004010")]
    assert messages == [
        "BEG01 '99' is not a valid code for Transaction Set Purpose Code; "
        "expected 00, 01, 02, 03, 04, 05, 06, 07, 08, 10, 11, 12 ... (64 codes)",
        "N402 'TEXAS' is too long: exactly 2 characters",
        "BEG is out of sequence here; expected one of LIN, SI, CUR, CN1, PO3, CTP, PAM, MEA, ...",
    ]


def test_missing_segment_message_names_what_followed() -> None:
    po = transaction_set("850", PO_LINE + PO_FOOTER)
    [finding] = validate_transaction_set(po, DELIMITERS, "004010")
    assert finding.message == "mandatory segment BEG is missing before PO1 (set position 2)"


def test_finding_as_json_carries_every_position() -> None:
    po = purchase_order(lines=PO_LINE + "SLN*1**I*2*PC:X1*9.95~")
    [finding] = validate_transaction_set(po, DELIMITERS, "004010")
    assert finding.to_json() == {
        "level": "element",
        "code": "6",
        "code_source": "AK4",
        "message": "SLN05-2 'X1' is not a decimal number",
        "segment": "SLN",
        "position": 4,
        "loop": "SLN",
        "element": 5,
        "component": 2,
        "repetition": None,
        "reference": "1018",
        "value": "X1",
        "line": 4,
        "ordinal": 4,
        "rejects": True,
    }


def test_purchase_order_type_outside_the_partial_list_is_noted_without_rejecting() -> None:
    po = purchase_order(header="BEG*00*Q9*PO-1**20261120~")
    [finding] = validate_transaction_set(po, DELIMITERS, "004010")
    assert summary(finding) == ("element", "7", 2, "BEG", "", 2, None)
    assert not finding.rejects


def test_invoice_summary_tax_without_its_type_is_code_1() -> None:
    invoice = transaction_set("810", "BIG*20261120*INV-1~IT1*1*2*EA*9.95**VP*SKU-1~TDS*1990~TXI**1.50~CTT*1~")
    assert only(validate_transaction_set(invoice, DELIMITERS, "004010")) == ("element", "1", 5, "TXI", "", 1, None)
