"""Loading pyas2lib: oscrypto reads a two-digit OpenSSL patch number once its pattern is widened, and
a machine without the `as2` extra gets the install command, also as a connector config error."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from orderhub.connectors import _as2lib
from orderhub.connectors.x12_as2 import X12As2Settings


def test_oscrypto_reads_the_openssl_version_pyas2lib_runs_on() -> None:
    as2 = _as2lib.load()
    assert as2.__name__ == "pyas2lib.as2"
    from oscrypto._openssl._libcrypto import libcrypto_version, libcrypto_version_info

    assert re.fullmatch(r"\d+\.\d+\.\d+[a-z]*", libcrypto_version)
    assert libcrypto_version_info[:3] == tuple(int(part) for part in re.findall(r"\d+", libcrypto_version)[:3])
    assert _as2lib.available() is None


def test_the_widened_pattern_takes_what_the_narrow_one_refused() -> None:
    narrow, wide = (re.compile(ast.literal_eval(pattern)) for pattern in (_as2lib._NARROW, _as2lib._WIDE))
    assert narrow.search("OpenSSL 3.0.19 27 Jan 2026") is None
    match = wide.search("OpenSSL 3.0.19 27 Jan 2026")
    assert match is not None and match.group(1) == "3.0.19"
    match = wide.search("OpenSSL 1.1.1w  11 Sep 2023")
    assert match is not None and match.group(1) == "1.1.1w"


@pytest.fixture
def without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_as2lib, "_loaded", None)
    for name in ("oscrypto", "pyas2lib", "pyas2lib.as2"):
        monkeypatch.setitem(sys.modules, name, None)  # what `import` finds when the package is absent


@pytest.mark.usefixtures("without_the_extra")
def test_without_the_extra_the_error_names_the_install_command() -> None:
    with pytest.raises(_as2lib.As2Unavailable, match=re.escape("pip install 'orderhub[as2]'")):
        _as2lib.load()


@pytest.mark.usefixtures("without_the_extra")
def test_without_the_extra_an_as2_connector_file_is_a_config_error(tmp_path: Path) -> None:
    settings = {
        "name": "as2-acme",
        "kind": "x12-as2",
        "as2_id": "ORDERHUB",
        "private_key": "key.pem",
        "certificate": "cert.pem",
        "partner_as2_id": "ACME",
        "partner_certificate": "acme.pem",
    }
    with pytest.raises(ValidationError, match=re.escape("pip install 'orderhub[as2]'")):
        X12As2Settings.model_validate(settings)
