"""Webhook subscriptions of WooCommerce and BigCommerce kept in place (respx stands in for each
platform): what a first check creates, a disabled one set active again, a deleted one registered
again with a warning naming it, a paused one left alone, and the settings that turn it on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError
from structlog.testing import capture_logs

from orderhub.connectors import _http
from orderhub.connectors._http import Api
from orderhub.connectors.bigcommerce import BigCommerceConnector, BigCommerceSettings
from orderhub.connectors.woocommerce import WooCommerceConnector, WooCommerceSettings
from tests.fakes.intake import RecordingIntake

SITE = "https://shop.example.test"
WEBHOOKS = f"{SITE}/wp-json/wc/v3/webhooks"
HOOKS = "https://api.example.test/stores/abc123/v3/hooks"
HUB = "https://hub.example.test/webhooks/cart"


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(seconds: float) -> None:
        return None

    monkeypatch.setattr(_http, "_sleep", instant)


def woo(intake: RecordingIntake, **settings: Any) -> WooCommerceConnector:
    values = {
        "name": "woo",
        "kind": "woocommerce",
        "base_url": SITE,
        "consumer_key": "ck",
        "consumer_secret": "cs",
        "webhook_secret": ["current-secret", "old-secret"],
        "webhook_url": HUB,
        **settings,
    }
    return WooCommerceConnector(WooCommerceSettings.model_validate(values), intake, Path("."))


def bigc(intake: RecordingIntake, **settings: Any) -> BigCommerceConnector:
    values = {
        "name": "bc",
        "kind": "bigcommerce",
        "store_hash": "abc123",
        "access_token": "tok",
        "base_url": "https://api.example.test",
        "webhook_url": HUB,
        **settings,
    }
    return BigCommerceConnector(BigCommerceSettings.model_validate(values), intake, Path("."))


def bodies(route: respx.Route) -> list[Any]:
    return [json.loads(call.request.content) for call in route.calls]


@respx.mock
async def test_woocommerce_first_check_creates_the_order_webhooks_with_the_current_secret() -> None:
    other = {"id": 1, "topic": "order.created", "status": "active", "delivery_url": "https://elsewhere.test/"}
    listed = respx.get(WEBHOOKS).mock(return_value=httpx.Response(200, json=[other], headers={"X-WP-TotalPages": "1"}))
    created = respx.post(WEBHOOKS).mock(return_value=httpx.Response(201, json={"id": 2}))
    intake = RecordingIntake()
    connector = woo(intake)
    assert connector.manages_webhooks
    async with connector.client() as client:
        result = await connector.hook_keeper(Api(client)).check()
    assert result.created == ["order.created", "order.updated", "order.deleted"]
    assert listed.calls[0].request.url.params["per_page"] == "100"
    assert bodies(created) == [
        {
            "name": f"orderhub woo {topic}",
            "topic": topic,
            "delivery_url": HUB,
            "secret": "current-secret",
            "status": "active",
        }
        for topic in ("order.created", "order.updated", "order.deleted")
    ]
    assert intake.checkpoints[("woo", "webhook_subscriptions")] == '["order.created","order.deleted","order.updated"]'


@respx.mock
async def test_woocommerce_disabled_webhook_is_set_active_and_a_deleted_one_registered_again() -> None:
    hooks = [
        {"id": 11, "topic": "order.created", "status": "disabled", "delivery_url": HUB},
        {"id": 12, "topic": "order.updated", "status": "active", "delivery_url": HUB},
    ]
    respx.get(WEBHOOKS).mock(return_value=httpx.Response(200, json=hooks))
    updated = respx.put(f"{WEBHOOKS}/11").mock(return_value=httpx.Response(200, json={"id": 11}))
    created = respx.post(WEBHOOKS).mock(return_value=httpx.Response(201, json={"id": 13}))
    intake = RecordingIntake()
    intake.checkpoints[("woo", "webhook_subscriptions")] = '["order.created","order.deleted","order.updated"]'
    connector = woo(intake)
    with capture_logs() as logs:
        async with connector.client() as client:
            result = await connector.hook_keeper(Api(client)).check()
    assert (result.present, result.reactivated, result.recreated) == (
        ["order.updated"],
        ["order.created"],
        ["order.deleted"],
    )
    assert bodies(updated) == [{"status": "active"}]
    assert [b["topic"] for b in bodies(created)] == ["order.deleted"]
    warnings = [(entry["event"], entry["subscription"]) for entry in logs if entry["log_level"] == "warning"]
    assert warnings == [
        ("webhook subscription was disabled by WooCommerce; set active again", "order.created (id 11)"),
        ("webhook subscription was deleted on WooCommerce; registered again", "order.deleted"),
    ]
    assert not any("current-secret" in str(entry) for entry in logs)


@respx.mock
async def test_woocommerce_paused_webhook_is_left_alone() -> None:
    hooks = [{"id": n, "topic": t, "status": "paused", "delivery_url": HUB} for n, t in enumerate(["order.created"])]
    hooks += [{"id": 5, "topic": "order.updated", "status": "active", "delivery_url": HUB}]
    hooks += [{"id": 6, "topic": "order.deleted", "status": "active", "delivery_url": HUB}]
    respx.get(WEBHOOKS).mock(return_value=httpx.Response(200, json=hooks))
    changed = respx.put(url__startswith=WEBHOOKS)
    intake = RecordingIntake()
    connector = woo(intake)
    async with connector.client() as client:
        result = await connector.hook_keeper(Api(client)).check()
    assert result.held == ["order.created"] and not changed.called


def test_woocommerce_webhook_url_needs_a_secret_and_api_keys_to_be_managed() -> None:
    with pytest.raises(ValidationError, match="webhook_url needs webhook_secret"):
        woo(RecordingIntake(), webhook_secret=[])
    assert not woo(RecordingIntake(), base_url=None, consumer_key=None, consumer_secret=None).manages_webhooks
    assert not woo(RecordingIntake(), webhook_url=None).manages_webhooks
    assert woo(RecordingIntake()).settings.subscription_check_interval == 3600


@respx.mock
async def test_bigcommerce_creates_missing_hooks_and_reactivates_an_inactive_one() -> None:
    page = {
        "data": [
            {"id": 21, "scope": "store/order/created", "destination": HUB, "is_active": False},
            {"id": 22, "scope": "store/order/updated", "destination": HUB, "is_active": True},
            {"id": 23, "scope": "store/order/statusUpdated", "destination": "https://other.test/", "is_active": True},
        ],
        "meta": {"pagination": {"total_pages": 1, "current_page": 1}},
    }
    listed = respx.get(HOOKS).mock(return_value=httpx.Response(200, json=page))
    updated = respx.put(f"{HOOKS}/21").mock(return_value=httpx.Response(200, json={"data": {"id": 21}}))
    created = respx.post(HOOKS).mock(return_value=httpx.Response(200, json={"data": {"id": 24}}))
    intake = RecordingIntake()
    connector = bigc(intake)
    assert connector.manages_webhooks
    with capture_logs() as logs:
        async with connector.client() as client:
            result = await connector.hook_keeper(Api(client)).check()
    assert result.reactivated == ["store/order/created"] and result.present == ["store/order/updated"]
    assert result.created == ["store/order/statusUpdated", "store/order/refund/created"]
    assert bodies(updated) == [{"is_active": True}]
    assert bodies(created) == [
        {"scope": "store/order/statusUpdated", "destination": HUB, "is_active": True},
        {"scope": "store/order/refund/created", "destination": HUB, "is_active": True},
    ]
    assert listed.calls[0].request.headers["X-Auth-Token"] == "tok"
    warning = next(entry for entry in logs if entry["log_level"] == "warning")
    assert warning["subscription"] == "store/order/created (id 21)"
    assert warning["event"] == "webhook subscription was disabled by BigCommerce; set active again"


@respx.mock
async def test_bigcommerce_hooks_are_read_page_by_page_and_a_failed_check_is_logged() -> None:
    first = {"data": [], "meta": {"pagination": {"total_pages": 2, "current_page": 1}}}
    respx.get(HOOKS).mock(
        side_effect=[
            httpx.Response(
                200, json={**first, "data": [{"id": n, "scope": "x", "destination": HUB} for n in range(250)]}
            ),
            httpx.Response(200, json={"data": [], "meta": {"pagination": {"total_pages": 2, "current_page": 2}}}),
            httpx.Response(403, json={"title": "You don't have a required scope to access the endpoint"}),
        ]
    )
    respx.post(HOOKS).mock(return_value=httpx.Response(200, json={"data": {}}))
    connector = bigc(RecordingIntake())
    async with connector.client() as client:
        keeper = connector.hook_keeper(Api(client))
        assert len((await keeper.check()).created) == 4
        with capture_logs() as logs:
            await keeper.check_or_log()
    assert logs[0]["event"] == "webhook subscription check failed" and "HTTP 403" in logs[0]["error"]


def test_bigcommerce_webhook_url_must_be_https() -> None:
    with pytest.raises(ValidationError, match="https"):
        bigc(RecordingIntake(), webhook_url="http://hub.example.test/webhooks/bc")
