"""Trading-partner profiles: the model, loading a folder with `file:line: field: message` errors,
duplicate ids and senders, lookup by ISA sender, and `orderhub check` over partner files."""

from __future__ import annotations

import shutil
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from orderhub.cli import main
from orderhub.service.config import ConfigErrors, load_config
from orderhub.x12 import Delimiters
from orderhub.x12.partners import PartnerProfile, load_partners

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "partners" / "acme-retail.yaml"

MINIMAL = """\
id: {id}
name: Partner {id}
isa: {{qualifier: "ZZ", id: "{sender}"}}
us: {{qualifier: "ZZ", id: "ORDERHUB"}}
gs: {{partner_id: "{sender}", our_id: "ORDERHUB"}}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors_of(folder: Path) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_partners(folder)
    return [str(e) for e in caught.value.errors]


def test_the_documented_example_loads_with_every_setting() -> None:
    directory = load_partners(EXAMPLE.parent)
    profile = directory.get("acme-retail")
    assert profile is not None
    assert (profile.isa.qualifier, profile.isa.id) == ("ZZ", "ACMERETAIL")
    assert (profile.us.qualifier, profile.us.id) == ("ZZ", "ORDERHUB")
    assert (profile.gs.partner_id, profile.gs.our_id) == ("ACMERETAIL", "ORDERHUB")
    assert profile.version == "004010"
    assert profile.functional_ack == "997"
    assert profile.acks.ta1 is True
    assert profile.acks.due_within == timedelta(hours=24)
    assert profile.usage_indicator == "P"
    assert profile.zone.key == "America/Chicago"
    assert profile.currency == "USD"
    assert profile.sku_xref["0047110"] == "MAPLE-SYRUP-1000"
    assert profile.uom_xref == {"CA": "CS"}
    assert profile.exchanges.inbound == ["850", "860"]
    assert profile.receives("850") and profile.sends("855") and not profile.receives("810")
    assert profile.control_numbers.start("interchange") == 1000
    assert profile.control_numbers.start("set") == 1
    assert profile.delimiters.segment_suffix == "\n"
    assert profile.transport == {"kind": "folder"}
    assert profile.order_id("PO-4471") == "acme-retail:PO-4471"
    assert directory.file_of("acme-retail") == str(EXAMPLE)


def test_defaults_follow_the_version() -> None:
    base = {
        "id": "p",
        "name": "P",
        "isa": {"qualifier": "01", "id": "123456789"},
        "us": {"qualifier": "ZZ", "id": "US"},
        "gs": {"partner_id": "PP", "our_id": "US"},
    }
    old = PartnerProfile.model_validate(base)
    assert (old.version, old.functional_ack, old.usage_indicator, old.timezone, old.currency) == (
        "004010",
        "997",
        "P",
        "UTC",
        "USD",
    )
    assert old.acks.ta1 is False and old.exchanges.inbound == ["850"]
    assert PartnerProfile.model_validate({**base, "version": "005010"}).functional_ack == "999"
    assert PartnerProfile.model_validate({**base, "version": "005010X231"}).functional_ack == "999"
    assert PartnerProfile.model_validate({**base, "acks": {"functional": "none"}}).functional_ack is None
    test = PartnerProfile.model_validate({**base, "usage": "test", "acks": {"functional": 997}})
    assert test.usage_indicator == "T" and test.functional_ack == "997"


def test_delimiter_overrides_for_reading_and_writing() -> None:
    base = MINIMAL.format(id="d", sender="DELIM")
    profile = PartnerProfile.model_validate(
        {
            **yaml.safe_load(base),
            "delimiters": {"element": "|", "segment": "\n", "component": "^"},
        }
    )
    assert profile.delimiters.for_reading() == Delimiters("|", "^", "\n", None)
    assert profile.delimiters.for_writing(Delimiters("*", ":", "~", "^")) == Delimiters("|", "^", "\n", "^")
    only_suffix = PartnerProfile.model_validate({**yaml.safe_load(base), "delimiters": {"segment_suffix": "\r\n"}})
    assert only_suffix.delimiters.for_reading() is None


def test_lookup_by_sender_trims_padding_and_keeps_case(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", MINIMAL.format(id="alpha", sender="ALPHA"))
    write(tmp_path, "b.yml", MINIMAL.format(id="beta", sender="beta"))
    directory = load_partners(tmp_path)
    assert len(directory) == 2 and "alpha" in directory
    found = directory.by_sender("ZZ", "ALPHA          ")
    assert found is not None and found.id == "alpha"
    assert directory.by_sender("ZZ", "alpha") is None  # X12 ids are case-sensitive
    assert directory.by_sender("01", "ALPHA") is None  # another qualifier is another sender
    beta = directory.by_sender(" ZZ", "beta")
    assert beta is not None and beta.id == "beta"


def test_a_missing_folder_is_no_partners(tmp_path: Path) -> None:
    assert len(load_partners(tmp_path / "nowhere")) == 0


def test_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        """\
        id: "bad:id"
        name: Bad
        isa: {qualifier: "ZZZ", id: "BAD"}
        us: {qualifier: "ZZ", id: "US"}
        gs: {partner_id: "BAD", our_id: "US"}
        version: 004010
        timezone: Mars/Olympus
        colour: blue
        acks:
          functional: "998"
          due_within: soon
        """,
    )
    errors = errors_of(tmp_path)
    assert (
        f"{path}:1: id: Value error, must be non-empty, without surrounding spaces, and may not contain ':' or '/'"
        in (errors)
    )
    assert any(e.startswith(f"{path}:3: isa.qualifier: ") for e in errors)
    assert (
        f"{path}:6: version: Value error, YAML reads 2056 as a number; put it in quotes so leading zeros are kept"
        in (errors)
    )
    assert any(e.startswith(f"{path}:7: timezone: ") and "Mars/Olympus" in e for e in errors)
    assert f"{path}:8: colour: unknown setting" in errors
    assert any(e.startswith(f"{path}:10: acks.functional: ") for e in errors)
    assert any(e.startswith(f"{path}:11: acks.due_within: ") and '"24h"' in e for e in errors)


def test_missing_required_sections_and_syntax_errors(tmp_path: Path) -> None:
    empty = write(tmp_path / "one", "p.yaml", "id: p\nname: P\n")
    errors = errors_of(tmp_path / "one")
    assert {f"{empty}:1: isa: Field required", f"{empty}:1: us: Field required", f"{empty}:1: gs: Field required"} <= (
        set(errors)
    )
    broken = write(tmp_path / "two", "p.yaml", "id: p\nname: [unclosed\n")
    (error,) = errors_of(tmp_path / "two")
    assert error.startswith(f"{broken}:") and "(syntax)" in error
    listed = write(tmp_path / "three", "p.yaml", "- id: p\n")
    assert errors_of(tmp_path / "three") == [
        f"{listed}:1: (document): a partner file is a mapping with id, name, isa, us and gs"
    ]


def test_a_999_needs_005010(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", MINIMAL.format(id="p", sender="PARTNER") + "acks: {functional: 999}\n")
    (error,) = errors_of(tmp_path)
    assert error.startswith(f"{path}:1: (document): ") and "005010" in error


def test_duplicate_ids_and_duplicate_senders_are_errors(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", MINIMAL.format(id="same", sender="ONE"))
    second = write(tmp_path, "b.yaml", MINIMAL.format(id="same", sender="TWO"))
    third = write(tmp_path, "c.yaml", "\n" + MINIMAL.format(id="other", sender="ONE"))
    errors = errors_of(tmp_path)
    assert errors == [
        f"{second}:1: id: partner id 'same' is already used in {first}",
        f"{third}:4: isa.id: ISA sender ZZ:ONE is already the partner 'same'",
    ]


def test_environment_variables_are_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_ISA_ID", "ACMEFROMENV")
    write(tmp_path, "p.yaml", MINIMAL.format(id="p", sender="${ACME_ISA_ID}"))
    profile = load_partners(tmp_path).get("p")
    assert profile is not None and profile.isa.id == "ACMEFROMENV"
    write(tmp_path, "q.yaml", MINIMAL.format(id="q", sender="${NOT_SET_ANYWHERE_X12}"))
    (error,) = errors_of(tmp_path)
    assert "environment variable NOT_SET_ANYWHERE_X12 is not set" in error


def test_partners_dir_resolves_against_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "orderhub.yaml"
    config.parent.mkdir()
    config.write_text("partners_dir: ../edi/partners\n", encoding="utf-8")
    assert load_config(config).partners_dir == (tmp_path / "edi" / "partners").resolve()
    config.write_text("data_dir: ./var\n", encoding="utf-8")
    assert load_config(config).partners_dir == (tmp_path / "conf" / "partners").resolve()


def test_check_validates_partner_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "orderhub.yaml"
    config.write_text("connectors_dir: ./connectors\n", encoding="utf-8")
    (tmp_path / "partners").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "partners" / EXAMPLE.name)
    assert main(["check", "--config", str(config)]) == 0
    assert "1 partner profile(s)" in capsys.readouterr().err

    bad = write(tmp_path / "partners", "broken.yaml", MINIMAL.format(id="broken", sender="BROKEN") + "currency: usd\n")
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith(f"{bad}:6: currency: ")
