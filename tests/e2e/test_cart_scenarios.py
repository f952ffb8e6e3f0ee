"""`orderhub run` as a real process against the local fake WooCommerce, BigCommerce, Magento and Shopify,
through what goes wrong in production: the same webhook delivered twice and an older change delivered after a
newer one, a change whose webhook never came (found by the reconciliation poll), credentials revoked
(or an admin token expiring) mid-run, and webhook subscriptions the platform disabled or deleted.
(tests/e2e/test_daemon.py has repeated and stale Shopify webhooks for a webhook-only connector.)

Each daemon also runs a webhook-only WooCommerce connector, `bystander`, to show that one connector's
trouble leaves the others working."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.fakes import bigcommerce as bc_fake
from tests.fakes import magento as mage_fake
from tests.fakes import shopify as shop_fake
from tests.fakes import woocommerce as woo_fake
from tests.fakes._server import serve_in_thread
from tests.fakes.signing import ADOBE_KEYS, adobe_event, adobe_signature, standard_webhook_headers, woo_headers
from tests.helpers import Daemon, free_port, shopify_headers, wait_for, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]
WOO_SECRET, BC_SECRET, SHOP_SECRET = "scenario-woo-secret", "scenario-bc-secret", "scenario-shop-secret"
# a short poll and subscription check, so recoveries come within the waits; no overlap, so a poll reads
# only what changed since the last one
FAST = {"poll_interval": 0.3, "overlap_seconds": 0, "subscription_check_interval": 0.3}


# the daemon --------------------------------------------------------------------------------------


@contextmanager
def daemon_with(tmp_path: Path, connectors: dict[str, dict[str, Any]]) -> Iterator[Daemon]:
    bystander = {"kind": "woocommerce", "webhook_secret": WOO_SECRET}
    port = free_port()
    config = write_config(tmp_path, port, {**connectors, "bystander": bystander})
    daemon = Daemon(config, port)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.kill()


def order_at(daemon: Daemon, order_id: str, revision: int) -> dict[str, Any]:
    """The order once it has reached `revision` (and not beyond: a later one would be a wrong revision)."""

    def ready() -> dict[str, Any] | None:
        response = httpx.get(f"{daemon.url}/api/orders/{order_id}", timeout=5)
        if response.status_code == 200 and response.json()["revision"] >= revision:
            return dict(response.json())
        return None

    found: dict[str, Any] = wait_for(ready, what=f"{order_id} at revision {revision}")
    assert found["revision"] == revision
    return found


def grand_total(order: dict[str, Any]) -> str:
    return str(order["totals"]["grand_total"]["amount"])


def metric(daemon: Daemon, name: str, **labels: str) -> float:
    """One sample of GET /metrics; labels in the order the metric declares them."""
    wanted = name + "{" + ",".join(f'{key}="{value}"' for key, value in labels.items()) + "} "
    for line in httpx.get(f"{daemon.url}/metrics", timeout=5).text.splitlines():
        if line.startswith(wanted):
            return float(line.removeprefix(wanted))
    return 0.0


def restarts(daemon: Daemon, connector: str) -> float:
    return metric(daemon, "orderhub_connector_restarts_total", connector=connector)


def post_webhook(daemon: Daemon, connector: str, body: bytes, headers: dict[str, str]) -> bool:
    """Deliver a webhook; whether the daemon took it as a duplicate."""
    response = httpx.post(f"{daemon.url}/webhooks/{connector}", content=body, headers=headers, timeout=5)
    assert response.status_code == 200, response.text
    return bool(response.json()["duplicate"])


def assert_daemon_serves_others(daemon: Daemon, corpus: Path) -> None:
    """/healthz answers 200 and the bystander connector still takes in a webhook as an order."""
    assert httpx.get(f"{daemon.url}/healthz", timeout=5).status_code == 200
    body = (corpus / "channels" / "woocommerce" / "wc-v3-order-727-retrieve.json").read_bytes()
    assert post_webhook(daemon, "bystander", body, woo_headers(WOO_SECRET, body)) is False
    assert grand_total(order_at(daemon, "bystander:727", 1)) == "29.35"


def log_text(daemon: Daemon) -> str:
    return daemon.log.read_text(errors="replace")


# WooCommerce -------------------------------------------------------------------------------------


def woo_connector(url: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": "woocommerce",
        "base_url": url,
        "consumer_key": woo_fake.KEY,
        "consumer_secret": woo_fake.SECRET,
        "webhook_secret": WOO_SECRET,
        "start_from": "2017-01-01T00:00:00Z",
        **FAST,
        **more,
    }


def woo_revision(order: dict[str, Any], modified_gmt: str, shipping: str, status: str) -> dict[str, Any]:
    """Order 727 changed in the store at `modified_gmt`: another shipping price, and a total that adds up."""
    changed = copy.deepcopy(order)
    lines = sum((Decimal(line["total"]) for line in changed["line_items"]), Decimal(0))
    total = lines + Decimal(shipping) + Decimal(changed["total_tax"])
    changed.update(date_modified_gmt=modified_gmt, shipping_total=shipping, total=str(total), status=status)
    changed["shipping_lines"][0]["total"] = shipping
    return changed


def woo_store(corpus: Path) -> tuple[woo_fake.FakeWooCommerce, dict[str, Any]]:
    """The fake store with orders 727 and 723, and order 727 as it is there."""
    orders = woo_fake.corpus_orders(corpus)
    return woo_fake.FakeWooCommerce(orders=orders), next(o for o in orders if o["id"] == 727)


def woo_change(fake: woo_fake.FakeWooCommerce, changed: dict[str, Any]) -> None:
    fake.orders = [changed if o["id"] == changed["id"] else o for o in fake.orders]


def test_woocommerce_repeated_and_late_webhooks_leave_one_order_at_the_newer_change(
    tmp_path: Path, corpus: Path
) -> None:
    fake, original = woo_store(corpus)
    newer = orjson.dumps(woo_revision(original, "2017-03-22T19:40:00", "12.50", "completed"))
    older = orjson.dumps(woo_revision(original, "2017-03-22T19:35:00", "11.00", "on-hold"))
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"woo": woo_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, "woo:727", 1)) == "29.35"
        # the newer change is delivered twice (WooCommerce retries with a new delivery id), then the older one
        assert post_webhook(daemon, "woo", newer, woo_headers(WOO_SECRET, newer, delivery="41")) is False
        assert post_webhook(daemon, "woo", newer, woo_headers(WOO_SECRET, newer, delivery="42")) is True
        assert post_webhook(daemon, "woo", older, woo_headers(WOO_SECRET, older, delivery="40")) is False
        wait_for(
            lambda: metric(daemon, "orderhub_orders_normalized_total", connector="woo", outcome="stale") == 1,
            what="the older change judged stale",
        )
        got = order_at(daemon, "woo:727", 2)
        assert (grand_total(got), got["totals"]["shipping_total"]["amount"]) == ("31.85", "12.50")
        assert got["status"] == "closed"
        assert metric(daemon, "orderhub_payloads_duplicate_total", connector="woo") == 1


def test_woocommerce_change_without_a_webhook_is_found_by_the_poll(tmp_path: Path, corpus: Path) -> None:
    fake, original = woo_store(corpus)
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"woo": woo_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, "woo:727", 1)) == "29.35"
        woo_change(fake, woo_revision(original, "2017-03-22T19:40:00", "12.50", "completed"))  # no webhook sent
        got = order_at(daemon, "woo:727", 2)
        assert (grand_total(got), got["status"]) == ("31.85", "closed")
        assert grand_total(order_at(daemon, "woo:723", 1)) == "39.00"


def test_woocommerce_revoked_keys_are_reported_and_polling_resumes_once_accepted(tmp_path: Path, corpus: Path) -> None:
    fake, original = woo_store(corpus)
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"woo": woo_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, "woo:727", 1)) == "29.35"
        assert restarts(daemon, "woo") == 0
        fake.revoked = True
        wait_for(lambda: restarts(daemon, "woo") >= 1, what="the woo connector restarted after a 401")
        assert "answered HTTP 401" in log_text(daemon)
        assert_daemon_serves_others(daemon, corpus)

        fake.revoked = False
        woo_change(fake, woo_revision(original, "2017-03-22T19:40:00", "12.50", "completed"))
        assert grand_total(order_at(daemon, "woo:727", 2)) == "31.85"


def test_woocommerce_disabled_and_deleted_webhooks_are_registered_again(tmp_path: Path, corpus: Path) -> None:
    fake, _ = woo_store(corpus)
    address = "http://hub.example.test/webhooks/woo"
    topics = {"order.created", "order.updated", "order.deleted"}

    def all_active() -> bool:
        active = {w["topic"] for w in list(fake.webhooks.values()) if w["status"] == "active"}
        return active == topics and len(fake.webhooks) == 3

    with serve_in_thread(fake.app()) as url:
        with daemon_with(tmp_path, {"woo": woo_connector(url, webhook_url=address)}) as daemon:
            wait_for(all_active, what="the three order webhooks registered")
            assert {w["delivery_url"] for w in fake.webhooks.values()} == {address}
            assert {w["secret"] for w in fake.webhooks.values()} == {WOO_SECRET}
            disabled = fake.webhook("order.created")
            assert disabled is not None
            fake.disable_webhook("order.created")
            fake.delete_webhook("order.updated")
            wait_for(all_active, what="the disabled webhook active again and the deleted one back")
            assert ("PUT", {"id": disabled["id"], "status": "active"}) in fake.webhook_calls
            created = [body["topic"] for method, body in fake.webhook_calls if method == "POST"]
            assert created.count("order.updated") == 2
            log = log_text(daemon)
            assert "webhook subscription was disabled by WooCommerce; set active again" in log
            assert "webhook subscription was deleted on WooCommerce; registered again" in log


# BigCommerce -------------------------------------------------------------------------------------


def bc_connector(url: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": "bigcommerce",
        "store_hash": bc_fake.STORE,
        "access_token": bc_fake.TOKEN,
        "client_secret": BC_SECRET,
        "base_url": url,
        "start_from": "2017-01-01T00:00:00Z",
        **FAST,
        **more,
    }


def bc_revision(order: bc_fake.StoredOrder, modified: str, total_inc_tax: str) -> bc_fake.StoredOrder:
    """The order changed in the store: another date_modified and total_inc_tax, the sub-resources as they were."""
    body = re.sub(rb'"date_modified": "[^"]+"', f'"date_modified": "{modified}"'.encode(), order.body, count=1)
    body = re.sub(rb'"total_inc_tax": "[^"]+"', f'"total_inc_tax": "{total_inc_tax}"'.encode(), body, count=1)
    return bc_fake.StoredOrder(body, order.subs)


def bc_pointer(corpus: Path, name: str, order_id: int) -> bytes:
    """A corpus webhook (order 250) about another order."""
    body = (corpus / "channels" / "bigcommerce" / name).read_bytes()
    return body.replace(b'"id": 250', f'"id": {order_id}'.encode())


def bc_fetches(fake: bc_fake.FakeBigCommerce, order_id: int) -> int:
    path = f"/stores/{bc_fake.STORE}/v2/orders/{order_id}"
    return sum(1 for r in list(fake.requests) if r.path == path and r.status == 200)


NEWER_218 = "Tue, 25 Jun 2019 16:15:35 +0000"


def test_bigcommerce_repeated_and_late_webhooks_leave_one_order_at_the_newer_change(
    tmp_path: Path, corpus: Path
) -> None:
    fake = bc_fake.FakeBigCommerce(orders=bc_fake.corpus_orders(corpus))
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"bc": bc_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, "bc:218", 1)) == "69.8400"
        fake.orders[218] = bc_revision(fake.orders[218], NEWER_218, "74.8400")
        # the hooks point at the order: `updated` (the newer change) twice, then the late `statusUpdated`
        updated = bc_pointer(corpus, "webhook-store_order_created.json", 218).replace(
            b"store/order/created", b"store/order/updated"
        )
        late = bc_pointer(corpus, "webhook-store_order_statusUpdated.json", 218)
        headers = standard_webhook_headers(BC_SECRET, updated, msg_id="msg-updated")
        assert post_webhook(daemon, "bc", updated, headers) is False
        assert post_webhook(daemon, "bc", updated, headers) is True
        assert post_webhook(daemon, "bc", late, standard_webhook_headers(BC_SECRET, late, msg_id="msg-late")) is False
        # every delivery is a pointer fetched as the order is now
        wait_for(lambda: bc_fetches(fake, 218) >= 3, what="the three pointers fetched")
        got = order_at(daemon, "bc:218", 2)
        assert grand_total(got) == "74.8400"
        assert metric(daemon, "orderhub_payloads_duplicate_total", connector="bc") == 1
        assert grand_total(order_at(daemon, "bc:247", 1)) == "1008.74"


def test_bigcommerce_change_without_a_webhook_is_found_by_the_poll(tmp_path: Path, corpus: Path) -> None:
    fake = bc_fake.FakeBigCommerce(orders=bc_fake.corpus_orders(corpus))
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"bc": bc_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, "bc:218", 1)) == "69.8400"
        fake.orders[218] = bc_revision(fake.orders[218], NEWER_218, "74.8400")  # no webhook sent
        assert grand_total(order_at(daemon, "bc:218", 2)) == "74.8400"
        assert bc_fetches(fake, 218) == 0  # the poll's list brought it, not a webhook's fetch


def test_bigcommerce_revoked_token_is_reported_and_polling_resumes_once_accepted(tmp_path: Path, corpus: Path) -> None:
    fake = bc_fake.FakeBigCommerce(orders=bc_fake.corpus_orders(corpus))
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"bc": bc_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, "bc:218", 1)) == "69.8400"
        assert restarts(daemon, "bc") == 0
        fake.revoked = True
        wait_for(lambda: restarts(daemon, "bc") >= 1, what="the bc connector restarted after a 401")
        assert "answered HTTP 401" in log_text(daemon)
        assert_daemon_serves_others(daemon, corpus)

        fake.revoked = False
        fake.orders[218] = bc_revision(fake.orders[218], NEWER_218, "74.8400")
        assert grand_total(order_at(daemon, "bc:218", 2)) == "74.8400"


def test_bigcommerce_deactivated_and_deleted_hooks_are_registered_again(tmp_path: Path, corpus: Path) -> None:
    fake = bc_fake.FakeBigCommerce(orders=bc_fake.corpus_orders(corpus))
    address = "https://hub.example.test/webhooks/bc"
    scopes = {"store/order/created", "store/order/updated", "store/order/statusUpdated", "store/order/refund/created"}

    def all_active() -> bool:
        hooks = list(fake.hooks.values())
        return {h["scope"] for h in hooks if h["is_active"]} == scopes and len(hooks) == len(scopes)

    with serve_in_thread(fake.app()) as url:
        with daemon_with(tmp_path, {"bc": bc_connector(url, webhook_url=address)}) as daemon:
            wait_for(all_active, what="the four order hooks registered")
            assert {h["destination"] for h in fake.hooks.values()} == {address}
            deactivated = fake.hook("store/order/created")
            assert deactivated is not None
            fake.deactivate_hook("store/order/created")
            fake.delete_hook("store/order/updated")
            wait_for(all_active, what="the deactivated hook active again and the deleted one back")
            assert ("PUT", {"id": deactivated["id"], "is_active": True}) in fake.hook_calls
            created = [body["scope"] for method, body in fake.hook_calls if method == "POST"]
            assert created.count("store/order/updated") == 2
            log = log_text(daemon)
            assert "webhook subscription was disabled by BigCommerce; set active again" in log
            assert "webhook subscription was deleted on BigCommerce; registered again" in log


# Magento -----------------------------------------------------------------------------------------


def mage_connector(url: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": "magento",
        "base_url": url,
        "username": mage_fake.USER,
        "password": mage_fake.PASSWORD,
        "start_from": "2017-01-01T00:00:00Z",
        "poll_interval": FAST["poll_interval"],
        "overlap_seconds": 0,
        **more,
    }


def mage_revision(order: mage_fake.StoredOrder, updated_at: str, grand: int) -> mage_fake.StoredOrder:
    """The order changed in the store at `updated_at`, with another (base_)grand_total."""
    changed = mage_fake.variant(order, order.entity_id, updated_at)
    body = re.sub(
        rb'\n  "(base_grand_total|grand_total)": [\d.]+,',
        lambda m: b'\n  "' + m.group(1) + b'": ' + str(grand).encode() + b",",
        changed.body,
    )
    return mage_fake.StoredOrder(body, order.entity_id, updated_at)


def mage_change(fake: mage_fake.FakeMagento, changed: mage_fake.StoredOrder) -> None:
    fake.orders = [changed if o.entity_id == changed.entity_id else o for o in fake.orders]


def mage_event(entity_id: int, event_id: str) -> tuple[bytes, dict[str, str]]:
    body = adobe_event(entity_id, event_id)
    return body, {"x-adobe-digital-signature-1": adobe_signature(body), "Content-Type": "application/json"}


def test_magento_repeated_and_late_events_leave_one_order_at_the_newer_change(tmp_path: Path, corpus: Path) -> None:
    three = mage_fake.corpus_order(corpus)
    fake = mage_fake.FakeMagento(orders=[three])
    events = {"public_key_file": str(ADOBE_KEYS / "public-key.pem")}
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"mage": mage_connector(url, **events)}) as daemon:
        assert grand_total(order_at(daemon, "mage:3", 1)) == "165"
        mage_change(fake, mage_revision(three, "2017-08-25 10:00:00", 170))
        # the event of the newer save twice, then the event of an older save, late; each names the order only
        newer, newer_headers = mage_event(3, "evt-newer")
        late, late_headers = mage_event(3, "evt-older")
        assert post_webhook(daemon, "mage", newer, newer_headers) is False
        assert post_webhook(daemon, "mage", newer, newer_headers) is True
        assert post_webhook(daemon, "mage", late, late_headers) is False
        fetch = f"{mage_fake.REST}/orders/3"
        wait_for(
            lambda: sum(1 for r in list(fake.requests) if r.path == fetch and r.status == 200) >= 3,
            what="the three events' order fetched",
        )
        assert grand_total(order_at(daemon, "mage:3", 2)) == "170"


def test_magento_change_without_an_event_is_found_by_the_poll(tmp_path: Path, corpus: Path) -> None:
    three = mage_fake.corpus_order(corpus)
    fake = mage_fake.FakeMagento(orders=[three])
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"mage": mage_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, "mage:3", 1)) == "165"
        mage_change(fake, mage_revision(three, "2017-08-25 10:00:00", 170))
        assert grand_total(order_at(daemon, "mage:3", 2)) == "170"


def test_magento_admin_token_expiry_and_a_refused_login(tmp_path: Path, corpus: Path) -> None:
    three = mage_fake.corpus_order(corpus)
    fake = mage_fake.FakeMagento(orders=[three])
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"mage": mage_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, "mage:3", 1)) == "165"
        assert fake.issued == 1

        # the admin token expires: the next call gets a 401, a new token is obtained, polling goes on
        fake.expire_tokens()
        mage_change(fake, mage_revision(three, "2017-08-25 10:00:00", 170))
        assert grand_total(order_at(daemon, "mage:3", 2)) == "170"
        assert fake.issued == 2
        assert restarts(daemon, "mage") == 0
        assert "admin token refused; renewing it" in log_text(daemon)

        # the admin password is changed and the token revoked: the login is refused, the connector restarts
        fake.password = "changed-in-the-admin"
        fake.expire_tokens()
        wait_for(lambda: restarts(daemon, "mage") >= 1, what="the mage connector restarted after a refused login")
        assert "Magento refused the admin login" in log_text(daemon)
        assert_daemon_serves_others(daemon, corpus)

        # the password is set back: a new token, and the order changed meanwhile comes in
        fake.password = mage_fake.PASSWORD
        mage_change(fake, mage_revision(three, "2017-08-26 10:00:00", 175))
        assert grand_total(order_at(daemon, "mage:3", 3)) == "175"
        assert fake.issued >= 3


# Shopify -----------------------------------------------------------------------------------------

SHOP_ORDER = 450789469


def shop_connector(url: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": "shopify",
        "shop": "acme.myshopify.com",
        "base_url": url,
        "access_token": shop_fake.TOKEN,
        "api_version": shop_fake.VERSION,
        "webhook_secret": SHOP_SECRET,
        "start_from": "2008-01-01T00:00:00Z",
        "poll_interval": FAST["poll_interval"],
        "overlap_seconds": 0,
        "manage_webhooks": False,
        **more,
    }


def shop_revision(order: dict[str, Any], updated_at: str, total_price: str) -> dict[str, Any]:
    return shop_fake.variant(order, SHOP_ORDER, updated_at, total_price=total_price)


def shop_change(fake: shop_fake.FakeShopify, changed: dict[str, Any]) -> None:
    fake.orders = [changed if o["id"] == changed["id"] else o for o in fake.orders]


def test_shopify_repeated_and_late_webhooks_with_the_api_connected(tmp_path: Path, corpus: Path) -> None:
    original = shop_fake.corpus_order(corpus)
    fake = shop_fake.FakeShopify(orders=[original])
    newer = orjson.dumps(shop_revision(original, "2008-01-11T09:00:00-05:00", "419.94"))
    older = orjson.dumps(shop_revision(original, "2008-01-10T15:00:00-05:00", "414.94"))
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"shop": shop_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, f"shop:{SHOP_ORDER}", 1)) == "409.94"
        topic = "orders/updated"
        assert post_webhook(daemon, "shop", newer, shopify_headers(SHOP_SECRET, newer, "evt-2", topic)) is False
        assert post_webhook(daemon, "shop", newer, shopify_headers(SHOP_SECRET, newer, "evt-2", topic)) is True
        assert post_webhook(daemon, "shop", older, shopify_headers(SHOP_SECRET, older, "evt-1", topic)) is False
        wait_for(
            lambda: metric(daemon, "orderhub_orders_normalized_total", connector="shop", outcome="stale") == 1,
            what="the older change judged stale",
        )
        assert grand_total(order_at(daemon, f"shop:{SHOP_ORDER}", 2)) == "419.94"


def test_shopify_change_without_a_webhook_is_found_by_the_poll(tmp_path: Path, corpus: Path) -> None:
    original = shop_fake.corpus_order(corpus)
    fake = shop_fake.FakeShopify(orders=[original])
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"shop": shop_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, f"shop:{SHOP_ORDER}", 1)) == "409.94"
        shop_change(fake, shop_revision(original, "2008-01-11T09:00:00-05:00", "419.94"))  # no webhook sent
        assert grand_total(order_at(daemon, f"shop:{SHOP_ORDER}", 2)) == "419.94"


def test_shopify_revoked_token_is_reported_and_polling_resumes_once_accepted(tmp_path: Path, corpus: Path) -> None:
    original = shop_fake.corpus_order(corpus)
    fake = shop_fake.FakeShopify(orders=[original])
    with serve_in_thread(fake.app()) as url, daemon_with(tmp_path, {"shop": shop_connector(url)}) as daemon:
        assert grand_total(order_at(daemon, f"shop:{SHOP_ORDER}", 1)) == "409.94"
        assert restarts(daemon, "shop") == 0
        fake.revoked = True
        wait_for(lambda: restarts(daemon, "shop") >= 1, what="the shop connector restarted after a 401")
        assert "answered HTTP 401" in log_text(daemon)
        assert_daemon_serves_others(daemon, corpus)

        fake.revoked = False
        shop_change(fake, shop_revision(original, "2008-01-11T09:00:00-05:00", "419.94"))
        assert grand_total(order_at(daemon, f"shop:{SHOP_ORDER}", 2)) == "419.94"


def test_shopify_deleted_subscription_is_registered_again(tmp_path: Path, corpus: Path) -> None:
    fake = shop_fake.FakeShopify(orders=[shop_fake.corpus_order(corpus)])
    address = "https://hub.example.test/webhooks/shop"
    settings = {"webhook_url": address, "manage_webhooks": True, "webhook_check_interval": 0.3}
    topics = {
        "ORDERS_CREATE",
        "ORDERS_UPDATED",
        "ORDERS_PAID",
        "ORDERS_CANCELLED",
        "ORDERS_FULFILLED",
        "REFUNDS_CREATE",
    }

    def all_present() -> bool:
        subscriptions = list(fake.subscriptions.values())
        return {s["topic"] for s in subscriptions} == topics and len(subscriptions) == len(topics)

    with serve_in_thread(fake.app()) as url:
        with daemon_with(tmp_path, {"shop": shop_connector(url, **settings)}) as daemon:
            wait_for(all_present, what="the six order subscriptions")
            assert {s["callbackUrl"] for s in fake.subscriptions.values()} == {address}
            before = set(fake.subscriptions)
            fake.delete_subscription("ORDERS_UPDATED")
            wait_for(all_present, what="the deleted subscription back")
            assert len(set(fake.subscriptions) - before) == 1
            assert "webhook subscription was deleted on Shopify; registered again" in log_text(daemon)
