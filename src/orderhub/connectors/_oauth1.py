"""OAuth 1.0a request signing (RFC 5849, one-legged with a token) as an httpx Auth: Magento integrations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Generator
from urllib.parse import quote

import httpx

_DIGESTS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}


def _pct(text: str) -> str:
    return quote(text, safe="~")  # RFC 3986 unreserved characters stay, everything else is encoded


def signature_base(method: str, url: httpx.URL, oauth: dict[str, str]) -> str:
    """RFC 5849 3.4.1: method, base URI and the sorted, encoded query and oauth parameters."""
    port = f":{url.port}" if url.port is not None and url.port != {"http": 80, "https": 443}.get(url.scheme) else ""
    base_uri = f"{url.scheme.lower()}://{url.host.lower()}{port}{url.path}"
    pairs = [(_pct(k), _pct(v)) for k, v in url.params.multi_items()]
    pairs += [(_pct(k), _pct(v)) for k, v in oauth.items()]
    normalized = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    return "&".join((method.upper(), _pct(base_uri), _pct(normalized)))


class OAuth1(httpx.Auth):
    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        token: str,
        token_secret: str,
        method: str = "HMAC-SHA256",
        version: str | None = "1.0",
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self._consumer = (consumer_key, consumer_secret)
        self._token = (token, token_secret)
        self._method = method
        self._version = version
        self._clock = clock
        self._nonce = nonce

    def authorization(self, method: str, url: httpx.URL) -> str:
        oauth = {
            "oauth_consumer_key": self._consumer[0],
            "oauth_token": self._token[0],
            "oauth_signature_method": self._method,
            "oauth_timestamp": str(int(self._clock())),
            "oauth_nonce": self._nonce(),
        }
        if self._version:
            oauth["oauth_version"] = self._version
        key = f"{_pct(self._consumer[1])}&{_pct(self._token[1])}".encode()
        digest = hmac.new(key, signature_base(method, url, oauth).encode(), _DIGESTS[self._method]).digest()
        oauth["oauth_signature"] = base64.b64encode(digest).decode()
        return "OAuth " + ", ".join(f'{k}="{_pct(v)}"' for k, v in oauth.items())

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.authorization(request.method, request.url)
        yield request
