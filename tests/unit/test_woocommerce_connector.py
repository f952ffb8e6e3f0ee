"""The WooCommerce connector on its own: webhook signatures and pings, dedupe keys, and the REST v3
poll's request shape, pagination, Retry-After and cursor (respx stands in for the site)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from orderhub.connectors import _http
from orderhub.connectors._http import Api
from orderhub.connectors.base import NotAnOrder
from orderhub.connectors.woocommerce import WooCommerceConnector, WooCommerceSettings
from orderhub.mapping import parse_json
from orderhub.store.base import StoredRaw
from tests.fakes.intake import RecordingIntake
from tests.fakes.signing import woo_signature

SITE = "https://shop.example.test"
ORDERS = f"{SITE}/wp-json/wc/v3/orders"


def connector(intake: RecordingIntake | None = None, **settings: Any) -> WooCommerceConnector:
    values: dict[str, Any] = {
        "name": "woo",
        "kind": "woocommerce",
        "base_url": SITE,
        "consumer_key": "ck_1",
        "consumer_secret": "cs_1",
        "webhook_secret": ["new-secret", "old-secret"],
        "start_from": "2017-03-01T00:00:00Z",
        "overlap_seconds": 60,
        "page_size": 1,
        **settings,
    }
    return WooCommerceConnector(WooCommerceSettings.model_validate(values), intake or RecordingIntake(), Path("."))


def corpus_list(corpus: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        (corpus / "channels" / "woocommerce" / "wc-v3-orders-list-727-723.json").read_bytes()
    )
    return data


def stored(headers: dict[str, str], transport: str = "webhook", body: bytes = b"{}") -> StoredRaw:
    from datetime import UTC, datetime

    return StoredRaw(1, "0", "woo", "woocommerce", transport, datetime.now(UTC), headers, body, "pending")


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(_http, "_sleep", record)
    return slept


@pytest.mark.corpus
def test_signed_webhook_is_accepted_under_any_configured_secret(corpus: Path) -> None:
    body = (corpus / "channels" / "woocommerce" / "wc-v3-order-727-retrieve.json").read_bytes()
    woo = connector()
    for secret in ("new-secret", "old-secret"):
        headers = {
            "X-WC-Webhook-Signature": woo_signature(secret, body),
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Delivery-ID": "55",
            "User-Agent": "WooCommerce/8.0 Hookshot (WordPress/6.4)",
        }
        verdict = woo.verify_webhook(headers, body)
        assert verdict.ok and not verdict.ping
        assert verdict.dedupe_key == "727:2017-03-22T19:28:08"  # not the delivery id, which changes per send
        assert verdict.headers == {
            "X-WC-Webhook-Signature": headers["X-WC-Webhook-Signature"],
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Delivery-ID": "55",
        }


def test_bad_or_missing_signature_is_refused() -> None:
    body = b'{"id": 1, "date_modified_gmt": "2026-01-01T00:00:00"}'
    woo = connector()
    forged = woo.verify_webhook({"X-WC-Webhook-Signature": woo_signature("guess", body)}, body)
    assert not forged.ok and "does not match" in forged.reason
    tampered = woo.verify_webhook({"X-WC-Webhook-Signature": woo_signature("new-secret", body)}, body + b" ")
    assert not tampered.ok
    missing = woo.verify_webhook({}, body)
    assert not missing.ok and missing.reason == "missing X-WC-Webhook-Signature header"


def test_secret_is_decoded_like_wp_specialchars_decode() -> None:
    """WooCommerce signs with wp_specialchars_decode(secret): a secret saved as `a&amp;b` signs as `a&b`."""
    body = b'{"id": 2, "date_modified_gmt": "2026-01-01T00:00:00"}'
    woo = connector(webhook_secret="a&amp;b&#039;c")
    assert woo.verify_webhook({"X-WC-Webhook-Signature": woo_signature("a&b'c", body)}, body).ok


def test_unsigned_ping_is_answered_and_nothing_else_is() -> None:
    woo = connector()
    ping = woo.verify_webhook({"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=15")
    assert ping.ok and ping.ping
    not_a_ping = woo.verify_webhook({}, b"webhook_id=15&x=1")
    assert not not_a_ping.ok


def test_deleted_order_has_its_own_dedupe_key_and_is_not_an_order() -> None:
    body = b'{"id": 727}'
    woo = connector()
    verdict = woo.verify_webhook({"X-WC-Webhook-Signature": woo_signature("new-secret", body)}, body)
    assert verdict.dedupe_key == "727:deleted"
    with pytest.raises(NotAnOrder, match=r"order\.deleted carries only the order id"):
        woo.mapping_for(stored({"X-WC-Webhook-Topic": "order.deleted"}))
    with pytest.raises(NotAnOrder, match="not an order topic"):
        woo.mapping_for(stored({"X-WC-Webhook-Topic": "coupon.created"}))
    assert woo.mapping_for(stored({"X-WC-Webhook-Topic": "order.created"})).name == "woocommerce"
    assert woo.mapping_for(stored({}, transport="poll")).name == "woocommerce"


def test_webhook_only_without_api_credentials_says_so() -> None:
    woo = connector(base_url=None, consumer_key=None, consumer_secret=None)
    assert woo.startup_notes() == ["webhook-only: no base_url/consumer_key/consumer_secret, so no reconciliation poll"]
    assert connector().startup_notes() == []


def test_secrets_never_show_in_settings_output() -> None:
    settings = connector().settings
    text = repr(settings) + str(settings.model_dump())
    assert "cs_1" not in text and "new-secret" not in text


@pytest.mark.corpus
@respx.mock
async def test_poll_pages_retries_after_429_and_advances_the_cursor_after_accepting(
    corpus: Path, waits: list[float]
) -> None:
    first, second = sorted(corpus_list(corpus), key=lambda o: o["date_modified_gmt"])  # 723, then 727
    route = respx.get(ORDERS).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(200, json=[first], headers={"X-WP-TotalPages": "2", "X-WP-Total": "2"}),
            httpx.Response(200, json=[second], headers={"X-WP-TotalPages": "2", "X-WP-Total": "2"}),
        ]
    )
    intake = RecordingIntake()
    woo = connector(intake)
    async with woo.client() as client:
        assert await woo.poll_once(Api(client)) == 2
    assert waits == [7.0]  # Retry-After, not the backoff
    requests = [call.request for call in route.calls]
    expected_auth = "Basic " + base64.b64encode(b"ck_1:cs_1").decode()
    assert all(r.headers["Authorization"] == expected_auth for r in requests)
    assert [dict(r.url.params) for r in requests[1:]] == [
        {
            "modified_after": "2017-02-28T23:59:00",  # start_from less the 60 s overlap
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": "1",
            "page": str(page),
        }
        for page in (1, 2)
    ]
    assert [(raw.transport, raw.dedupe_key) for raw in intake.accepted] == [
        ("poll", "723:2017-03-21T19:54:51"),
        ("poll", "727:2017-03-22T19:28:08"),
    ]
    assert parse_json(intake.accepted[1].body) == json.loads(json.dumps(second), parse_float=Decimal)
    # the first checkpoint is the start itself; the advance comes only after both accepts returned
    assert intake.events[-3:] == [
        ("accept", "723:2017-03-21T19:54:51"),
        ("accept", "727:2017-03-22T19:28:08"),
        ("checkpoint", "2017-03-22T19:28:08+00:00"),
    ]


@respx.mock
async def test_cursor_stays_when_an_accept_fails(waits: list[float]) -> None:
    orders = [
        {"id": 1, "date_modified_gmt": "2017-03-02T00:00:00", "status": "processing"},
        {"id": 2, "date_modified_gmt": "2017-03-03T00:00:00", "status": "processing"},
    ]
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=orders, headers={"X-WP-TotalPages": "1"}))
    intake = RecordingIntake(fail_on_accept=2)
    woo = connector(intake, page_size=10)
    async with woo.client() as client:
        with pytest.raises(RuntimeError, match="store unavailable"):
            await woo.poll_once(Api(client))
    assert intake.checkpoints == {("woo", "modified_since"): "2017-03-01T00:00:00+00:00"}  # still the start


@respx.mock
async def test_the_checkpoint_wins_over_start_from(waits: list[float]) -> None:
    route = respx.get(ORDERS).mock(return_value=httpx.Response(200, json=[], headers={"X-WP-TotalPages": "0"}))
    intake = RecordingIntake()
    intake.checkpoints[("woo", "modified_since")] = "2026-11-20T10:00:00+00:00"
    woo = connector(intake, overlap_seconds=0)
    async with woo.client() as client:
        assert await woo.poll_once(Api(client)) == 0
    assert route.calls.last.request.url.params["modified_after"] == "2026-11-20T10:00:00"
    assert intake.checkpoints[("woo", "modified_since")] == "2026-11-20T10:00:00+00:00"


@respx.mock
async def test_server_errors_are_retried_with_backoff_then_reported(waits: list[float]) -> None:
    respx.get(ORDERS).mock(return_value=httpx.Response(502))
    woo = connector()
    async with woo.client() as client:
        with pytest.raises(_http.ApiError, match=r"still answered HTTP 502 after 5 attempts"):
            await woo.poll_once(Api(client))
    assert len(waits) == 4 and all(0 <= w <= 30 for w in waits)


def test_retry_after_as_http_date() -> None:
    assert _http.retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert _http.retry_after_seconds("soon") is None
    assert _http.retry_after_seconds("99999") == _http.MAX_RETRY_AFTER


@respx.mock
async def test_without_total_pages_header_a_full_page_asks_for_the_next(waits: list[float]) -> None:
    order = {"id": 1, "date_modified_gmt": "2017-03-02T00:00:00", "status": "processing"}
    route = respx.get(ORDERS).mock(side_effect=[httpx.Response(200, json=[order]), httpx.Response(200, json=[])])
    woo = connector()
    async with woo.client() as client:
        assert await woo.poll_once(Api(client)) == 1
    assert [call.request.url.params["page"] for call in route.calls] == ["1", "2"]


@respx.mock
async def test_query_string_auth_for_hosts_that_strip_authorization(waits: list[float]) -> None:
    route = respx.get(ORDERS).mock(return_value=httpx.Response(500))
    woo = connector(auth="query")
    async with woo.client() as client:
        with pytest.raises(_http.ApiError) as caught:
            await woo.poll_once(Api(client))
    request = route.calls.last.request
    assert "Authorization" not in request.headers
    assert (request.url.params["consumer_key"], request.url.params["consumer_secret"]) == ("ck_1", "cs_1")
    assert request.url.params["page"] == "1"
    assert "cs_1" not in str(caught.value)  # the message names the path, never the query
