"""The transaction-set spec files: every one loads, and a broken one is reported by file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orderhub.x12._specs import SPECS_DIR, LoopDef, SegmentUse, SpecError, SpecLibrary, default_library

SETS = ["810", "846", "850", "855", "856", "860", "940", "945", "997", "999"]
VERSIONS = [
    "002001",
    "003010",
    "003050",
    "003060",
    "004010",
    "004010VICS",
    "004030",
    "004060",
    "005010",
    "005010X231A1",
]


def test_every_shipped_set_has_a_spec() -> None:
    assert sorted(default_library().set_ids) == SETS


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("set_id", SETS)
def test_every_spec_compiles_for_every_version(set_id: str, version: str) -> None:
    spec = default_library().spec_for(set_id, version)
    assert spec is not None
    assert spec.id == set_id
    tags = spec.segment_tags()
    assert tags[0] == "ST"
    assert tags[-1] == "SE"


def test_unknown_set_has_no_spec() -> None:
    assert default_library().spec_for("830", "004010") is None


def test_850_structure_follows_the_004010_table() -> None:
    spec = default_library().spec_for("850", "004010")
    assert spec is not None
    root = spec.root.children
    beg = root[1]
    assert isinstance(beg, SegmentUse)
    assert (beg.tag, beg.usage, beg.max_use) == ("BEG", "M", 1)
    po1 = next(c for c in root if isinstance(c, LoopDef) and c.id == "PO1")
    assert (po1.usage, po1.max_repeat) == ("M", 100000)
    assert [c.id for c in po1.children if isinstance(c, LoopDef)] == [
        "CTP", "PID", "SAC", "QTY", "SCH", "LDT", "N9", "N1", "SLN", "AMT", "LM",
    ]  # fmt: skip
    beg01 = beg.segment.elements[0].element
    assert beg01 is not None
    assert (beg01.number, beg01.type, beg01.min_length, beg01.max_length) == ("353", "ID", 2, 2)
    assert beg01.codes is not None and {"00", "01", "05", "07"} <= beg01.codes


def test_element_types_keep_their_implied_decimals() -> None:
    spec = default_library().spec_for("810", "004010")
    assert spec is not None
    tds = next(c for c in spec.root.children if isinstance(c, SegmentUse) and c.tag == "TDS")
    amount = tds.segment.elements[0].element
    assert amount is not None
    assert (amount.number, amount.type, amount.decimals) == ("610", "N", 2)


def test_overlays_apply_by_version() -> None:
    library = default_library()
    old, base, new = (library.spec_for("850", v) for v in ("003010", "004010", "005010"))
    assert old is not None and base is not None and new is not None
    assert old.date_lengths == (6, 8) and base.date_lengths == (8,)
    assert "NTE" in old.segment_tags() and "NTE" not in base.segment_tags()
    assert new.allow_extra_elements and not base.allow_extra_elements


# --- broken spec files ---------------------------------------------------------------------------


@pytest.fixture
def specs_copy(tmp_path: Path) -> Path:
    target = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def load_error(directory: Path) -> SpecError:
    with pytest.raises(SpecError) as caught:
        SpecLibrary(directory)
    return caught.value


def test_copy_of_the_shipped_specs_loads(specs_copy: Path) -> None:
    assert sorted(SpecLibrary(specs_copy).set_ids) == SETS


def test_unknown_element_type_names_the_dictionary_and_the_element(specs_copy: Path) -> None:
    edit(
        specs_copy / "segments.yaml",
        "353: [Transaction Set Purpose Code, ID, 2, 2]",
        "353: [Transaction Set Purpose Code, XX, 2, 2]",
    )
    error = load_error(specs_copy)
    assert error.file.endswith("segments.yaml")
    assert error.field == "elements.353.type"
    assert "XX" in str(error)


def test_segment_using_an_undefined_element_names_the_segment_position(specs_copy: Path) -> None:
    edit(specs_copy / "segments.yaml", 'elements: ["353 M", "92 M", "324 M"', 'elements: ["353 M", "9999 M", "324 M"')
    error = load_error(specs_copy)
    assert error.field == "segments.BEG.elements.1"
    assert "9999" in error.message


def test_unknown_segment_in_a_set_names_the_set_file_and_index(specs_copy: Path) -> None:
    edit(specs_copy / "855.yaml", "  - BAK M 1\n", "  - BAQ M 1\n")
    error = load_error(specs_copy)
    assert error.file.endswith("855.yaml")
    assert error.field == "segments.1"
    assert "BAQ" in error.message


def test_malformed_segment_use_names_the_nested_field(specs_copy: Path) -> None:
    edit(specs_copy / "997.yaml", "segments: [AK3 M 1, AK4 O 99]", "segments: [AK3 M 1, AK4 sometimes]")
    error = load_error(specs_copy)
    assert error.file.endswith("997.yaml")
    assert error.field == "segments.2.segments.1.segments.1"


def test_loop_not_starting_with_its_trigger_is_refused(specs_copy: Path) -> None:
    edit(specs_copy / "999.yaml", "segments: [IK4 M 1, CTX O 10]", "segments: [CTX O 10, IK4 M 1]")
    error = load_error(specs_copy)
    assert error.file.endswith("999.yaml")
    assert error.field.endswith(".segments.0")
    assert "trigger" in error.message


def test_missing_required_field_is_named(specs_copy: Path) -> None:
    edit(specs_copy / "846.yaml", "functional_group: IB\n", "")
    error = load_error(specs_copy)
    assert error.file.endswith("846.yaml")
    assert error.field == "functional_group"


def test_bad_syntax_note_is_named(specs_copy: Path) -> None:
    edit(specs_copy / "segments.yaml", "syntax: [P0304, P0506, P0708]", "syntax: [P0304, P0512, P0708]")
    error = load_error(specs_copy)
    assert error.field == "segments.PER.syntax.1"


def test_invalid_yaml_names_the_line(specs_copy: Path) -> None:
    (specs_copy / "940.yaml").write_text("id: '940'\nsegments: [ST M 1\n", encoding="utf-8")
    error = load_error(specs_copy)
    assert error.file.endswith("940.yaml")
    assert error.line == 3
    assert str(error).startswith(f"{error.file}:3: not valid YAML")


def test_errors_carry_the_line_of_the_field(specs_copy: Path) -> None:
    edit(specs_copy / "855.yaml", "  - BAK M 1\n", "  - BAQ M 1\n")
    error = load_error(specs_copy)
    lines = (specs_copy / "855.yaml").read_text(encoding="utf-8").splitlines()
    assert error.line is not None
    assert lines[error.line - 1] == "  - BAQ M 1"
    assert str(error) == f"{error.file}:{error.line}: segments.1: segment BAQ is not in segments.yaml"


def test_overlay_inserting_into_an_unknown_set_is_refused(specs_copy: Path) -> None:
    edit(specs_copy / "overlays" / "before_004010.yaml", '{set: "860", after: BCH', '{set: "861", after: BCH')
    error = load_error(specs_copy)
    assert error.file.endswith("before_004010.yaml")
    assert error.field == "insert_segments.1.set"


def test_a_variant_overlay_applies_to_its_exact_gs08_only(specs_copy: Path) -> None:
    (specs_copy / "overlays" / "vics.yaml").write_text(
        'applies_to: ["004010VICS"]\nadd_codes:\n  92: "XY"\n', encoding="utf-8"
    )
    library = SpecLibrary(specs_copy)

    def beg02_codes(version: str) -> frozenset[str]:
        spec = library.spec_for("850", version)
        assert spec is not None
        beg = spec.root.children[1]
        assert isinstance(beg, SegmentUse)
        codes = beg.segment.elements[1].element
        assert codes is not None and codes.codes is not None
        return codes.codes

    assert "XY" in beg02_codes("004010VICS")
    assert "XY" not in beg02_codes("004010")
    assert "XY" not in beg02_codes("004010X357")
