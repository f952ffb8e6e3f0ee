"""`orderhub x12 parse`: JSON on success, `FILE:line: segment N (TAG): message` and exit 1 otherwise."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import orjson
import pytest

from orderhub.cli import main
from tests.unit.x12.builders import interchange, isa


def test_parse_prints_the_structure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "po.edi"
    path.write_bytes(interchange(2).replace("SE*8*0002", "SE*9*0002").encode())
    assert main(["x12", "parse", str(path)]) == 0
    output = orjson.loads(capsys.readouterr().out)
    (ic,) = output["interchanges"]
    assert ic["delimiters"] == {"element": "*", "component": ">", "segment": "~", "repetition": None}
    assert ic["control_number"] == "000000001"
    (group,) = ic["groups"]
    assert [s["control_number"] for s in group["sets"]] == ["0001", "0002"]
    assert group["sets"][0]["segments"][0] == {
        "tag": "ST",
        "elements": ["850", "0001"],
        "ordinal": 3,
        "line": 1,
        "offset": 153,
    }
    (finding,) = output["findings"]
    assert (finding["kind"], finding["segment"], finding["element"], finding["code"]) == ("segment_count", "SE", 1, "4")


def test_parse_reports_nesting_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.edi"
    path.write_bytes(f"{isa()}~\nGS*PO*A*B*20260101*1200*1*X*004010~\nIEA*1*000000001~\n".encode())
    assert main(["x12", "parse", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"{path}:3: segment 3 (IEA): GE missing: the functional group started by GS at line 2 (segment 2) "
        "is followed by IEA [AK9 code 3]"
    )


def test_parse_reports_isa_errors_and_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "short.edi"
    path.write_bytes(b"ISA*00*x~")
    assert main(["x12", "parse", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"{path}:1: segment 1 (ISA): ISA must have 16 elements, found 2")
    assert main(["x12", "parse", str(tmp_path / "nope.edi")]) == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.corpus
def test_parse_accepts_every_corpus_file(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted((corpus / "x12").glob("*/*")):
        if path.suffix == ".md":
            continue
        assert main(["x12", "parse", str(path)]) == 0, path.name
        output = orjson.loads(capsys.readouterr().out)
        assert output["interchanges"], path.name


def test_parse_reads_standard_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(interchange(1).encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["x12", "parse", "-"]) == 0
    output = orjson.loads(capsys.readouterr().out)
    assert output["file"] == "-" and len(output["interchanges"]) == 1
