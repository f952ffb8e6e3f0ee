"""The connector files people copy: examples/connectors/ (every setting of each web cart, explained) and
the demo set in connectors/ that `make run` loads. Each goes through `orderhub check`, and the examples
must name every setting of their kind's model (set or commented out) with the model's defaults, so a
setting added, renamed or re-defaulted in the code fails here until the example follows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from orderhub.cli import main
from orderhub.connectors import connector_class

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "connectors").glob("*.yaml"))
CART_KINDS = {"shopify", "woocommerce", "bigcommerce", "magento"}
_KEY = re.compile(r"^(#\s*)?([a-z_]+):(.*)$")  # `key: value` or `# key: value`, at the start of a line
_ENV = re.compile(r"\$\{(\w+)\}")


def keys_in(text: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(settings given, settings commented out as `# key: value`) of a connector file."""
    commented = {}
    for line in text.splitlines():
        match = _KEY.match(line)
        if match and match.group(1):
            commented[match.group(2)] = match.group(3)
    return dict(yaml.safe_load(text)), commented


def check(tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> int:
    """`orderhub check` on a config whose connectors folder holds copies of `files`."""
    (tmp_path / "connectors").mkdir()
    for file in files:
        shutil.copy(file, tmp_path / "connectors" / file.name)
    config = tmp_path / "orderhub.yaml"
    config.write_text("data_dir: ./var\nconnectors_dir: ./connectors\n", encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main(["check", "--config", str(config)])


def test_there_is_an_example_for_each_web_cart() -> None:
    assert {yaml.safe_load(p.read_text(encoding="utf-8"))["kind"] for p in EXAMPLES} == CART_KINDS


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_passes_orderhub_check(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    variables = set(_ENV.findall(example.read_text(encoding="utf-8")))
    assert variables, "secrets come from environment variables"
    assert check(tmp_path, [example], monkeypatch, {name: f"example-{name.lower()}" for name in variables}) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ok: 1 connector(s)" in captured.err


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_names_every_setting_with_its_default(example: Path) -> None:
    given, commented = keys_in(example.read_text(encoding="utf-8"))
    cls = connector_class(given["kind"])
    assert cls is not None
    model = cls.settings_model
    fields = set(model.model_fields)
    assert not set(given) & set(commented), "a setting is both given and commented out"
    assert set(given) | set(commented) == fields, (
        f"missing: {sorted(fields - set(given) - set(commented))}; "
        f"not settings: {sorted((set(given) | set(commented)) - fields)}"
    )
    for key, shown in commented.items():
        default = model.model_fields[key].get_default(call_default_factory=True)
        if default is None or isinstance(default, SecretStr):
            continue  # no default to show: the commented value is an example
        value = yaml.safe_load(f"{key}:{shown}")[key]
        assert value == default, f"{key}: the example shows {value!r}, the default is {default!r}"


def makefile_demo_secrets() -> dict[str, str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return dict(re.findall(r"^export (\w+_SECRET) \?= (\S+)$", makefile, re.MULTILINE))


def test_demo_connectors_pass_orderhub_check_with_the_makefile_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    demos = sorted((ROOT / "connectors").glob("*.yaml"))
    secrets = makefile_demo_secrets()
    for demo in demos:
        needed = set(_ENV.findall(demo.read_text(encoding="utf-8")))
        assert needed <= set(secrets), f"{demo.name}: the Makefile does not export {sorted(needed - set(secrets))}"
    for name in secrets:
        monkeypatch.delenv(name, raising=False)
    assert check(tmp_path, demos, monkeypatch, secrets) == 0
    assert f"ok: {len(demos)} connector(s)" in capsys.readouterr().err
    kinds = {yaml.safe_load(d.read_text(encoding="utf-8"))["kind"] for d in demos}
    assert {"shopify", "woocommerce", "bigcommerce"} <= kinds
