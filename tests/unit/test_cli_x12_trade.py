"""`orderhub x12 validate | ack | to-orders` on corpus files, through the real command line entry point."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from orderhub.cli import main

pytestmark = pytest.mark.corpus


def test_validate_a_good_file_exits_0(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["x12", "validate", str(corpus / "x12/850/nodex12_vics.edi")]) == 0
    assert capsys.readouterr().err.strip().endswith("nodex12_vics.edi: no errors")


def test_validate_names_line_set_segment_element_and_code(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus / "x12/850/edifabric_two_po_bom.txt"
    assert main(["x12", "validate", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        f"{path}:26: set 0002 segment 9 (PO1) element 3: PO103 'INVALID' is too long: exactly 2 characters [AK4 code 5]"
    )
    [finding] = orjson.loads(captured.out)
    assert (finding["set_control"], finding["segment"], finding["position"], finding["element"]) == (
        "0002",
        "PO1",
        9,
        3,
    )
    assert (finding["code_source"], finding["code"], finding["value"]) == ("AK4", "5", "INVALID")


def test_ack_prints_the_997_with_preview_control_numbers(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["x12", "ack", str(corpus / "x12/850/edifabric_two_po_bom.txt")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"ISA\*00\*          \*00\*          \*14\*RECEIVER1      \*16\*SENDER1        "
        r"\*\d{6}\*\d{4}\*U\*00401\*000000001\*0\*T\*>~",
        lines[0],
    )
    assert lines[1] == "TA1*000000263*071216*1406*A*000~"  # ISA14 = 1 asked for one
    assert re.fullmatch(r"GS\*FA\*RECEIVER1\*SENDER1\*\d{8}\*\d{4}\*1\*X\*004010~", lines[2])
    assert lines[3:] == [
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
        "GE*1*1~",
        "IEA*1*000000001~",
    ]


def test_to_orders_prints_the_accepted_orders_and_exits_1_for_the_rejected_set(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = corpus / "x12/850/edifabric_two_po_bom.txt"
    assert main(["x12", "to-orders", str(path), "--account", "aero"]) == 1
    captured = capsys.readouterr()
    orders = orjson.loads(captured.out)
    assert [(o["id"], o["totals"]["grand_total"]["amount"]) for o in orders] == [("aero:XX-1234", "900")]
    assert "set 0002: rejected, no order: segment 9 (PO1): PO103 'INVALID' is too long" in captured.err


def test_to_orders_of_a_clean_file_exits_0(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["x12", "to-orders", str(corpus / "x12/850/stedi_005010_dropship.edi")]) == 0
    [order] = orjson.loads(capsys.readouterr().out)
    assert order["id"] == "ANOTHERMERCH:365465413"
    assert order["source"]["connector"] == "ANOTHERMERCH"


def test_unreadable_x12_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "po.edi"
    bad.write_bytes(b"GS*PO*A*B*20260101*1200*1*X*004010~")
    assert main(["x12", "validate", str(bad)]) == 1
    assert capsys.readouterr().err.startswith(f"{bad}:")


def partner_config(tmp_path: Path) -> str:
    (tmp_path / "partners").mkdir()
    (tmp_path / "partners" / "vics.yaml").write_text(
        "id: vics\nname: VICS buyer\nisa: {qualifier: '12', id: '4405197800'}\nus: {qualifier: '01', id: '999999999'}\n"
        "gs: {partner_id: '4405197800', our_id: '999999999'}\ntimezone: America/Chicago\ncurrency: CAD\n"
        "sku_xref: {'065322-117': SMALL-OURS}\nacks: {ta1: true}\n",
        encoding="utf-8",
    )
    config = tmp_path / "orderhub.yaml"
    config.write_text("partners_dir: ./partners\n", encoding="utf-8")
    return str(config)


def test_to_orders_with_a_partner_profile(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = partner_config(tmp_path)
    path = str(corpus / "x12/850/nodex12_vics.edi")
    assert main(["x12", "to-orders", path, "--partner", "vics", "--config", config]) == 0
    [order] = orjson.loads(capsys.readouterr().out)
    assert order["id"] == "vics:08292233294"
    assert order["currency"] == "CAD"
    assert order["placed_at"] == "2010-11-27T23:19:00Z"  # 17:19 in Chicago (CST, UTC-6)
    assert order["lines"][0]["sku"] == "SMALL-OURS"


def test_ack_with_a_partner_that_wants_ta1(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = partner_config(tmp_path)
    path = str(corpus / "x12/850/nodex12_vics.edi")  # ISA14 0: no TA1 asked for in the file itself
    assert main(["x12", "ack", path, "--config", config]) == 0
    assert "TA1*" not in capsys.readouterr().out
    assert main(["x12", "ack", path, "--partner", "vics", "--config", config]) == 0
    assert "\nTA1*000003438*101127*1719*A*000~\n" in capsys.readouterr().out


def test_an_unknown_partner_is_a_clear_error(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = partner_config(tmp_path)
    path = str(corpus / "x12/850/nodex12_vics.edi")
    assert main(["x12", "validate", path, "--partner", "nope", "--config", config]) == 1
    assert "no partner profile 'nope' in" in capsys.readouterr().err


def test_a_partner_mapping_override_changes_only_what_differs(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = partner_config(tmp_path)
    (tmp_path / "partners" / "mappings").mkdir()
    (tmp_path / "partners" / "mappings" / "vics-850.yaml").write_text(
        "extends: x12-850\n"
        "order:\n"
        "  lines:\n"
        "    sku: PO1_ID.CB              # this buyer's catalog numbers are our SKUs\n"
        "  b2b:\n"
        "    department: null            # their REF*DP means nothing to us\n",
        encoding="utf-8",
    )
    profile = tmp_path / "partners" / "vics.yaml"
    profile.write_text(profile.read_text() + "mapping: mappings/vics-850.yaml\n", encoding="utf-8")
    path = str(corpus / "x12/850/nodex12_vics.edi")
    assert main(["x12", "to-orders", path, "--partner", "vics", "--config", config]) == 0
    [order] = orjson.loads(capsys.readouterr().out)
    assert [line["sku"] for line in order["lines"][:2]] == ["065322-117", "066850-116"]
    assert order["b2b"]["department"] is None
    assert order["lines"][0]["description"] == "SMALL WIDGET"  # everything else as the base maps it
    assert order["totals"]["grand_total"]["amount"] == "13045.94"


def test_a_broken_partner_mapping_stops_check_with_its_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = partner_config(tmp_path)
    (tmp_path / "partners" / "mappings").mkdir()
    (tmp_path / "partners" / "mappings" / "vics-850.yaml").write_text(
        "extends: x12-850\norder:\n  lines:\n    colour: PO1_ID.CB\n", encoding="utf-8"
    )
    profile = tmp_path / "partners" / "vics.yaml"
    profile.write_text(profile.read_text() + "mapping: mappings/vics-850.yaml\n", encoding="utf-8")
    assert main(["check", "--config", config]) == 1
    out = capsys.readouterr().out
    assert "vics.yaml:" in out and "mapping:" in out and "vics-850.yaml:4: order.lines.colour" in out
