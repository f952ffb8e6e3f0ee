"""The Magento connector on its own: settings, admin and integration tokens, a 401 renewing the admin
token once, and the V1/orders search criteria and paging (respx stands in for the shop)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import httpx
import pytest
import respx
from pydantic import ValidationError

from orderhub.connectors import _http
from orderhub.connectors._http import Api
from orderhub.connectors._oauth1 import OAuth1
from orderhub.connectors._rsa import load_public_keys, verify_sha256
from orderhub.connectors.base import NotAnOrder
from orderhub.connectors.magento import MagentoAuthError, MagentoConnector, MagentoSettings
from orderhub.stages.normalize import KeptWithoutOrder
from orderhub.store.base import StoredRaw
from tests.fakes.intake import RecordingIntake
from tests.fakes.signing import ADOBE_KEYS, adobe_event, adobe_signature

SHOP = "https://magento.example.test"
ORDERS = f"{SHOP}/rest/default/V1/orders"
TOKEN = f"{SHOP}/rest/default/V1/integration/admin/token"
F = "searchCriteria[filter_groups][0][filters][0]"


def connector(intake: RecordingIntake | None = None, **settings: Any) -> MagentoConnector:
    values: dict[str, Any] = {
        "name": "mage",
        "kind": "magento",
        "base_url": SHOP,
        "username": "admin",
        "password": "pw-1",
        "start_from": "2017-08-01T00:00:00Z",
        "overlap_seconds": 0,
        "page_size": 1,
        **settings,
    }
    return MagentoConnector(MagentoSettings.model_validate(values), intake or RecordingIntake(), Path("."))


def page(items: list[dict[str, Any]], total: int) -> httpx.Response:
    return httpx.Response(200, json={"items": items, "search_criteria": {}, "total_count": total})


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(_http, "_sleep", record)
    return slept


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": None}, "username and password go together"),
        ({"access_token": "t"}, "either access_token or username"),
        ({"username": None, "password": None}, "give access_token, or username"),
    ],
)
def test_settings_need_exactly_one_way_to_authenticate(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        connector(**changes)


@respx.mock
async def test_admin_token_search_criteria_and_paging_by_total_count(waits: list[float]) -> None:
    login = respx.post(TOKEN).mock(return_value=httpx.Response(200, json="admin-token-1"))
    orders = [
        {"entity_id": 3, "increment_id": "000000003", "updated_at": "2017-08-21 22:22:20", "base_grand_total": 165},
        {"entity_id": 4, "increment_id": "000000004", "updated_at": "2017-08-22 10:00:00", "base_grand_total": 1.10},
    ]
    search = respx.get(ORDERS).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), page([orders[0]], 2), page([orders[1]], 2)]
    )
    intake = RecordingIntake()
    mage = connector(intake)
    async with mage.client() as client:
        assert await mage.poll_once(Api(client)) == 2
    assert waits == [2.0]
    assert login.call_count == 1
    assert login.calls.last.request.content == b'{"username":"admin","password":"pw-1"}'
    requests = [call.request for call in search.calls]
    assert all(r.headers["Authorization"] == "Bearer admin-token-1" for r in requests)
    assert [dict(r.url.params) for r in requests[1:]] == [
        {
            f"{F}[field]": "updated_at",
            f"{F}[value]": "2017-08-01 00:00:00",
            f"{F}[condition_type]": "gt",
            "searchCriteria[sortOrders][0][field]": "updated_at",
            "searchCriteria[sortOrders][0][direction]": "ASC",
            "searchCriteria[pageSize]": "1",
            "searchCriteria[currentPage]": str(number),
        }
        for number in (1, 2)
    ]  # and no third request: Magento would answer page 2 again
    assert [(raw.transport, raw.dedupe_key) for raw in intake.accepted] == [
        ("poll", "3:2017-08-21 22:22:20"),
        ("poll", "4:2017-08-22 10:00:00"),
    ]
    assert intake.accepted[1].body.endswith(b'"base_grand_total":1.1}')
    assert intake.events[-1] == ("checkpoint", "2017-08-22T10:00:00+00:00")


@respx.mock
async def test_a_401_renews_the_admin_token_once(waits: list[float]) -> None:
    login = respx.post(TOKEN).mock(side_effect=[httpx.Response(200, json="first"), httpx.Response(200, json="second")])
    search = respx.get(ORDERS).mock(side_effect=[httpx.Response(401, json={"message": "expired"}), page([], 0)])
    mage = connector()
    async with mage.client() as client:
        assert await mage.poll_once(Api(client)) == 0
    assert login.call_count == 2
    assert [c.request.headers["Authorization"] for c in search.calls] == ["Bearer first", "Bearer second"]


@respx.mock
async def test_a_second_401_is_a_clear_error_for_the_supervisor(waits: list[float]) -> None:
    respx.post(TOKEN).mock(return_value=httpx.Response(200, json="tok"))
    respx.get(ORDERS).mock(return_value=httpx.Response(401, json={"message": "no"}))
    mage = connector()
    async with mage.client() as client:
        with pytest.raises(MagentoAuthError, match=r"Magento refused the token for GET /rest/default/V1/orders"):
            await mage.poll_once(Api(client))


@respx.mock
async def test_a_refused_login_names_the_user_not_the_password(waits: list[float]) -> None:
    respx.post(TOKEN).mock(return_value=httpx.Response(401, json={"message": "sign-in incorrect"}))
    mage = connector()
    async with mage.client() as client:
        with pytest.raises(MagentoAuthError, match="admin login of 'admin'") as caught:
            await mage.poll_once(Api(client))
    assert "pw-1" not in str(caught.value)
    assert "sign-in incorrect" in str(caught.value)  # Magento's own reason, e.g. two-factor auth required


@respx.mock
async def test_the_admin_token_is_renewed_before_it_expires(waits: list[float]) -> None:
    login = respx.post(TOKEN).mock(side_effect=[httpx.Response(200, json="t1"), httpx.Response(200, json="t2")])
    search = respx.get(ORDERS).mock(return_value=page([], 0))
    mage = connector(admin_token_ttl=3600)
    async with mage.client() as client:
        await mage.poll_once(Api(client))
        mage._token_at -= 0.95 * 3600  # most of its lifetime has passed
        await mage.poll_once(Api(client))
    assert login.call_count == 2
    assert [c.request.headers["Authorization"] for c in search.calls] == ["Bearer t1", "Bearer t2"]


@respx.mock
async def test_integration_token_is_a_bearer_and_a_401_says_how_to_enable_it(waits: list[float]) -> None:
    login = respx.post(TOKEN)
    respx.get(ORDERS).mock(return_value=httpx.Response(401, json={"message": "no"}))
    mage = connector(username=None, password=None, access_token="int-tok")
    async with mage.client() as client:
        with pytest.raises(MagentoAuthError, match="enable_integration_as_bearer=1"):
            await mage.poll_once(Api(client))
    assert login.call_count == 0
    assert respx.calls.last.request.headers["Authorization"] == "Bearer int-tok"


# Adobe I/O Events ---------------------------------------------------------------------------------


def events_connector(intake: RecordingIntake | None = None, **settings: Any) -> MagentoConnector:
    values: dict[str, Any] = {
        "public_key_file": "public-key.pem",
        "recipient_client_id": "client-1",
        **settings,
    }
    settings_model = MagentoSettings.model_validate(
        {"name": "mage", "kind": "magento", "base_url": SHOP, "access_token": "int-tok", **values}
    )
    return MagentoConnector(settings_model, intake or RecordingIntake(), ADOBE_KEYS)


def stored(body: bytes, transport: str = "webhook") -> StoredRaw:
    return StoredRaw(1, "0", "mage", "magento", transport, datetime.now(UTC), {}, body, "pending")


@pytest.mark.parametrize("pem", ["public-key.pem", "rsa-public-key.pem"])
def test_rsa_sha256_signatures_in_both_pem_forms(pem: str) -> None:
    (key,) = load_public_keys((ADOBE_KEYS / pem).read_text())
    body = b'{"event_id":"e-1"}'
    signature = base64.b64decode(adobe_signature(body))
    assert verify_sha256(key, body, signature)
    assert not verify_sha256(key, body + b" ", signature)
    (other,) = load_public_keys((ADOBE_KEYS / "other-public-key.pem").read_text())
    assert not verify_sha256(other, body, signature)
    with pytest.raises(ValueError, match="no PEM public key"):
        load_public_keys("not a key")


def test_io_event_is_verified_with_either_signature_and_points_at_an_order() -> None:
    body = adobe_event(3, "evt-1")
    mage = events_connector()
    assert mage.takes_webhooks and not connector().takes_webhooks
    headers = {"x-adobe-digital-signature-1": "bm9wZQ==", "x-adobe-digital-signature-2": adobe_signature(body)}
    verdict = mage.verify_webhook(headers, body)
    assert verdict.ok and verdict.dedupe_key == "evt-1" and verdict.headers == headers
    assert mage.pending.get_nowait() == 3
    with pytest.raises(KeptWithoutOrder):
        mage.mapping_for(stored(body))
    assert mage.mapping_for(stored(b"{}", transport="poll")).name == "magento"
    assert mage.webhook_challenge({"challenge": "c-42"}) == "c-42"
    assert mage.startup_notes() == ["Adobe I/O Events webhooks verified with 1 public key(s)"]


def test_io_event_refusals() -> None:
    body = adobe_event(3, "evt-1")
    mage = events_connector()
    assert mage.verify_webhook({}, body).reason == "missing x-adobe-digital-signature-1/-2 header"
    tampered = mage.verify_webhook({"x-adobe-digital-signature-1": adobe_signature(body)}, body.replace(b"3", b"4"))
    assert not tampered.ok
    elsewhere = adobe_event(3, "evt-2", recipient="client-2")
    wrong = mage.verify_webhook({"x-adobe-digital-signature-1": adobe_signature(elsewhere)}, elsewhere)
    assert wrong.reason == "recipient_client_id 'client-2' is not this connector's"
    other = events_connector(public_key_file="other-public-key.pem")
    assert not other.verify_webhook({"x-adobe-digital-signature-1": adobe_signature(body)}, body).ok
    missing = events_connector(public_key_file="nope.pem")
    assert "cannot use public_key_file" in missing.verify_webhook({"x-adobe-digital-signature-1": "x"}, body).reason
    assert mage.pending.empty()


def test_io_events_without_api_credentials_go_to_the_dlq_saying_why() -> None:
    settings = MagentoSettings.model_validate({"name": "mage", "kind": "magento", "public_key_file": "public-key.pem"})
    mage = MagentoConnector(settings, RecordingIntake(), ADOBE_KEYS)
    body = adobe_event(3, "evt-1")
    assert mage.verify_webhook({"x-adobe-digital-signature-1": adobe_signature(body)}, body).ok
    assert mage.pending.empty()
    with pytest.raises(NotAnOrder, match="order 3 cannot be resolved: the connector has no access_token"):
        mage.mapping_for(stored(body))
    assert "webhook-only" in mage.startup_notes()[-1]


@respx.mock
async def test_an_event_fetches_the_order_as_sent(waits: list[float]) -> None:
    order = b'{"entity_id": 3, "updated_at": "2017-08-21 22:22:20", "base_grand_total": 165.00}'
    route = respx.get(f"{ORDERS}/3").mock(return_value=httpx.Response(200, content=order))
    intake = RecordingIntake()
    mage = events_connector(intake)
    async with mage.client() as client:
        assert await mage.fetch_order(Api(client), 3) is True
    assert route.calls.last.request.headers["Authorization"] == "Bearer int-tok"
    (raw,) = intake.accepted
    assert raw.body == order and raw.dedupe_key == "3:2017-08-21 22:22:20"
    assert raw.headers == {"Resource": "/rest/default/V1/orders/3", "Trigger": "webhook"}


# OAuth 1.0a ---------------------------------------------------------------------------------------


def test_oauth1_signature_matches_the_rfc_5849_example() -> None:
    """RFC 5849 section 1.2: the photos example, HMAC-SHA1, no oauth_version."""
    auth = OAuth1(
        "dpf43f3p2l4k3l03",
        "kd94hf93k423kf44",
        "nnch734d00sl2jdk",
        "pfkkdhi9sl3r4s00",
        method="HMAC-SHA1",
        version=None,
        clock=lambda: 137131202,
        nonce=lambda: "chapoH",
    )
    header = auth.authorization("GET", httpx.URL("http://photos.example.net/photos?file=vacation.jpg&size=original"))
    assert 'oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"' in header


def oauth_checks_out(request: httpx.Request, consumer_secret: str, token_secret: str) -> bool:
    """The server's side of OAuth 1.0a HMAC-SHA256, written here independently of the connector."""
    header = request.headers["Authorization"]
    assert header.startswith("OAuth ")
    oauth = {k: unquote(v.strip('"')) for k, v in (p.strip().split("=", 1) for p in header[6:].split(","))}
    given = oauth.pop("oauth_signature")
    params = sorted(
        (quote(k, safe="~"), quote(v, safe="~")) for k, v in [*parse_qsl(request.url.query.decode()), *oauth.items()]
    )
    base_uri = f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}"
    text = "&".join(["GET", quote(base_uri, safe="~"), quote("&".join(f"{k}={v}" for k, v in params), safe="~")])
    key = f"{quote(consumer_secret, safe='~')}&{quote(token_secret, safe='~')}".encode()
    expected = base64.b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode()
    return oauth["oauth_signature_method"] == "HMAC-SHA256" and hmac.compare_digest(given, expected)


@respx.mock
async def test_integration_signs_every_call_with_oauth1(waits: list[float]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        ok = oauth_checks_out(request, "c-secret", "t-secret")
        return page([], 0) if ok else httpx.Response(401, json={"message": "bad signature"})

    route = respx.get(ORDERS).mock(side_effect=answer)
    oauth = {"consumer_key": "c-key", "consumer_secret": "c-secret", "access_token_secret": "t-secret"}
    mage = connector(username=None, password=None, access_token="t-key", **oauth)
    async with mage.client() as client:
        assert await mage.poll_once(Api(client)) == 0
    header = route.calls.last.request.headers["Authorization"]
    assert 'oauth_consumer_key="c-key"' in header and 'oauth_token="t-key"' in header
    assert "secret" not in header

    wrong = connector(username=None, password=None, access_token="t-key", **{**oauth, "consumer_secret": "other"})
    async with wrong.client() as client:
        with pytest.raises(MagentoAuthError, match=r"OAuth 1\.0a keys or tokens were refused"):
            await wrong.poll_once(Api(client))


def test_oauth1_needs_all_four_parts() -> None:
    with pytest.raises(ValidationError, match=r"OAuth 1\.0a needs consumer_key, consumer_secret, access_token"):
        connector(username=None, password=None, access_token="t", consumer_key="c")
