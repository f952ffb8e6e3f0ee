"""Shared test set-up: the corpus location and the real services the suite starts itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.services.kafka", "tests.services.sftp"]

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("ORDERHUB_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CORPUS.is_dir():
        return
    corpus_items = [item for item in items if item.get_closest_marker("corpus")]
    if not corpus_items:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"the shared corpus is missing at {CORPUS} (set ORDERHUB_CORPUS)")
    config.hook.pytest_deselected(items=corpus_items)
    items[:] = [item for item in items if not item.get_closest_marker("corpus")]
    print(
        f"\norderhub: corpus not found at {CORPUS}; deselected {len(corpus_items)} corpus tests "
        "(set ORDERHUB_CORPUS to run them)"
    )


@pytest.fixture(scope="session")
def corpus() -> Path:
    return CORPUS
