"""Cross-check: pyx12 (an independent X12 validator) accepts the 997 and 999 interchanges we write.

pyx12 ships only the HIPAA acknowledgment maps, whose AK101 / AK201 code lists allow health-care
groups and sets only. So the acknowledged group is presented as an HC group of 837s, while its
AK3/AK4/AK5/AK9 content comes from real validation findings (two corpus purchase orders, one bad).
"""

from __future__ import annotations

import dataclasses
import io
import logging
from datetime import datetime
from pathlib import Path

import pytest
from pyx12 import params, x12n_document

from orderhub.x12 import parse
from orderhub.x12._acks import (
    DEFAULT_DELIMITERS,
    GroupResult,
    InterchangeParties,
    OutboundGroup,
    build_997,
    build_999,
    render_interchange,
    validate_group,
)

PARTIES = InterchangeParties("ZZ", "ORDERHUB", "ZZ", "PARTNER", "ORDERHUB", "PARTNER")


def as_health_care_group(group: GroupResult) -> GroupResult:
    sets = [dataclasses.replace(s, set_id="837") for s in group.sets]
    return dataclasses.replace(group, functional_id="HC", sets=sets)


def pyx12_errors(data: bytes, caplog: pytest.LogCaptureFixture) -> tuple[bool, list[str]]:
    with caplog.at_level(logging.INFO):
        caplog.clear()
        valid = x12n_document.x12n_document(
            param=params.params(), src_file=io.StringIO(data.decode("latin-1")), fd_997=None, fd_html=None
        )
    return valid, [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def group_with_one_bad_set(corpus: Path) -> GroupResult:
    document = parse((corpus / "x12" / "850" / "edifabric_two_po_bom.txt").read_bytes())
    interchange = document.interchanges[0]
    return as_health_care_group(validate_group(interchange.groups[0], interchange.delimiters))


@pytest.mark.corpus
def test_pyx12_accepts_our_997(group_with_one_bad_set: GroupResult, caplog: pytest.LogCaptureFixture) -> None:
    ack = build_997(group_with_one_bad_set, "0001")
    assert [s.tag for s in ack] == ["ST", "AK1", "AK2", "AK5", "AK2", "AK3", "AK4", "AK5", "AK9", "SE"]
    data = render_interchange(
        [OutboundGroup("004010X098A1", 3, [ack])],
        parties=PARTIES,
        delimiters=DEFAULT_DELIMITERS,
        interchange_control_number=3,
        when=datetime(2026, 11, 23, 8, 0),
        newline="\n",
    )
    assert pyx12_errors(data, caplog) == (True, [])


@pytest.mark.corpus
def test_pyx12_accepts_our_999(group_with_one_bad_set: GroupResult, caplog: pytest.LogCaptureFixture) -> None:
    group = dataclasses.replace(group_with_one_bad_set, version="005010X222A1")
    ack = build_999(group, "0001")
    assert [s.tag for s in ack] == ["ST", "AK1", "AK2", "IK5", "AK2", "IK3", "IK4", "IK5", "AK9", "SE"]
    data = render_interchange(
        [OutboundGroup("005010X231A1", 3, [ack])],
        parties=PARTIES,
        delimiters=DEFAULT_DELIMITERS,
        interchange_control_number=3,
        when=datetime(2026, 11, 23, 8, 0),
        newline="\n",
    )
    assert pyx12_errors(data, caplog) == (True, [])


@pytest.mark.corpus
def test_pyx12_rejects_a_997_with_a_wrong_segment_count(
    group_with_one_bad_set: GroupResult, caplog: pytest.LogCaptureFixture
) -> None:
    ack = build_997(group_with_one_bad_set, "0001")
    ack[-1].elements[0] = "11"  # the cross-check would notice a wrong SE01
    data = render_interchange(
        [OutboundGroup("004010X098A1", 3, [ack])],
        parties=PARTIES,
        delimiters=DEFAULT_DELIMITERS,
        interchange_control_number=3,
        when=datetime(2026, 11, 23, 8, 0),
    )
    valid, errors = pyx12_errors(data, caplog)
    assert not valid
    assert any("SE count of 11" in error for error in errors), errors


@pytest.mark.corpus
def test_pyx12_and_our_997_spec_agree_on_a_corpus_997(corpus: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = corpus / "x12" / "997" / "pyx12_reject_ak3_ak4.edi"
    assert pyx12_errors(path.read_bytes(), caplog) == (True, [])
    document = parse(path.read_bytes())
    [interchange] = document.interchanges
    result = validate_group(interchange.groups[0], interchange.delimiters)
    assert [(s.set_id, list(s.findings)) for s in result.sets] == [("997", [])]
    assert result.group_errors == ()
