"""The backfill window as each platform is asked for it, and the command's dates."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orderhub.cli_backfill import when
from orderhub.connectors._poll import Window
from orderhub.connectors._shopify_orders import search_query
from orderhub.connectors.magento import MagentoConnector, MagentoSettings
from tests.fakes.intake import RecordingIntake

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)


def test_shopify_search_query_bounds_the_window_on_both_sides() -> None:
    assert search_query(JAN) == "updated_at:>'2026-01-01T00:00:00Z'"
    assert search_query(JAN, FEB) == "updated_at:>'2026-01-01T00:00:00Z' AND updated_at:<'2026-02-01T00:00:00Z'"


def test_magento_window_end_is_a_second_filter_group() -> None:
    settings = MagentoSettings.model_validate(
        {"name": "m", "kind": "magento", "base_url": "https://m.test", "access_token": "t"}
    )
    criteria = MagentoConnector(settings, RecordingIntake(), Path("."))._criteria(Window(JAN, FEB), 2)
    assert criteria["searchCriteria[filter_groups][0][filters][0][value]"] == "2026-01-01 00:00:00"
    assert criteria["searchCriteria[filter_groups][0][filters][0][condition_type]"] == "gt"
    assert criteria["searchCriteria[filter_groups][1][filters][0][field]"] == "updated_at"
    assert criteria["searchCriteria[filter_groups][1][filters][0][value]"] == "2026-02-01 00:00:00"
    assert criteria["searchCriteria[filter_groups][1][filters][0][condition_type]"] == "lt"
    assert criteria["searchCriteria[currentPage]"] == 2
    plain = MagentoConnector(settings, RecordingIntake(), Path("."))._criteria(Window(JAN), 1)
    assert not any(key.startswith("searchCriteria[filter_groups][1]") for key in plain)


def test_dates_of_the_command() -> None:
    assert when("2026-01-01") == JAN
    assert when("2026-01-31", end_of_day=True) == FEB
    assert when("2026-01-01T05:00:00+05:00") == JAN
    assert when("2026-01-01T00:00:00Z") == JAN
    assert when("2026-01-01T00:00:00") == JAN  # no zone: UTC
    with pytest.raises(argparse.ArgumentTypeError, match="not a date"):
        when("yesterday")
