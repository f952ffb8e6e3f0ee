"""Every 850 of the corpus: what its 997/999 says of each group and set (AK9 / AK5 codes), and the
canonical orders of the accepted sets (id, lines, grand total, currency).

The rejections are the files SOURCES.md marks as broken or whose sets break the standard: gozer's
SE01 33 for 21 segments, stupidedi's 003010 SE01 off by one, edifabric's PO103 'INVALID', the
edinet files (a DTM run into the next segment, a repeated ST02, N402 'State'). Totals checked by
hand for several: aojuk 10.98 + 219 = 229.98 (AMT*TT agrees); PGW 5 x 5.09 + 12 x 63.11 + 2 x 8.02
+ 85.25 = 884.06 (AMT*TT agrees); VICS 13045.94 (AMT*1 agrees).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orderhub.mapping import MappingContext, builtin_mapping
from orderhub.mapping.x12 import map_interchange
from orderhub.x12 import parse
from orderhub.x12._acks import validate_group

pytestmark = pytest.mark.corpus

Acks = list[tuple[str, str, tuple[tuple[str, str], ...]]]  # (GS06, AK901, ((ST02, AK501), ...))
Orders = list[tuple[str, int, str, str]]  # (id, lines, grand total, currency)

VICS = ("4405197800:08292233294", 6, "13045.94", "USD")
EXPECTED: dict[str, tuple[Acks, Orders]] = {
    "ediengine_newline_term.edi": (
        [("1421", "A", (("000000010", "A"),))],
        [("ABCDEFGHIJKLMNO:08292233294", 6, "13045.94", "USD")],
    ),
    "ediengine_sln_composite.edi": (
        [("1421", "A", (("000000010", "A"),))],
        [("ABCDEFGHIJKLMNO:08292233294", 2, "4143.80", "USD")],
    ),
    "edifabric_two_po_bom.txt": (
        [("000000001", "P", (("0001", "A"), ("0002", "R")))],
        [("SENDER1:XX-1234", 1, "900", "USD")],
    ),
    "edinet_tab_indent_nbsp_isa.edi": ([("2", "R", (("0001", "R"),))], []),
    "edinet_tilde_component_2st.edi": ([("1", "R", (("0001", "R"), ("0001", "R")))], []),
    "gozer_walmart_vics.txt": ([("1421", "R", (("000000010", "R"),))], []),
    "nodex12_newline_term_min.edi": (
        [("10000774", "A", (("8830", "A"),))],
        [("0000000000:----------", 1, "225", "USD")],
    ),
    "nodex12_two_interchanges.edi": (
        [("1421", "A", (("000000010", "A"),)), ("1421", "A", (("000000010", "A"),))],
        [VICS, VICS],
    ),
    "nodex12_vics.edi": ([("1421", "A", (("000000010", "A"),))], [VICS]),
    "nodex12_vics_newline_term.edi": ([("1421", "A", (("000000010", "A"),))], [VICS]),
    "oop_adobe_clp_star_term.txt": (
        [("11464", "A", (("114640004", "A"),))],
        [("00000000:ANSI-X12-CLP", 2, "12", "USD")],
    ),
    "oop_adobe_shrinkwrap_space_term.txt": ([("4569", "A", (("891325", "A"),))], [("PARTNER:MH80312", 1, "12", "USD")]),
    "oop_adobe_tlp_tilde_elem.txt": ([("11464", "A", (("114640004", "A"),))], [("000000000:TLP-X12", 1, "12", "USD")]),
    "oop_aojuk.txt": ([("83", "A", (("0083", "A"),))], [("SITESTUFFP2P:6190", 2, "229.98", "USD")]),
    "oop_pgw_glass_pipe.txt": ([("245", "A", (("0001", "A"),))], [("828513080:S41000439", 4, "884.06", "USD")]),
    "stedi_005010_dropship.edi": (
        [("000000057", "A", (("000000057", "A"),))],
        [("ANOTHERMERCH:365465413", 2, "3700", "USD")],
    ),
    "stupidedi_003010_bang_term.edi": ([("1", "R", (("0001", "R"),))], []),
    "stupidedi_003050_wrapped_isa.edi": (
        [("1", "A", (("0001", "A"),))],
        [("054481205NPPT:NP00001234", 1, "3.63", "USD")],
    ),
    "stupidedi_x357_aero_basic.edi": (
        [("20213", "A", (("0001", "A"),))],
        [("123456789012345:508517", 1, "144", "USD")],
    ),
    "stupidedi_x357_aero_taxexempt.edi": (
        [("20213", "A", (("0001", "A"),))],
        [("123456789012345:XX-1234", 1, "900", "USD")],
    ),
}


# The Adobe samples declare AMT*TT*12 whatever their lines: the order keeps what was declared and says so.
MISMATCHES = {
    "oop_adobe_clp_star_term.txt": [("totals.grand_total", "declared 12, its parts add up to 317.50")],
    "oop_adobe_shrinkwrap_space_term.txt": [("totals.grand_total", "declared 12, its parts add up to 16499.45")],
    "oop_adobe_tlp_tilde_elem.txt": [("totals.grand_total", "declared 12, its parts add up to 665")],  # 1 x 665
}


def test_the_table_covers_every_850_of_the_corpus(corpus: Path) -> None:
    assert sorted(EXPECTED) == sorted(path.name for path in (corpus / "x12" / "850").iterdir())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_acknowledgment_codes_and_orders(corpus: Path, name: str) -> None:
    expected_acks, expected_orders = EXPECTED[name]
    data = (corpus / "x12" / "850" / name).read_bytes()
    acks = []
    for interchange in parse(data).interchanges:
        for group in interchange.groups:
            result = validate_group(group, interchange.delimiters)
            sets = tuple((s.control_number, s.acknowledgment_code) for s in result.sets)
            acks.append((group.control_number, result.acknowledgment_code, sets))
    assert acks == expected_acks
    ctx = MappingContext(
        connector="", account="", channel="x12", received_at=datetime(2026, 1, 1, tzinfo=UTC), raw_ref="x"
    )
    orders = map_interchange(data, builtin_mapping("x12-850"), ctx).orders
    assert [(o.id, len(o.lines), str(o.totals.grand_total.amount), o.currency) for o in orders] == expected_orders
    issues = [(issue.field, issue.message) for order in orders for issue in order.issues]
    assert issues == MISMATCHES.get(name, [])
