"""Property checks: any segment sequence is validated without crashing, with findings inside the set."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orderhub.x12 import Delimiters, Segment
from orderhub.x12._specs import default_library
from orderhub.x12._validator import validate_transaction_set

DELIMITERS = Delimiters(element="*", component=":", segment="~", repetition="^")


def all_segment_tags() -> list[str]:
    tags: set[str] = set()
    for set_id in default_library().set_ids:
        spec = default_library().spec_for(set_id, "004010")
        assert spec is not None
        tags.update(spec.segment_tags())
    return sorted(tags)


TAGS = all_segment_tags()
VALUES = st.one_of(
    st.sampled_from(
        ["", "00", "EA", "1", "20261120", "1200", "A:B", "X^Y", "-1.5", "PO-1", " ", "99999999999999999999"]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="*~"), max_size=12),
)
SEGMENTS = st.lists(
    st.builds(
        lambda tag, elements: (tag, elements), st.sampled_from([*TAGS, "ZZ9", "X"]), st.lists(VALUES, max_size=8)
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(
    set_id=st.sampled_from(default_library().set_ids),
    version=st.sampled_from(["003010", "004010", "005010"]),
    body=SEGMENTS,
    trailer=st.booleans(),
)
def test_any_sequence_validates_and_findings_point_inside_the_set(
    set_id: str, version: str, body: list[tuple[str, list[str]]], trailer: bool
) -> None:
    segments = [Segment("ST", [set_id, "0001"], 1, 1, 0)]
    segments += [Segment(tag, elements, i + 2, i + 2, 0) for i, (tag, elements) in enumerate(body)]
    if trailer:
        segments.append(Segment("SE", [str(len(segments) + 1), "0001"], len(segments) + 1, 1, 0))
    findings = validate_transaction_set(segments, DELIMITERS, version)
    for finding in findings:
        assert finding.message
        assert finding.position is None or 1 <= finding.position <= len(segments)
        assert finding.level in ("set", "segment", "element")
        if finding.level == "element":
            assert finding.element is not None and finding.element >= 1
    if trailer and not body:
        # ST immediately followed by SE: only mandatory-segment findings, all at the SE
        assert {f.code for f in findings} <= {"3"}
        assert all(f.position == 2 for f in findings)
