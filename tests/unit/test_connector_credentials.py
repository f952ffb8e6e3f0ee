"""`orderhub check` says which credential is missing when a cart connector file gives only part of one
(half a credential is a mistake, not webhook-only mode)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderhub.cli import main

CASES = {
    "woocommerce": (
        "kind: woocommerce\nbase_url: https://shop.example\nconsumer_key: ck_1\nwebhook_secret: s\n",
        "the REST API needs base_url, consumer_key and consumer_secret; missing consumer_secret",
    ),
    "bigcommerce": (
        "kind: bigcommerce\nstore_hash: abc123\nclient_secret: s\n",
        "the API needs store_hash and access_token; missing access_token",
    ),
    "magento": (
        "kind: magento\nbase_url: https://magento.example\n",
        "give access_token, or username + password for an admin token",
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_half_a_credential_is_a_clear_error(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body, message = CASES[kind]
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "shop.yaml").write_text(f"name: shop\n{body}", encoding="utf-8")
    (tmp_path / "orderhub.yaml").write_text("connectors_dir: ./connectors\n", encoding="utf-8")
    assert main(["check", "--config", str(tmp_path / "orderhub.yaml")]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'connectors' / 'shop.yaml'}:1:" in out and message in out


def test_webhook_only_files_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "woo.yaml").write_text("name: woo\nkind: woocommerce\nwebhook_secret: s\n")
    (tmp_path / "connectors" / "bc.yaml").write_text("name: bc\nkind: bigcommerce\nclient_secret: s\n")
    (tmp_path / "orderhub.yaml").write_text("connectors_dir: ./connectors\n", encoding="utf-8")
    assert main(["check", "--config", str(tmp_path / "orderhub.yaml")]) == 0
