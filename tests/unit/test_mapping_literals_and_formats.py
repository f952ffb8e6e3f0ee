"""Mapping file features the X12 mappings rely on: quoted literals in filters, `format` and `sets`."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderhub.mapping import Mapping, MappingFileError, compile_path

PARTIES = {
    "N1": [{"N101": "BT", "N102": "Billing"}, {"N101": "ST", "N102": "Dock 4"}, {"N101": "ST", "N102": "Dock 9"}]
}


def test_a_quoted_right_side_is_a_literal() -> None:
    assert compile_path("N1[N101='ST'].N102").get(PARTIES, None) == "Dock 4"
    assert compile_path('N1[?N101="ST"].N102').get(PARTIES, None) == ["Dock 4", "Dock 9"]
    assert compile_path("N1[N101='SF'].N102").get(PARTIES, None) is None


def write(tmp_path: Path, head: str) -> Path:
    path = tmp_path / "m.yaml"
    totals = ", ".join(
        f"{name}: {{const: '0'}}"
        for name in ("subtotal", "discount_total", "shipping_total", "tax_total", "grand_total")
    )
    path.write_text(
        f"channel: x12\n{head}\norder:\n  source: {{external_id: BEG03}}\n  currency: {{const: USD}}\n"
        f"  totals: {{{totals}}}\n"
    )
    return path


def test_x12_mapping_must_name_its_sets(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError) as caught:
        Mapping.load(write(tmp_path, "format: x12"))
    assert "m.yaml:1: sets: an x12 mapping names the transaction sets it maps" in str(caught.value)
    assert Mapping.load(write(tmp_path, 'format: x12\nsets: ["850"]')).sets == frozenset({"850"})


def test_unknown_format_is_an_error_on_its_line(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError) as caught:
        Mapping.load(write(tmp_path, "format: edifact"))
    assert "m.yaml:2: format: expected json or x12" in str(caught.value)
