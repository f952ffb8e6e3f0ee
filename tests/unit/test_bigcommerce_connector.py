"""The BigCommerce connector on its own: Standard Webhooks signatures, pointers, the assembled v2
document, and the min_date_modified poll (respx stands in for the API)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from orderhub.connectors import _http
from orderhub.connectors._http import Api
from orderhub.connectors.base import NotAnOrder
from orderhub.connectors.bigcommerce import BigCommerceConnector, BigCommerceSettings, assemble
from orderhub.mapping import parse_json
from orderhub.stages.normalize import KeptWithoutOrder
from orderhub.store.base import StoredRaw
from tests.fakes.intake import RecordingIntake
from tests.fakes.signing import standard_webhook_headers

API = "https://api.example.test/stores/s1/v2"
SECRET = "client-secret-1"


def connector(intake: RecordingIntake | None = None, **settings: Any) -> BigCommerceConnector:
    values: dict[str, Any] = {
        "name": "bc",
        "kind": "bigcommerce",
        "store_hash": "s1",
        "access_token": "tok-1",
        "client_secret": SECRET,
        "base_url": "https://api.example.test",
        "start_from": "2019-03-01T00:00:00Z",
        "overlap_seconds": 0,
        "page_size": 1,
        **settings,
    }
    return BigCommerceConnector(BigCommerceSettings.model_validate(values), intake or RecordingIntake(), Path("."))


def pointer(corpus: Path) -> bytes:
    return (corpus / "channels" / "bigcommerce" / "webhook-store_order_created.json").read_bytes()


def stored(body: bytes, transport: str = "webhook") -> StoredRaw:
    return StoredRaw(1, "0", "bc", "bigcommerce", transport, datetime.now(UTC), {}, body, "pending")


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(_http, "_sleep", record)
    return slept


@pytest.mark.corpus
def test_standard_webhook_signature_and_the_pointer(corpus: Path) -> None:
    body = pointer(corpus)
    bc = connector()
    headers = standard_webhook_headers(SECRET, body)
    # several signatures may be listed (secret rotation on the sender's side): one match is enough
    headers["webhook-signature"] = "v1,bm90LXRoaXMtb25l " + headers["webhook-signature"]
    verdict = bc.verify_webhook(headers, body)
    assert verdict.ok
    assert verdict.dedupe_key == "dd70c0976e06b67aaf671e73f49dcb79230ebf9d"  # the body's hash
    assert verdict.headers == headers
    assert bc.pending.get_nowait() == 250  # to be fetched by the run loop


@pytest.mark.corpus
def test_forged_stale_or_unsigned_webhooks_are_refused(corpus: Path) -> None:
    body = pointer(corpus)
    bc = connector()
    assert not bc.verify_webhook(standard_webhook_headers("other", body), body).ok
    assert not bc.verify_webhook(standard_webhook_headers(SECRET, body), body.replace(b"250", b"251")).ok
    stale = bc.verify_webhook(standard_webhook_headers(SECRET, body, stamp=int(time.time()) - 3600), body)
    assert not stale.ok and "more than 300 s" in stale.reason
    headers = standard_webhook_headers(SECRET, body)
    headers["webhook-id"] = "msg-2"  # the id is signed too
    assert not bc.verify_webhook(headers, body).ok
    assert not bc.verify_webhook({}, body).ok
    assert bc.pending.empty()


@pytest.mark.corpus
def test_pointer_without_api_credentials_is_a_clear_dlq_entry(corpus: Path) -> None:
    body = pointer(corpus)
    bc = connector(store_hash=None, access_token=None)
    assert bc.verify_webhook(standard_webhook_headers(SECRET, body), body).ok
    assert bc.pending.empty()
    with pytest.raises(NotAnOrder, match="order 250 cannot be resolved: the connector has no store_hash/access_token"):
        bc.mapping_for(stored(body))
    assert any("webhook-only" in note for note in bc.startup_notes())


@pytest.mark.corpus
def test_a_resolved_pointer_makes_no_order_of_its_own(corpus: Path) -> None:
    body = pointer(corpus)
    with pytest.raises(KeptWithoutOrder, match="order 250: the order is fetched and stored on its own"):
        connector().mapping_for(stored(body))
    assert connector().mapping_for(stored(b"{}", transport="poll")).name == "bigcommerce"


def test_assembled_document_keeps_each_body_byte_for_byte() -> None:
    order = b'{"id": 1, "total_inc_tax": "8.0000"}\n'
    parts = {"products": b'[{"id": 5, "price_ex_tax": "1.5000"}]', "coupons": b"[]"}
    assert assemble(order, parts) == (
        b'{"order":{"id": 1, "total_inc_tax": "8.0000"},"products":[{"id": 5, "price_ex_tax": "1.5000"}],'
        b'"shipping_addresses":[],"coupons":[],"taxes":[]}'
    )


@pytest.mark.corpus
@respx.mock
async def test_fetching_an_order_and_its_sub_resources(corpus: Path, waits: list[float]) -> None:
    bc_dir = corpus / "channels" / "bigcommerce"
    order = (bc_dir / "v2-order-218-get.json").read_bytes()
    coupons = (bc_dir / "v2-order-120-coupons.json").read_bytes()
    respx.get(f"{API}/orders/218").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, content=order),
            httpx.Response(200, content=order),
        ]
    )
    respx.get(f"{API}/orders/218/products").mock(return_value=httpx.Response(200, content=b'[{"id": 1}]'))
    respx.get(f"{API}/orders/218/shipping_addresses").mock(return_value=httpx.Response(200, content=b'[{"id": 2}]'))
    respx.get(f"{API}/orders/218/coupons").mock(return_value=httpx.Response(200, content=coupons))
    taxes = respx.get(f"{API}/orders/218/taxes").mock(
        return_value=httpx.Response(
            204, headers={"X-Rate-Limit-Requests-Left": "0", "X-Rate-Limit-Time-Reset-Ms": "1500"}
        )
    )
    intake = RecordingIntake()
    bc = connector(intake)
    async with bc.client() as client:
        assert await bc.fetch_order(Api(client), 218) is True
        # unchanged since: its sub-resources are not fetched again
        assert await bc.fetch_order(Api(client), 218) is False
    assert waits == [3.0, 1.5]  # Retry-After, then the spent quota's reset window
    assert taxes.call_count == 1 and taxes.calls.last.request.headers["X-Auth-Token"] == "tok-1"
    (raw,) = intake.accepted
    assert raw.transport == "poll" and raw.headers == {"Resource": "/v2/orders/218", "Trigger": "webhook"}
    assert raw.dedupe_key == "218:Mon, 11 Mar 2019 15:17:25 +0000"
    assert raw.body == (
        b'{"order":'
        + order.strip()
        + b',"products":[{"id": 1}],"shipping_addresses":[{"id": 2}],"coupons":'
        + coupons.strip()
        + b',"taxes":[]}'
    )


@respx.mock
async def test_a_deleted_order_is_logged_not_fatal(waits: list[float]) -> None:
    respx.get(f"{API}/orders/9").mock(return_value=httpx.Response(404, json=[{"status": 404}]))
    intake = RecordingIntake()
    bc = connector(intake)
    async with bc.client() as client:
        assert await bc.fetch_order(Api(client), 9) is False
    assert intake.accepted == []


@pytest.mark.corpus
@respx.mock
async def test_poll_pages_by_min_date_modified_until_204(corpus: Path, waits: list[float]) -> None:
    listed = (corpus / "channels" / "bigcommerce" / "v2-orders-list.json").read_bytes()  # order 100
    orders = respx.get(f"{API}/orders").mock(side_effect=[httpx.Response(200, content=listed), httpx.Response(204)])
    for sub in ("products", "shipping_addresses", "coupons", "taxes"):
        respx.get(f"{API}/orders/100/{sub}").mock(return_value=httpx.Response(204))
    intake = RecordingIntake()
    bc = connector(intake, start_from="2018-12-01T00:00:00Z")
    async with bc.client() as client:
        assert await bc.poll_once(Api(client)) == 1
    assert [dict(call.request.url.params) for call in orders.calls] == [
        {"min_date_modified": "2018-12-01T00:00:00+00:00", "sort": "date_modified:asc", "page": "1", "limit": "1"},
        {"min_date_modified": "2018-12-01T00:00:00+00:00", "sort": "date_modified:asc", "page": "2", "limit": "1"},
    ]
    (raw,) = intake.accepted
    assert raw.headers["Trigger"] == "poll"
    document = parse_json(raw.body)
    assert document["order"] == parse_json(listed)[0]
    assert document["products"] == [] and document["taxes"] == []
    assert intake.events[-1] == ("checkpoint", "2018-12-05T20:16:55+00:00")
